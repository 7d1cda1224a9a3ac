// The cleaner on real files of every syntax in pydicom's corpus, with the text finder replaced by
// a scripted one (the real OCR is in pixel-text-cleaning.test.ts): only the bytes of the padded
// boxes change, in every frame; the attributes that describe the pixels tell the truth; rounds
// repeat while text is found, and what cannot be cleaned and shown clean is refused.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asciiValue, valueOf } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { type FindText, MAX_ROUNDS, cleanPixelText } from '../../src/detect/pixel-text-cleaner.js';
import { paddedRect, ringFill } from '../../src/pixels/blank-boxes.js';
import { type DecodedFrame, openPixelFrames } from '../../src/pixels/decode-frame.js';
import { buildFileMeta } from '../../src/dicom/file-meta.js';
import { writePart10File } from '../../src/dicom/write-file.js';
import { PYDICOM_TEST_FILES, REPO } from '../helpers/corpus.js';
import { dciodvfyErrors } from '../helpers/tools.js';

const nothing: FindText = async () => [];

async function framesOf(file: Awaited<ReturnType<typeof readDicomFile>>): Promise<DecodedFrame[]> {
  const p = await openPixelFrames(file);
  try {
    const out: DecodedFrame[] = [];
    for (let i = 0; i < p.frameCount; i++) out.push(await p.frame(i));
    return out;
  } finally {
    await p.close();
  }
}

const BOX = { frame: 0, x: 5, y: 4, width: 30, height: 9, confidence: 0.9 };

const CASES: Array<[file: string, photometric: string]> = [
  ['CT_small.dcm', 'MONOCHROME2'], // native, 16-bit signed
  ['image_dfl.dcm', 'MONOCHROME2'], // deflated
  ['MR_small_RLE.dcm', 'MONOCHROME2'],
  ['SC_rgb_rle_2frame.dcm', 'RGB'], // two colour frames
  ['SC_rgb_jpeg_gdcm.dcm', 'RGB'], // JPEG lossless
  ['SC_rgb_jpeg_lossy_gdcm.dcm', 'RGB'], // JPEG baseline, RGB
  ['SC_rgb_jpeg_dcmtk.dcm', 'YBR_FULL'], // JPEG baseline, YBR_FULL
  ['SC_rgb_jpeg_dcmd.dcm', 'RGB'], // implicit VR little endian in, explicit out
  ['SC_ybr_full_422_uncompressed.dcm', 'YBR_FULL'], // the chroma of each pair of pixels comes back repeated
  ['JPGExtended.dcm', 'MONOCHROME2'], // 12-bit JPEG
  ['MR_small_jpeg_ls_lossless.dcm', 'MONOCHROME2'],
  ['MR_small_jp2klossless.dcm', 'MONOCHROME2'],
  ['rtdose.dcm', 'MONOCHROME2'], // 32-bit, 15 frames
];

