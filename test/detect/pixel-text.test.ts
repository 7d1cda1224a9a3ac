// Text in pixels, found by the detector on real images: the text corpus (scripts/make-text-corpus.py:
// real images with a name, a record number and a date drawn in the way modalities draw them, their
// clean twins and look-alikes without text), some of it compressed by dcmtk, and every image of
// pydicom's corpus and the vendor files, three of which carry real burned-in text of their own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { textInFrame } from '../../src/detect/pixel-text.js';
import { openPixelFrames } from '../../src/pixels/decode-frame.js';
import { PYDICOM_TEST_FILES, REPO, VENDOR_CORPUS, dcmFiles, vendorFiles } from '../helpers/corpus.js';

interface Case {
  readonly path: string;
  readonly text: boolean;
  /** What was drawn, to be read back (none where the image's own text may overlap it). */
  readonly strings: readonly string[];
}

/** Real images that carry burned-in text from their own source (looked at: see the README's pixels section). */
const REAL_TEXT = new Set(['octave-dicom-CT-MONO2-16-ankle.dcm', 'octave-dicom-US-PAL-8-10x-echo.dcm', 'GDCMJ2K_TextGBR.dcm']);
/** Not decodable by our codecs (see test/pixels/decode-frame.test.ts): not an image to look at here. */
const UNDECODABLE = new Set(['JPEG2000-embedded-sequence-delimiter.dcm']);

const cases: Case[] = [];
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-text-corpus-'));
  execFileSync('/usr/bin/python3', [join(REPO, 'scripts', 'make-text-corpus.py'), dir, VENDOR_CORPUS], { stdio: 'ignore' });
  type Entry = { text: boolean; strings: string[]; real_text: boolean };
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, Entry>;
  const drawn = (m: Entry): string[] => (m.real_text ? [] : m.strings);
  for (const [file, m] of Object.entries(manifest)) cases.push({ path: join(dir, file), text: m.text, strings: drawn(m) });
  // Encapsulated twins: lossless JPEG, JPEG-LS and RLE of a CT pair, lossy baseline JPEG (YBR) of a colour pair.
  for (const [source, tool, flags] of [
    ['ct-white-tl', 'dcmcjpeg', ['+e1']], ['ct-clean', 'dcmcjpeg', ['+e1']], ['ct-label-br', 'dcmcjpls', []], ['ct-clean', 'dcmcjpls', []],
    ['mr-white-tl', 'dcmcrle', []], ['mr-clean', 'dcmcrle', []], ['rgb-label-br', 'dcmcjpeg', ['+eb']], ['rgb-clean', 'dcmcjpeg', ['+eb']],
  ] as const) {
    const to = join(dir, `${source}-${tool}.dcm`);
    execFileSync(tool, [...flags, join(dir, `${source}.dcm`), to], { stdio: 'ignore' });
    const m = manifest[`${source}.dcm`] as Entry;
    cases.push({ path: to, text: m.text, strings: drawn(m) });
  }
  for (const path of [...dcmFiles(PYDICOM_TEST_FILES), ...vendorFiles()]) {
    const name = path.split('/').pop() as string;
    if (!UNDECODABLE.has(name)) cases.push({ path, text: REAL_TEXT.has(name), strings: [] });
  }
}, 120_000);

/** Lines found in the middle frame, or undefined for a file with no image to look at. */
async function linesIn(path: string): Promise<string[] | undefined> {
  let frames;
  try {
    frames = await openPixelFrames(await readDicomFile(path));
  } catch {
    return undefined; // no pixel data (structured reports, RT plans, …)
  }
  try {
    return (await textInFrame(await frames.frame(Math.floor(frames.frameCount / 2)))).map((l) => l.text);
  } finally {
    await frames.close();
  }
}

const alnum = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
/** How much of `want` a line holds in order (longest common subsequence over want's length). */
function overlap(want: string, line: string): number {
  const [a, b] = [alnum(want), alnum(line)];
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const ch of a) {
    const next = [0];
    for (let j = 1; j <= b.length; j++) next.push(ch === b[j - 1] ? (prev[j - 1] as number) + 1 : Math.max(prev[j] as number, next[j - 1] as number));
    prev = next;
  }
  return a.length === 0 ? 0 : (prev[b.length] as number) / a.length;
}

describe('text in pixels', () => {
  it('finds every text image, reads what was drawn, and holds at most 1 in 20 clean images', async () => {
    const missed: string[] = [];
    const unread: string[] = [];
    const flagged: string[] = [];
    let text = 0;
    let clean = 0;
    for (const c of cases) {
      const lines = await linesIn(c.path);
      if (lines === undefined) continue;
      const name = c.path.split('/').pop() as string;
      if (c.text) {
        text += 1;
        if (lines.length === 0) missed.push(name);
        // What was drawn is read, mostly: at 9 px a 1 may read as a 2, a ^ be lost. At least 3 in 4
        // characters of one identifier in order (what a header match will lean on; text is held either way).
        else if (c.strings.length > 0 && !c.strings.some((s) => lines.some((l) => overlap(s, l) >= 0.75))) unread.push(`${name}: ${lines.length} lines`);
      } else {
        clean += 1;
        if (lines.length > 0) flagged.push(name);
      }
    }
    console.log(`text images ${text}, caught ${text - missed.length}; clean images ${clean}, held ${flagged.length} (${flagged.join(', ')})`);
    expect(text).toBeGreaterThanOrEqual(25);
    expect(clean).toBeGreaterThanOrEqual(60);
    expect(missed).toEqual([]);
    expect(unread).toEqual([]);
    expect(flagged.length * 20).toBeLessThanOrEqual(clean);
  }, 600_000);
});
