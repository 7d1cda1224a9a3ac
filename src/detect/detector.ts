import { type DataElement, asciiValue, valueOf } from '../dicom/dataset.js';
import { Tags } from '../dicom/tag.js';

/** Evidence that an instance may carry PHI in its pixels. Contains no values from the input. */
export interface Finding {
  readonly detector: string;
  readonly rule: string;
  readonly reason: string;
}

/** The header facts detectors look at (codes and UIDs: not PHI). */
export interface InstanceFacts {
  readonly sopClassUid: string;
  readonly modality: string;
  readonly imageType: readonly string[];
  /** 'YES', 'NO' or '' when absent. */
  readonly burnedInAnnotation: string;
  readonly manufacturer: string;
  readonly modelName: string;
}

/** One link of the detection chain. A pixel-based (OCR) detector implements the same interface. */
export interface Detector {
  readonly name: string;
  inspect(facts: InstanceFacts, dataset: readonly DataElement[]): Promise<readonly Finding[]>;
}

export function instanceFacts(dataset: readonly DataElement[]): InstanceFacts {
  const text = (tag: number): string => (valueOf(dataset, tag)?.toString('latin1') ?? '').replace(/[\0 ]+$/, '').trim();
  return {
    sopClassUid: asciiValue(dataset, Tags.SOPClassUID) ?? '',
    modality: text(Tags.Modality).toUpperCase(),
    imageType: text(Tags.ImageType).split('\\').map((s) => s.trim().toUpperCase()).filter(Boolean),
    burnedInAnnotation: text(Tags.BurnedInAnnotation).toUpperCase(),
    manufacturer: text(Tags.Manufacturer),
    modelName: text(Tags.ManufacturerModelName),
  };
}

/** Runs every detector; all findings are kept so the quarantine sidecar shows each reason. */
export async function runDetectors(detectors: readonly Detector[], dataset: readonly DataElement[]): Promise<Finding[]> {
  const facts = instanceFacts(dataset);
  const findings: Finding[] = [];
  for (const d of detectors) findings.push(...(await d.inspect(facts, dataset)));
  return findings;
}
