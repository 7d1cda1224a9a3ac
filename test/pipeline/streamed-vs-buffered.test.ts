import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { buildFileMeta } from '../../src/dicom/file-meta.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags } from '../../src/dicom/tag.js';
import { writePart10File } from '../../src/dicom/write-file.js';
import { deidentify, instanceUids } from '../../src/deid/deidentify.js';
import { resolveProfile } from '../../src/deid/profile.js';
import { EXPECTED_FAILURES, PYDICOM_TEST_FILES, SAMPLES, dcmFiles } from '../helpers/corpus.js';

/**
 * The production path parses only up to the pixel data and streams the pixel bytes from the
 * input; the reference path reads the whole file into memory. Both must write the same bytes.
 */
describe('streamed pixel data', () => {
  const out = mkdtempSync(join(tmpdir(), 'deid-stream-'));
  const keys = { pseudonym: 'S_001', dateShiftDays: -10, uidSecret: Buffer.alloc(32, 3) };

  async function deidentifyTo(path: string, target: string, inMemory: boolean): Promise<boolean> {
    const file = await readDicomFile(path, { inMemory });
    if ('missing' in instanceUids(file.dataset)) return false;
    const result = deidentify(file.dataset, resolveProfile([]), keys);
    const uid = (tag: number): string => asciiValue(result.dataset, tag) ?? '';
    await writePart10File(target, {
      meta: buildFileMeta(uid(Tags.SOPClassUID), uid(Tags.SOPInstanceUID), file.transferSyntax.uid),
      dataset: result.dataset, transferSyntax: file.transferSyntax, sourcePath: file.sourcePath,
    });
    return true;
  }

  it('gives byte-identical outputs (header and pixels) to reading the whole file, in every syntax', async () => {
    let compared = 0;
    for (const f of [...dcmFiles(PYDICOM_TEST_FILES), ...dcmFiles(SAMPLES)].filter((x) => !(basename(x) in EXPECTED_FAILURES))) {
      const streamed = join(out, `${basename(f)}.streamed`);
      const buffered = join(out, `${basename(f)}.buffered`);
      if (!(await deidentifyTo(f, streamed, false))) continue;
      await deidentifyTo(f, buffered, true);
      expect(readFileSync(streamed).equals(readFileSync(buffered)), basename(f)).toBe(true);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('really streams: the production reader holds no pixel bytes', async () => {
    const f = await readDicomFile(join(PYDICOM_TEST_FILES, 'MR_small.dcm'));
    const pixels = f.dataset.find((e) => e.tag === Tags.PixelData);
    expect(pixels?.kind).toBe('bulk');
    const buffered = await readDicomFile(join(PYDICOM_TEST_FILES, 'MR_small.dcm'), { inMemory: true });
    expect(buffered.dataset.find((e) => e.tag === Tags.PixelData)?.kind).toBe('value');
  });
});
