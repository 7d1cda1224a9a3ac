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
import { TILE, TILE_OVERLAP, textInFrame, tilesOf } from '../../src/detect/pixel-text.js';
import type { DecodedFrame } from '../../src/pixels/decode-frame.js';
import { normalizeForDetection } from '../../src/pixels/normalize.js';
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
let corpusDir: string;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-text-corpus-'));
  execFileSync('/usr/bin/python3', [join(REPO, 'scripts', 'make-text-corpus.py'), dir, VENDOR_CORPUS], { stdio: 'ignore' });
  corpusDir = dir;
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

/** A grey 16-bit frame of the given size, filled with `ground`. */
function greyFrame(columns: number, rows: number, ground: number): DecodedFrame {
  const data = Buffer.alloc(columns * rows * 2);
  for (let i = 0; i < columns * rows; i++) data.writeInt16LE(ground, i * 2);
  return { rows, columns, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 1, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', numberOfFrames: 1, data };
}

/** Pastes `small` into `big` at (x0, y0), each pixel as a `k` × `k` block (16-bit samples). */
function paste(big: DecodedFrame, small: DecodedFrame, x0: number, y0: number, k: number): void {
  for (let y = 0; y < small.rows * k; y++) {
    for (let x = 0; x < small.columns * k; x++) {
      big.data.writeInt16LE(small.data.readInt16LE((Math.floor(y / k) * small.columns + Math.floor(x / k)) * 2), ((y0 + y) * big.columns + x0 + x) * 2);
    }
  }
}

describe('large frames, read in tiles', () => {
  it('cuts a large image into overlapping tiles that cover it, and leaves a small one whole', () => {
    const image = normalizeForDetection(greyFrame(3000, 2600, 0));
    expect(image.scale).toBe(1);
    const tiles = tilesOf(image);
    const covered = new Uint8Array(image.width * image.height);
    for (const { tile, x0, y0 } of tiles) {
      expect(tile.width % 32 + tile.height % 32 + x0 % 32 + y0 % 32).toBe(0);
      expect(Math.max(tile.width, tile.height)).toBeLessThanOrEqual(TILE);
      for (let y = 0; y < tile.height; y++) for (let x = 0; x < tile.width; x++) covered[(y0 + y) * image.width + x0 + x] = 1;
    }
    expect(covered.every((c) => c === 1)).toBe(true);
    // Neighbours share a band as wide as the overlap.
    const xs = [...new Set(tiles.map((t) => t.x0))].sort((a, b) => a - b);
    expect(xs[1]).toBe(TILE - TILE_OVERLAP);
    const small = normalizeForDetection(greyFrame(512, 512, 0));
    expect(tilesOf(small)).toEqual([{ tile: small, x0: 0, y0: 0 }]);
  });

  it('finds text anywhere in a 3000 × 2600 frame, across a tile boundary too, with boxes in the frame\'s pixels', async () => {
    // The corpus CT with text drawn top left, each pixel as 4 × 4 (its 9-pixel text 36 pixels tall).
    const p = await openPixelFrames(await readDicomFile(join(corpusDir, 'ct-white-tl.dcm')));
    const ct = await p.frame(0);
    await p.close();
    let ground = 0;
    for (let i = 0; i < ct.data.length; i += 2) ground = Math.min(ground, ct.data.readInt16LE(i));
    const big = greyFrame(3000, 2600, ground);
    paste(big, ct, 2300, 1100, 4); // inside one tile
    paste(big, ct, 850, 0, 4); // its text runs across the boundary of the first two tiles (x 896–1024)
    const boxes = (await textInFrame(big)).map((l) => l.box);
    const near = (x: number, y: number) => boxes.some((b) => b.x < x + 200 && b.x + b.width > x && b.y < y + 60 && b.y + b.height > y);
    expect(near(2300, 1100), JSON.stringify(boxes)).toBe(true);
    expect(near(850, 0), JSON.stringify(boxes)).toBe(true);
    for (const b of boxes) expect(b.x + b.width <= 3000 && b.y + b.height <= 2600).toBe(true);
  }, 120_000);
});
