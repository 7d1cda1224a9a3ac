import type { DecodedFrame } from './decode-frame.js';

/** A rectangle in a frame's pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A text box grown on every side before it is blanked: the detector's boxes hug the glyphs, and
 * anti-aliased edges, descenders and the last character of a long line reach past them (one wide
 * box leaving a few characters behind was seen). A third of the line's height, at least 3 pixels.
 */
export function paddedRect(box: Rect, frameWidth: number, frameHeight: number): Rect {
  const pad = Math.max(3, Math.ceil(box.height / 3));
  const x = Math.max(0, box.x - pad);
  const y = Math.max(0, box.y - pad);
  const right = Math.min(frameWidth, box.x + box.width + pad);
  const bottom = Math.min(frameHeight, box.y + box.height + pad);
  return { x, y, width: Math.max(0, right - x), height: Math.max(0, bottom - y) };
}

/**
 * The frame's background: its most common pixel (every sample of it, as stored). Air on a CT,
 * the black around an ultrasound sector, the grey of a label's ground: what text is drawn on.
 */
export function backgroundPixel(frame: DecodedFrame): Buffer {
  const size = pixelBytes(frame);
  const counts = new Map<number | string, number>();
  let best: number | string = 0;
  let bestCount = 0;
  for (let at = 0; at + size <= frame.data.length; at += size) {
    // Up to 6 bytes a pixel is a number (RGB of 16 bits at most); wider pixels are keyed as hex.
    const key = size <= 6 ? frame.data.readUIntLE(at, size) : frame.data.toString('hex', at, at + size);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > bestCount) {
      bestCount = n;
      best = key;
    }
  }
  const out = Buffer.alloc(size);
  if (typeof best === 'number') out.writeUIntLE(best, 0, size);
  else out.write(best, 'hex');
  return out;
}

/** The ring around a rectangle whose pixels give its fill: this many pixels wide. */
const RING = 2;

/**
 * What a rectangle is filled with: the median, sample by sample, of the pixels in a thin ring
 * just outside it: the ground the text was drawn on (air beside a corner overlay, the label
 * under dark text). The frame's most common pixel was tried first: on a noisy ground the most
 * common value is the text's own, and boxes became bright blocks. A rectangle with no ring (the
 * whole frame) takes the frame's most common pixel.
 */
export function ringFill(frame: DecodedFrame, r: Rect): Buffer {
  const size = pixelBytes(frame);
  const bytes = frame.bitsAllocated / 8;
  const x0 = Math.max(0, Math.floor(r.x) - RING);
  const y0 = Math.max(0, Math.floor(r.y) - RING);
  const x1 = Math.min(frame.columns, Math.ceil(r.x + r.width) + RING);
  const y1 = Math.min(frame.rows, Math.ceil(r.y + r.height) + RING);
  const samples: number[][] = Array.from({ length: frame.samplesPerPixel }, () => []);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height) continue;
      const at = (y * frame.columns + x) * size;
      for (let s = 0; s < frame.samplesPerPixel; s++) (samples[s] as number[]).push(frame.data.readUIntLE(at + s * bytes, bytes));
    }
  }
  if ((samples[0] as number[]).length === 0) return backgroundPixel(frame);
  const value = storedValue(frame);
  const out = Buffer.alloc(size);
  for (const [s, words] of samples.entries()) {
    // Ordered by the value the word stores (signed data sorts below zero), and one of the ring's
    // own words is written back, bits above Bits Stored and all: no value is made up.
    words.sort((a, b) => value(a) - value(b));
    out.writeUIntLE(words[Math.floor(words.length / 2)] as number, s * bytes, bytes);
  }
  return out;
}

/** The value a stored word means: Bits Stored below High Bit, sign-extended when signed. */
function storedValue(f: DecodedFrame): (word: number) => number {
  const low = f.highBit + 1 - f.bitsStored;
  const bits = f.bitsStored;
  return (word) => {
    const raw = Math.floor(word / 2 ** low) % 2 ** bits;
    return f.pixelRepresentation === 1 && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
  };
}

/** Bytes of one pixel of a decoded (interleaved) frame. */
const pixelBytes = (f: DecodedFrame): number => f.samplesPerPixel * (f.bitsAllocated / 8);

/**
 * Fills each rectangle of the frame, in place, with `fill` (one pixel's bytes). Only the bytes of
 * the rectangles change: every other byte of the frame stays as decoded.
 */
export function fillRects(frame: DecodedFrame, rects: readonly Rect[], fill: Buffer): void {
  const size = pixelBytes(frame);
  if (fill.length !== size) throw new RangeError(`a fill of ${fill.length} bytes for pixels of ${size}`);
  const row = frame.columns * size;
  for (const r of rects) {
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(frame.columns, Math.ceil(r.x + r.width));
    const y1 = Math.min(frame.rows, Math.ceil(r.y + r.height));
    if (x1 <= x0 || y1 <= y0) continue;
    const span = Buffer.alloc((x1 - x0) * size);
    for (let p = 0; p < x1 - x0; p++) fill.copy(span, p * size);
    for (let y = y0; y < y1; y++) span.copy(frame.data, y * row + x0 * size);
  }
}
