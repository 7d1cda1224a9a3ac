import { type DataElement, asciiValue, valueOf } from '../dicom/dataset.js';
import type { DicomFile } from '../dicom/read-file.js';
import { Tags } from '../dicom/tag.js';

/** Evidence that an instance may carry PHI in its pixels. Contains no values from the input. */
export interface Finding {
  readonly detector: string;
  readonly rule: string;
  readonly reason: string;
  /** Where text was seen (pixel detectors): frame, rectangle in pixels, confidence. Never the text. */
  readonly boxes?: readonly TextBox[];
}

export interface TextBox {
  readonly frame: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly confidence: number;
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

/** One link of the detection chain: header rules, and the pixel (OCR) detector, which also reads `file`'s pixels. */
export interface Detector {
  readonly name: string;
  inspect(facts: InstanceFacts, dataset: readonly DataElement[], file?: DicomFile): Promise<readonly Finding[]>;
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

/**
 * Runs the detectors in order until one finds something: its findings hold the instance. The
 * header rules come first and cost nothing; the pixel detector (0.2–1.5 s a frame) runs only on
 * what they let through.
 */
export async function runDetectors(detectors: readonly Detector[], dataset: readonly DataElement[], file?: DicomFile): Promise<Finding[]> {
  const facts = instanceFacts(dataset);
  for (const d of detectors) {
    const findings = await d.inspect(facts, dataset, file);
    if (findings.length > 0) return [...findings];
  }
  return [];
}
