// Normalisation for the text detector, on frames built here: what each step does to known values.
import { describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../src/pixels/decode-frame.js';
import { normalizeForDetection } from '../../src/pixels/normalize.js';

const frame = (over: Partial<DecodedFrame> & { data: Buffer; rows: number; columns: number }): DecodedFrame => ({
  samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0, planarConfiguration: 0,
  photometricInterpretation: 'MONOCHROME2', numberOfFrames: 1, ...over, highBit: over.highBit ?? (over.bitsStored ?? 8) - 1,
});
const words = (values: number[], signed = false): Buffer => {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => (signed ? b.writeInt16LE(v, i * 2) : b.writeUInt16LE(v, i * 2)));
  return b;
};
const at = (img: ReturnType<typeof normalizeForDetection>, x: number, y: number): number => img.grey[y * img.width + x] as number;

describe('normalising a frame for detection', () => {
  it('windows a signed 12-bit CT to its own range: text drawn at full scale stays white, air black', () => {
    // Air (-1000), tissue (40), and one "text" pixel at the top of the 12-bit range (2047); bits above 12 are noise.
    const values = [...Array(998).fill(40), -1000, 2047];
    const data = words(values, true);
    for (let i = 0; i < values.length; i++) data.writeUInt16LE((data.readUInt16LE(i * 2) & 0x0fff) | 0xa000, i * 2);
    const img = normalizeForDetection(frame({ rows: 10, columns: 100, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1, data }), { lowPercentile: 0, highPercentile: 100, maxUpscale: 1 });
    expect(at(img, 98, 9)).toBe(0);
    expect(at(img, 99, 9)).toBe(255);
    expect(at(img, 0, 0)).toBe(Math.round((1040 / 3047) * 255));
  });

  it('inverts MONOCHROME1, and reduces colour to max(R, G, B) (YBR converted first)', () => {
    const mono1 = normalizeForDetection(frame({ rows: 1, columns: 2, photometricInterpretation: 'MONOCHROME1', data: Buffer.from([0, 200]) }), { lowPercentile: 0, highPercentile: 100, maxUpscale: 1 });
    expect([at(mono1, 0, 0), at(mono1, 1, 0)]).toEqual([255, 0]);
    // Red text on black, in RGB and as YBR_FULL: both come out bright.
    const rgb = normalizeForDetection(frame({ rows: 1, columns: 2, samplesPerPixel: 3, photometricInterpretation: 'RGB', data: Buffer.from([0, 0, 0, 250, 0, 0]) }), { lowPercentile: 0, highPercentile: 100, maxUpscale: 1 });
    expect([at(rgb, 0, 0), at(rgb, 1, 0)]).toEqual([0, 255]);
    const ybrRed = [Math.round(0.299 * 250), Math.round(-0.168736 * 250 + 128), Math.round(0.5 * 250 + 128)];
    const ybr = normalizeForDetection(frame({ rows: 1, columns: 2, samplesPerPixel: 3, photometricInterpretation: 'YBR_FULL', data: Buffer.from([0, 128, 128, ...ybrRed]) }), { lowPercentile: 0, highPercentile: 100, maxUpscale: 1 });
    expect([at(ybr, 0, 0), at(ybr, 1, 0)]).toEqual([0, 255]);
  });

  it('clips the outer 0.5 % at each end, so a few extreme pixels do not wash the window out', () => {
    const values = [...Array(1000).keys()].map((i) => (i === 0 ? 0 : i === 999 ? 60_000 : 1000 + (i % 100)));
    const img = normalizeForDetection(frame({ rows: 10, columns: 100, bitsAllocated: 16, bitsStored: 16, data: words(values) }), { maxUpscale: 1 });
    expect(at(img, 99, 9)).toBe(255); // the outlier, clipped to white
    expect(at(img, 50, 0)).toBeGreaterThan(100); // the body of the histogram spread over the grey range
  });

  it('takes the full range when the ground is flat: a few text pixels on a blank screen stay white', () => {
    const data = Buffer.alloc(100 * 100); // black, and one short line of "text" (0.3 % of the pixels)
    data.fill(255, 5050, 5080);
    const img = normalizeForDetection(frame({ rows: 100, columns: 100, data }), { maxUpscale: 1 });
    expect(at(img, 60, 50)).toBe(255);
    expect(at(img, 10, 10)).toBe(0);
  });

  it('reads the stored bits where High Bit puts them (12 bits stored in the top of 16)', () => {
    const values = [0, 4095]; // stored in bits 4-15
    const data = words(values.map((v) => v << 4));
    const img = normalizeForDetection(frame({ rows: 1, columns: 2, bitsAllocated: 16, bitsStored: 12, highBit: 15, data }), { lowPercentile: 0, highPercentile: 100, maxUpscale: 1 });
    expect([at(img, 0, 0), at(img, 1, 0)]).toEqual([0, 255]);
    // The same words read from bit 0 would be 0 and 65520 & 0xfff = 4080: nearly the same grey; with High Bit they are black and white.
  });

  it('scales a small frame up by a whole factor (at most ×3) and pads to multiples of 32 with black', () => {
    const img = normalizeForDetection(frame({ rows: 100, columns: 300, data: Buffer.alloc(30_000, 200).fill(0, 0, 900) }));
    expect(img.scale).toBe(3);
    expect([img.width, img.height]).toEqual([928, 320]);
    expect(at(img, 899, 299)).toBe(255);
    expect(at(img, 900, 0)).toBe(0); // padding
    expect(at(img, 0, 0)).toBe(0); // the first three rows were 0
    expect(normalizeForDetection(frame({ rows: 512, columns: 512, data: Buffer.alloc(512 * 512) })).scale).toBe(2);
  });
});
