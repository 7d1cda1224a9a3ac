import { kernelCopyAvailable } from '../../src/fs/kernel-copy.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { buildFileMeta } from '../../src/dicom/file-meta.js';
import { type ReadOptions, readDicomFile } from '../../src/dicom/read-file.js';
import { Tags } from '../../src/dicom/tag.js';
import { writePart10File } from '../../src/dicom/write-file.js';
import { deidentify, instanceUids } from '../../src/deid/deidentify.js';
import { COPY_CHUNK } from '../../src/fs/file-io.js';
import { resolveProfile } from '../../src/deid/profile.js';
import { EXPECTED_FAILURES, PYDICOM_TEST_FILES, REPO, SAMPLES, dcmFiles } from '../helpers/corpus.js';

/**
 * The production path parses only up to the pixel data and streams the pixel bytes from the
 * input (or, for a small file, slices them from its single read); the reference path reads the
 * whole file into memory and holds the pixel data as a value. All must write the same bytes.
 */
describe('streamed pixel data', () => {
  const out = mkdtempSync(join(tmpdir(), 'deid-stream-'));
  const keys = { pseudonym: 'S_001', dateShiftDays: -10, uidSecret: Buffer.alloc(32, 3) };

  type ReadPath = 'streamed' | 'held-whole' | 'in-memory';
  const readOptions: Record<ReadPath, ReadOptions> = {
    streamed: { holdWholeBelow: 0 }, 'held-whole': { holdWholeBelow: Number.MAX_SAFE_INTEGER }, 'in-memory': { inMemory: true },
  };

  async function deidentifyTo(path: string, target: string, how: ReadPath): Promise<boolean> {
    const file = await readDicomFile(path, readOptions[how]);
    if ('missing' in instanceUids(file.dataset)) return false;
    const result = deidentify(file.dataset, resolveProfile([]), keys);
    const uid = (tag: number): string => asciiValue(result.dataset, tag) ?? '';
    await writePart10File(target, {
      meta: buildFileMeta(uid(Tags.SOPClassUID), uid(Tags.SOPInstanceUID), file.transferSyntax.uid),
      dataset: result.dataset, transferSyntax: file.transferSyntax, sourceEncoding: file.encoding, sourcePath: file.sourcePath,
      ...(file.bytes ? { sourceBytes: file.bytes } : {}),
    });
    return true;
  }

  it('gives byte-identical outputs (header and pixels) to reading the whole file, in every syntax', async () => {
    let compared = 0;
    for (const f of [...dcmFiles(PYDICOM_TEST_FILES), ...dcmFiles(SAMPLES)].filter((x) => !(basename(x) in EXPECTED_FAILURES))) {
      const target = (how: ReadPath): string => join(out, `${basename(f)}.${how}`);
      if (!(await deidentifyTo(f, target('in-memory'), 'in-memory'))) continue;
      const reference = readFileSync(target('in-memory'));
      for (const how of ['streamed', 'held-whole'] as const) {
        expect(await deidentifyTo(f, target(how), how)).toBe(true);
        expect(readFileSync(target(how)).equals(reference), `${basename(f)} ${how}`).toBe(true);
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('copies the pixel data of a multi-frame file larger than a copy chunk (in the kernel) byte for byte', async () => {
    const corpus = join(out, 'corpus');
    execFileSync(process.execPath, [join(REPO, 'scripts', 'make-bench-corpus.mjs'), corpus, '--small', '0', '--large', '9'], { stdio: 'ignore' });
    const big = join(corpus, 'large', 'multiframe-9MB.dcm');
    expect(statSync(big).size).toBeGreaterThan(2 * COPY_CHUNK);
    for (const how of ['in-memory', 'streamed'] as const) expect(await deidentifyTo(big, join(out, `big.${how}`), how)).toBe(true);
    expect((await readDicomFile(big)).bytes).toBeUndefined(); // the default read streams it
    expect(readFileSync(join(out, 'big.streamed')).equals(readFileSync(join(out, 'big.in-memory')))).toBe(true);
  });

  it('really streams: above the hold-whole size the reader holds no pixel bytes', async () => {
    const mr = join(PYDICOM_TEST_FILES, 'MR_small.dcm');
    const f = await readDicomFile(mr, { holdWholeBelow: statSync(mr).size - 1 });
    const pixels = f.dataset.find((e) => e.tag === Tags.PixelData);
    expect(pixels?.kind).toBe('bulk');
    expect(f.bytes).toBeUndefined();
    const small = await readDicomFile(mr, { holdWholeBelow: statSync(mr).size });
    expect(small.bytes?.length).toBe(statSync(mr).size);
    expect(small.dataset.find((e) => e.tag === Tags.PixelData)?.kind).toBe('bulk');
    // By default, where the kernel copies, even a small file's pixel data stays in the file.
    expect((await readDicomFile(mr)).bytes === undefined).toBe(kernelCopyAvailable);
    const buffered = await readDicomFile(join(PYDICOM_TEST_FILES, 'MR_small.dcm'), { inMemory: true });
    expect(buffered.dataset.find((e) => e.tag === Tags.PixelData)?.kind).toBe('value');
  });
});
