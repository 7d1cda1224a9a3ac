import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../src/pixels/decode-frame.js';
import { backgroundPixel, fillRects, paddedRect, ringFill } from '../../src/pixels/blank-boxes.js';

const frame = (over: Partial<DecodedFrame> & { data: Buffer }): DecodedFrame => ({
  rows: 10, columns: 12, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0,
  planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', numberOfFrames: 1, ...over,
});

/** A deterministic, varied fill (every byte differs from its neighbours), standing for any picture. */
const noise = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 73 + 41) % 251));

describe('paddedRect', () => {
  it('grows a box by a third of its height (at least 3 pixels) and clips it to the frame', () => {
    expect(paddedRect({ x: 20, y: 20, width: 30, height: 12 }, 100, 100)).toEqual({ x: 16, y: 16, width: 38, height: 20 });
    expect(paddedRect({ x: 10, y: 10, width: 5, height: 3 }, 100, 100)).toEqual({ x: 7, y: 7, width: 11, height: 9 });
    expect(paddedRect({ x: 1, y: 0, width: 98, height: 9 }, 100, 50)).toEqual({ x: 0, y: 0, width: 100, height: 12 });
  });
});

describe('backgroundPixel', () => {
  it('is the most common pixel: one sample, 16-bit words, or every sample of a colour pixel', () => {
    const grey = Buffer.from([5, 9, 9, 1, 9, 5]);
    expect([...backgroundPixel(frame({ rows: 2, columns: 3, data: grey }))]).toEqual([9]);
    const words = Buffer.alloc(8);
    [0x0400, 0xfc18, 0xfc18, 0x0001].forEach((v, i) => words.writeUInt16LE(v, i * 2));
    expect(backgroundPixel(frame({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 16, highBit: 15, data: words })).readUInt16LE(0)).toBe(0xfc18);
    // (1,2,3) twice; the single samples 1, 2 and 3 are each more common, but no pixel is (1,1,1).
    const rgb = Buffer.from([1, 2, 3, 1, 1, 1, 1, 2, 3, 2, 2, 2, 3, 3, 3]);
    expect([...backgroundPixel(frame({ rows: 1, columns: 5, samplesPerPixel: 3, photometricInterpretation: 'RGB', data: rgb }))]).toEqual([1, 2, 3]);
  });

  it('keys pixels wider than 6 bytes (32-bit colour) exactly', () => {
    const data = Buffer.alloc(3 * 12);
    data.fill(7, 12, 36);
    expect([...backgroundPixel(frame({ rows: 1, columns: 3, samplesPerPixel: 3, bitsAllocated: 32, bitsStored: 32, highBit: 31, photometricInterpretation: 'RGB', data }))]).toEqual(Array(12).fill(7));
  });
});

describe('fillRects', () => {
  for (const [label, spp, bits] of [['8-bit grey', 1, 8], ['16-bit grey', 1, 16], ['8-bit RGB', 3, 8], ['16-bit RGB', 3, 16], ['32-bit grey', 1, 32]] as const) {
    it(`changes exactly the bytes of the rectangles (${label})`, () => {
      const pixel = spp * (bits / 8);
      const before = noise(10 * 12 * pixel);
      const f = frame({ samplesPerPixel: spp, bitsAllocated: bits, bitsStored: bits, highBit: bits - 1, data: Buffer.from(before) });
      const fill = Buffer.alloc(pixel, 0xee);
      // One inside, one past the right and bottom edges (clipped), one outside altogether.
      const rects = [{ x: 1, y: 2, width: 3, height: 2 }, { x: 10, y: 8, width: 9, height: 9 }, { x: 40, y: 40, width: 2, height: 2 }];
      fillRects(f, rects, fill);
      const inside = (x: number, y: number): boolean => (x >= 1 && x < 4 && y >= 2 && y < 4) || (x >= 10 && y >= 8);
      for (let y = 0; y < 10; y++) {
        for (let x = 0; x < 12; x++) {
          const at = (y * 12 + x) * pixel;
          const got = f.data.subarray(at, at + pixel);
          expect(got.equals(inside(x, y) ? fill : before.subarray(at, at + pixel)), `(${x}, ${y})`).toBe(true);
        }
      }
    });
  }

  it('refuses a fill of the wrong size', () => {
    expect(() => fillRects(frame({ data: Buffer.alloc(120) }), [], Buffer.alloc(2))).toThrow(RangeError);
  });
});

describe('ringFill', () => {
  it('is the median of a thin ring outside the box, sample by sample: the ground, not the text', () => {
    // A noisy ground (values 10..14) with bright text (200) filling most of the frame's pixels.
    const f = frame({ rows: 10, columns: 12, data: Buffer.alloc(120) });
    for (let i = 0; i < 120; i++) f.data[i] = 10 + (i % 5);
    const box = { x: 2, y: 2, width: 8, height: 6 };
    for (let y = 2; y < 8; y++) for (let x = 2; x < 10; x++) f.data[y * 12 + x] = 200;
    expect(backgroundPixel(f)[0]).toBe(200); // the most common pixel is the text's
    expect(ringFill(f, box)[0]).toBeGreaterThanOrEqual(10);
    expect(ringFill(f, box)[0]).toBeLessThanOrEqual(14);
  });

  it('orders signed samples by their value, and writes back one of the ring\'s own words', () => {
    const f = frame({ rows: 3, columns: 3, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1, data: Buffer.alloc(18) });
    // Ring words: -1000 (0x0c18 in 12 bits) five times, 100 three times; centre (the box) 2047.
    const words = [0x0c18, 0x0c18, 0x0c18, 0x0c18, 2047, 0x0064, 0x0064, 0x0064, 0x0c18];
    words.forEach((w, i) => f.data.writeUInt16LE(w | 0xf000, i * 2)); // bits above Bits Stored set: kept as they were
    expect(ringFill(f, { x: 1, y: 1, width: 1, height: 1 }).readUInt16LE(0)).toBe(0xfc18);
  });

  it('takes the frame\'s most common pixel when the box covers the frame', () => {
    const f = frame({ rows: 2, columns: 2, data: Buffer.from([3, 3, 3, 9]) });
    expect([...ringFill(f, { x: 0, y: 0, width: 2, height: 2 })]).toEqual([3]);
  });
});
