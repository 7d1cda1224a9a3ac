// Our frame decoder against pydicom (GDCM for JPEG, JPEG-LS and JPEG 2000; its own decoders for
// RLE and native data): every frame of every image in pydicom's corpus, the vendor files and our
// samples must decode to the same samples, byte for byte.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { openPixelFrames } from '../../src/pixels/decode-frame.js';
import { PYDICOM_TEST_FILES, REPO, SAMPLES, dcmFiles, vendorFiles } from '../helpers/corpus.js';

const reference = (paths: string[]): Record<string, { frames?: string[]; error?: string; photometric?: string }> =>
  JSON.parse(execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'pixel_reference.py'), ...paths], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] })) as never;

/**
 * Syntaxes the corpus lacks, made by dcmtk from real images: JPEG lossless (.57, .70), JPEG-LS
 * and RLE, from pydicom's 16-bit CT (signed) and MR images and its 8-bit RGB image of odd size (our
 * samples carry bits above Bits Stored on purpose, which a 12-bit codestream drops).
 */
function encodedByDcmtk(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'deid-pixels-'));
  const sources = [join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(PYDICOM_TEST_FILES, 'MR_small.dcm'), join(PYDICOM_TEST_FILES, 'SC_rgb_small_odd.dcm')].filter((f) => existsSync(f));
  const out: string[] = [];
  for (const [i, source] of sources.entries()) {
    for (const [tool, flags, tag] of [['dcmcjpeg', ['+el'], 'jpeg57'], ['dcmcjpeg', ['+e1'], 'jpeg70'], ['dcmcjpls', ['+el'], 'jpls'], ['dcmcrle', [], 'rle']] as const) {
      const to = join(dir, `${i}-${tag}.dcm`);
      execFileSync(tool, [...flags, source, to], { stdio: 'ignore' });
      out.push(to);
    }
  }
  return out;
}

const corpus = (): string[] => [...dcmFiles(PYDICOM_TEST_FILES), ...vendorFiles(), ...dcmFiles(SAMPLES), ...encodedByDcmtk()];

/**
 * Where we differ from pydicom+GDCM, on purpose, and what is checked instead. Samples are the
 * stored words; Bits Stored and the sign are applied by the detector's normalisation.
 */
const KNOWN: Record<string, { why: string; check: (frames: Buffer[], want: string[]) => void }> = {
  'J2K_pixelrep_mismatch.dcm': {
    why: 'a signed 13-bit codestream: GDCM sign-extends above Bits Stored, OpenJPEG leaves the stored bits',
    check: (frames, want) => {
      const extended = frames.map((f) => {
        const out = Buffer.from(f);
        for (let i = 0; i < out.length; i += 2) out.writeInt16LE(((out.readUInt16LE(i) & 0x1fff) << 19) >> 19, i);
        return createHash('sha256').update(out).digest('hex');
      });
      expect(extended).toEqual(want);
    },
  },
};
/** Refused, with the reason, where pydicom+GDCM decodes something. */
const REFUSED: Record<string, RegExp> = {
  // pydicom's test of its fragment parser: a made-up codestream whose SIZ marker holds FFFE,E0DD.
  'JPEG2000-embedded-sequence-delimiter.dcm': /\[pixels\] malformed: frame 0 does not decode/,
};

describe('frame decoding', () => {
  it('matches pydicom+GDCM on every frame of every image it can decode', async () => {
    const files = corpus();
    const ref = reference(files);
    const report: string[] = [];
    let compared = 0;
    const syntaxes = new Set<string>();
    for (const path of files) {
      const want = ref[path];
      if (!want?.frames) continue;
      const name = path.split('/').pop() as string;
      const decoded: Buffer[] = [];
      try {
        const file = await readDicomFile(path);
        const frames = await openPixelFrames(file);
        try {
          for (let i = 0; i < frames.frameCount; i++) decoded.push((await frames.frame(i)).data);
        } finally {
          await frames.close();
        }
        syntaxes.add(file.transferSyntax.uid);
      } catch (e) {
        if (!REFUSED[name]?.test((e as Error).message)) report.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      compared += 1;
      const got = decoded.map((d) => createHash('sha256').update(d).digest('hex'));
      const known = KNOWN[name];
      if (known) known.check(decoded, want.frames);
      else if (JSON.stringify(got) !== JSON.stringify(want.frames)) report.push(`${name}: differs (${want.photometric})`);
    }
    expect(report).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(60);
    // Every syntax the corpus holds was compared: native (implicit, explicit, big endian,
    // deflated), RLE, JPEG baseline, extended and lossless, JPEG-LS, JPEG 2000.
    for (const uid of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5',
      '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']) expect(syntaxes, uid).toContain(uid);
  });
});
