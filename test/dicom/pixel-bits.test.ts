import { describe, expect, it } from 'vitest';
import type { DataElement } from '../../src/dicom/dataset.js';
import { applyPixelMask } from '../../src/dicom/pixel-bits.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { EXPLICIT_LE } from '../../src/dicom/transfer-syntax.js';
import { embeddedOverlayPlan } from '../../src/deid/embedded-overlays.js';

const us = (tag: number, n: number): DataElement => ({ kind: 'value', tag, vr: 'US', value: Buffer.from([n & 0xff, n >> 8]) });
const header = (pixels: DataElement): DataElement[] => [
  us(Tags.BitsAllocated, 16), us(Tags.BitsStored, 12), us(Tags.HighBit, 11), us(Tags.PixelRepresentation, 0),
  us(tagOf(0x6000, 0x0010), 8), us(tagOf(0x6000, 0x0102), 15), pixels,
];

describe('overlays embedded in unused pixel bits', () => {
  it('clears the bits outside the stored ones, in either byte order, and keeps signed values', () => {
    const le = Buffer.alloc(6);
    [0x8fff, 0x8001, 0x0123].forEach((v, i) => le.writeUInt16LE(v, i * 2));
    applyPixelMask(le, { bitsAllocated: 16, bitsStored: 12, highBit: 11, signed: false, littleEndian: true });
    expect([0, 1, 2].map((i) => le.readUInt16LE(i * 2))).toEqual([0x0fff, 0x0001, 0x0123]);
    const be = Buffer.alloc(4);
    [0xc800, 0x4001].forEach((v, i) => be.writeUInt16BE(v, i * 2)); // 0x800: -2048 in 12 bits, plus overlay bits
    applyPixelMask(be, { bitsAllocated: 16, bitsStored: 12, highBit: 11, signed: true, littleEndian: false });
    expect([be.readInt16BE(0), be.readInt16BE(2)]).toEqual([-2048, 1]);
  });

  it('masks native pixel data, refuses compressed data and pixels without unused bits', () => {
    const native: DataElement = { kind: 'bulk', tag: Tags.PixelData, vr: 'OW', offset: 0, length: 128, undefinedLength: false };
    expect(embeddedOverlayPlan(header(native), EXPLICIT_LE).kind).toBe('mask');
    const compressed: DataElement = { ...native, vr: 'OB', undefinedLength: true };
    expect(embeddedOverlayPlan(header(compressed), EXPLICIT_LE)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/compressed/) });
    const full = header(native).map((e) => (e.tag === Tags.BitsStored ? us(Tags.BitsStored, 16) : e.tag === Tags.HighBit ? us(Tags.HighBit, 15) : e));
    expect(embeddedOverlayPlan(full, EXPLICIT_LE).kind).toBe('refuse');
    // Overlay Data present: the plane is its own bitmap, removed with its group.
    expect(embeddedOverlayPlan([...header(native), { kind: 'value', tag: tagOf(0x6000, 0x3000), vr: 'OW', value: Buffer.alloc(8) }], EXPLICIT_LE).kind).toBe('none');
  });
});
