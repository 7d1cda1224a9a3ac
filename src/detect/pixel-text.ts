import { type TextLine, detectText } from './ocr-engine.js';
import type { DecodedFrame } from '../pixels/decode-frame.js';
import { type DetectorImage, hasChroma, normalizeForDetection } from '../pixels/normalize.js';

/**
 * What the recogniser must be sure of before a line counts as text: measured on the text corpus
 * (scripts/make-text-corpus.py) and the real images beside it, real overlays read at 0.78 and up;
 * at 0.5, two MR images' anatomy read as text too (5 of 77 clean images held instead of 3).
 */
const MIN_CONFIDENCE = 0.7;
const MIN_CHARACTERS = 2;

const counts = (l: TextLine): boolean => l.confidence >= MIN_CONFIDENCE && l.text.replace(/\s/g, '').length >= MIN_CHARACTERS;

/**
 * Large frames (mammograms, radiographs of 3,000–4,000 pixels a side) are read in tiles of this
 * size: the detector's memory grows with the image's area (a 4096² frame took ~4 GB and 30 s in one
 * piece), and scaling such a frame down would shrink 10-pixel text below what it can read. Tiles
 * overlap by more than the tallest overlay line, so no line is cut across its height.
 */
export const TILE = 1024;
export const TILE_OVERLAP = 128;

/** The tiles of a detector image (their origins on multiples of 32, so each stays padded), or the image alone. */
export function tilesOf(image: DetectorImage): Array<{ readonly tile: DetectorImage; readonly x0: number; readonly y0: number }> {
  if (image.width <= TILE + TILE_OVERLAP && image.height <= TILE + TILE_OVERLAP) return [{ tile: image, x0: 0, y0: 0 }];
  const starts = (size: number): number[] => {
    const out = [0];
    while ((out.at(-1) as number) + TILE < size) out.push((out.at(-1) as number) + TILE - TILE_OVERLAP);
    return out;
  };
  const out = [];
  for (const y0 of starts(image.height)) {
    for (const x0 of starts(image.width)) {
      const width = Math.min(TILE, image.width - x0);
      const height = Math.min(TILE, image.height - y0);
      const grey = Buffer.allocUnsafe(width * height);
      for (let y = 0; y < height; y++) image.grey.copy(grey, y * width, (y0 + y) * image.width + x0, (y0 + y) * image.width + x0 + width);
      // The tile's own part of the frame (boxes are clipped to it), in frame pixels.
      const frameWidth = Math.max(0, Math.min(image.frameWidth - x0 / image.scale, width / image.scale));
      const frameHeight = Math.max(0, Math.min(image.frameHeight - y0 / image.scale, height / image.scale));
      out.push({ tile: { width, height, grey, scale: image.scale, frameWidth, frameHeight }, x0, y0 });
    }
  }
  return out;
}

/** Text lines of a detector image, read tile by tile, with boxes in the whole frame's pixels. */
async function linesOf(image: DetectorImage, every: boolean): Promise<TextLine[]> {
  const out: TextLine[] = [];
  for (const { tile, x0, y0 } of tilesOf(image)) {
    if (tile.frameWidth <= 0 || tile.frameHeight <= 0) continue; // padding only
    for (const l of (await detectText(tile)).filter((line) => every || counts(line))) {
      out.push({ ...l, box: { ...l.box, x: l.box.x + Math.floor(x0 / image.scale), y: l.box.y + Math.floor(y0 / image.scale) } });
    }
  }
  return out;
}

/**
 * Text lines in one decoded frame: those read with confidence and at least 2 characters, or with
 * `every`, every line the detector boxed (what the cleaner's second look goes by: a leftover
 * character, or a line read poorly, is still text to blank). A colour frame is looked at twice, as max(R, G, B) and as
 * luma, since each hides what the other shows (white text on a saturated colour; coloured text
 * on a dark ground); the lines of both are kept.
 */
export async function textInFrame(frame: DecodedFrame, options: { readonly every?: boolean } = {}): Promise<TextLine[]> {
  const every = options.every ?? false;
  const lines = await linesOf(normalizeForDetection(frame), every);
  if (hasChroma(frame)) lines.push(...(await linesOf(normalizeForDetection(frame, { colour: 'luma' }), every)));
  return lines;
}
