import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { PYDICOM_TEST_FILES, SAMPLES, dcmFiles, requireCorpus } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';

/**
 * A QA test's world: a config whose project's outbox is filled by a real `anonymize` run of the
 * built CLI over the repository's samples and some of pydicom's files (with names and IDs).
 */
export interface QaWorld {
  readonly root: string;
  readonly config: string;
  readonly store: string;
  readonly outbox: string;
  readonly inputs: readonly string[];
}

export const QA_INPUTS = (): string[] => {
  requireCorpus();
  return [
    ...dcmFiles(SAMPLES),
    ...['CT_small.dcm', 'MR_small.dcm', 'MR_small_RLE.dcm', 'rtplan.dcm', 'rtdose_1frame.dcm', 'JPEG2000.dcm', 'liver_1frame.dcm', 'reportsi.dcm', 'image_dfl.dcm', 'SC_rgb_small_odd.dcm']
      .map((n) => join(PYDICOM_TEST_FILES, n)),
  ].filter((p) => existsSync(p));
};

export function makeQaWorld(label: string, project: Record<string, unknown> = {}, inputs: readonly string[] = QA_INPUTS()): QaWorld {
  const root = mkdtempSync(join(tmpdir(), `deid-qa-${label}-`));
  const store = join(root, 'store.json');
  const outbox = join(root, 'out');
  const config = join(root, 'config.json');
  writeFileSync(config, JSON.stringify({
    store,
    projects: [{
      name: 'QA', prefix: 'QA_', inbox: join(root, 'inbox'), outbox, quarantine: join(root, 'q'), failed: join(root, 'f'),
      dateShiftDays: -30, pixels: { inspect: { CT: 'header', MR: 'header', OT: 'header' } }, ...project,
    }],
  }));
  return { root, config, store, outbox, inputs };
}

/** Runs the built CLI's anonymize over the world's inputs; returns its summary text. */
export function anonymizeWorld(w: QaWorld, inputs: readonly string[] = w.inputs): string {
  const r = runCli(['anonymize', '--config', w.config, '--no-progress', ...inputs]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/**
 * Every identifier of the inputs that must never appear in QA's files: patient names (and their
 * components), IDs, birth dates, accession numbers and the original UIDs.
 */
export async function inputIdentifiers(files: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const tags = [Tags.PatientName, Tags.PatientID, tagOf(0x0010, 0x0030), tagOf(0x0008, 0x0050), Tags.StudyInstanceUID, Tags.SOPInstanceUID, tagOf(0x0020, 0x000e)];
  for (const f of files) {
    const ds = (await readDicomFile(f).catch(() => undefined))?.dataset;
    if (!ds) continue;
    for (const t of tags) {
      const v = asciiValue(ds, t)?.trim();
      if (!v) continue;
      for (const part of [v, ...v.split(/[\^=]/)]) if (part.trim().length >= 4) found.add(part.trim());
    }
  }
  return [...found];
}