describe('cleanPixelText', () => {
  for (const [name, photometric] of CASES) {
    it(`blanks the padded box in every frame and nothing else: ${name}`, async () => {
      const input = await readDicomFile(join(PYDICOM_TEST_FILES, name));
      const before = await framesOf(input);
      const r = await cleanPixelText(input, [BOX], { find: nothing });
      if (r.kind !== 'cleaned') throw new Error(r.reason);
      expect(r.rounds).toBe(1);
      expect(r.file.transferSyntax.uid).toBe('1.2.840.10008.1.2.1');
      const ds = r.file.dataset;
      expect(asciiValue(ds, tagOf(0x0028, 0x0004))).toBe(photometric);
      expect(asciiValue(ds, Tags.BurnedInAnnotation)).toBe('NO');
      expect(ds.find((e) => e.tag === tagOf(0x7fe0, 0x0001))).toBeUndefined();
      if (before[0]?.samplesPerPixel === 3) expect(valueOf(ds, tagOf(0x0028, 0x0006))?.readUInt16LE(0)).toBe(0);
      const pixels = ds.find((e) => e.tag === Tags.PixelData);
      expect(pixels?.kind === 'value' && pixels.vr).toBe((before[0]?.bitsAllocated ?? 0) > 8 ? 'OW' : 'OB');

      const after = await framesOf(r.file);
      expect(after).toHaveLength(before.length);
      for (const [i, b] of before.entries()) {
        const a = after[i] as DecodedFrame;
        expect([a.rows, a.columns, a.samplesPerPixel, a.bitsAllocated, a.bitsStored, a.pixelRepresentation]).toEqual([b.rows, b.columns, b.samplesPerPixel, b.bitsAllocated, b.bitsStored, b.pixelRepresentation]);
        const rect = paddedRect(BOX, b.columns, b.rows);
        const fill = ringFill(b, rect);
        const size = fill.length;
        let changed = 0;
        for (let y = 0; y < b.rows; y++) {
          for (let x = 0; x < b.columns; x++) {
            const at = (y * b.columns + x) * size;
            const inBox = x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
            const want = inBox ? fill : b.data.subarray(at, at + size);
            if (!a.data.subarray(at, at + size).equals(want)) changed++;
          }
        }
        expect(changed, `frame ${i}: pixels that differ from the input outside the box, or from the fill inside it`).toBe(0);
      }
    });
  }

  it('says Lossy Image Compression 01 for pixels decoded from a lossy syntax that did not say so, and keeps what an input says', async () => {
    const read = await readDicomFile(join(PYDICOM_TEST_FILES, 'SC_rgb_jpeg_dcmtk.dcm'));
    const lossy = { ...read, dataset: read.dataset.filter((e) => e.tag !== tagOf(0x0028, 0x2110)) };
    const r = await cleanPixelText(lossy, [BOX], { find: nothing });
    expect(r.kind === 'cleaned' && asciiValue(r.file.dataset, tagOf(0x0028, 0x2110))).toBe('01');
    const lossless = await cleanPixelText(await readDicomFile(join(PYDICOM_TEST_FILES, 'MR_small_jpeg_ls_lossless.dcm')), [BOX], { find: nothing });
    expect(lossless.kind === 'cleaned' && lossless.file.dataset.some((e) => e.tag === tagOf(0x0028, 0x2110) && asciiValue(lossless.file.dataset, e.tag) === '01')).toBe(false);
  });

  it('looks again after each round, blanks what it finds next, and gives up after three', async () => {
    const input = await readDicomFile(join(PYDICOM_TEST_FILES, 'CT_small.dcm'));
    const seen: number[] = [];
    let calls = 0;
    // Text left beside the first box in the first look, none in the second.
    const once: FindText = async (frame) => {
      seen.push(frame.rows);
      return calls++ === 0 ? [{ x: 40, y: 4, width: 10, height: 9 }] : [];
    };
    const r = await cleanPixelText(input, [BOX], { find: once });
    expect(r.kind === 'cleaned' && r.rounds).toBe(2);
    expect(r.kind === 'cleaned' && r.boxes.map((b) => b.x)).toEqual([5, 40]);
    expect(seen).toHaveLength(2);

    let looks = 0;
    const stubborn: FindText = async () => { looks++; return [{ x: 60, y: 60, width: 10, height: 9 }]; };
    const refused = await cleanPixelText(input, [BOX], { find: stubborn });
    expect(refused).toEqual({ kind: 'refused', reason: `text is still found after ${MAX_ROUNDS} rounds of cleaning` });
    expect(looks).toBe(MAX_ROUNDS);
  });

  it('looks at every frame after cleaning, not only the frames the detector sampled', async () => {
    const input = await readDicomFile(join(PYDICOM_TEST_FILES, 'rtdose.dcm'));
    const looked: number[] = [];
    let frame = 0;
    await cleanPixelText(input, [BOX], { find: async () => { looked.push(frame++); return []; } });
    expect(looked).toHaveLength(15);
  });

  it('refuses what it cannot clean and show clean, with the reason', async () => {
    const refused = async (name: string) => cleanPixelText(await readDicomFile(join(PYDICOM_TEST_FILES, name)), [BOX], { find: nothing });
    expect(await refused('MR_small_bigendian.dcm')).toEqual({ kind: 'refused', reason: 'big endian pixel data is not cleaned' });
    expect(await refused('liver_1frame.dcm')).toEqual({ kind: 'refused', reason: '1-bit pixel data is not cleaned' });
  });
});

describe('cleaned pixels re-encoded losslessly (cleanedSyntax)', () => {
  const out = mkdtempSync(join(tmpdir(), 'deid-clean-reencode-'));
  for (const [name, syntax, uid] of [
    ['CT_small.dcm', 'rle', '1.2.840.10008.1.2.5'],
    ['CT_small.dcm', 'jpeg-ls', '1.2.840.10008.1.2.4.80'],
    ['SC_rgb_rle_2frame.dcm', 'jpeg-ls', '1.2.840.10008.1.2.4.80'],
    ['SC_ybr_full_422_uncompressed.dcm', 'rle', '1.2.840.10008.1.2.5'],
    ['rtdose.dcm', 'rle', '1.2.840.10008.1.2.5'], // 32-bit, 15 frames
    // 32-bit samples are past JPEG-LS (16 at most): the cleaned pixels stay native.
    ['rtdose.dcm', 'jpeg-ls', '1.2.840.10008.1.2.1'],
  ] as const) {
    it(`${name} as ${syntax}: decodes (ours and GDCM's) to exactly the native cleaned pixels, and reads strictly`, async () => {
      const input = await readDicomFile(join(PYDICOM_TEST_FILES, name));
      const native = await cleanPixelText(input, [BOX], { find: nothing });
      const encoded = await cleanPixelText(input, [BOX], { find: nothing, syntax });
      if (native.kind !== 'cleaned' || encoded.kind !== 'cleaned') throw new Error('not cleaned');
      expect(encoded.file.transferSyntax.uid).toBe(uid);
      const want = (await framesOf(native.file)).map((f) => f.data);

      const path = join(out, `${name}-${syntax}.dcm`);
      const sop = (tag: number): string => asciiValue(encoded.file.dataset, tag) ?? '';
      await writePart10File(path, {
        meta: buildFileMeta(sop(Tags.SOPClassUID), sop(Tags.SOPInstanceUID), encoded.file.transferSyntax.uid),
        dataset: encoded.file.dataset, transferSyntax: encoded.file.transferSyntax, sourceEncoding: encoded.file.encoding,
        sourcePath: encoded.file.sourcePath, ...(encoded.file.bytes ? { sourceBytes: encoded.file.bytes } : {}),
      });
      expect((await framesOf(await readDicomFile(path))).map((f) => f.data)).toEqual(want);
      // Strictly read, or refused only for what the input itself carries (rtdose.dcm has a malformed UID).
      const source = join(PYDICOM_TEST_FILES, name);
      const strict = JSON.parse(execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'strict_read.py'), path, source], { encoding: 'utf8' })) as Record<string, string>;
      expect(strict[path]).toBe(strict[source]);
      const reference = JSON.parse(execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'pixel_reference.py'), path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Record<string, { frames?: string[]; error?: string }>;
      expect(reference[path]?.error).toBeUndefined();
      // pydicom hands RGB back interleaved and YBR as stored: the same samples as ours.
      expect(reference[path]?.frames).toEqual(want.map((d) => createHash('sha256').update(d).digest('hex')));
      expect(dciodvfyErrors(path).filter((e) => /Pixel|Encapsulat|Transfer|Fragment|Photometric/i.test(e))).toEqual([]);
    });
  }
});
