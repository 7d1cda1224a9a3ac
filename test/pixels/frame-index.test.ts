// Fragments and frames of encapsulated pixel data, from item streams built here: the offset table,
// one fragment per frame, frames split over fragments, and what a hostile stream gets.
import { describe, expect, it } from 'vitest';
import { type ReadBytes, framesOf, jpegStart, readFragments } from '../../src/pixels/frame-index.js';
import { PixelError, imageGeometryOf } from '../../src/pixels/image-geometry.js';
import { tagOf } from '../../src/dicom/tag.js';
import type { DataElement } from '../../src/dicom/dataset.js';

const item = (value: Buffer): Buffer => {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0); h.writeUInt16LE(0xe000, 2); h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
};
const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
const table = (...offsets: number[]): Buffer => { const b = Buffer.alloc(offsets.length * 4); offsets.forEach((o, i) => b.writeUInt32LE(o, i * 4)); return b; };
const jpeg = (n: number, len = 6): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(len - 2, n)]);
const reader = (buf: Buffer): ReadBytes => async (offset, length) => buf.subarray(offset, offset + length);
const parse = async (stream: Buffer, frames: number, starts = jpegStart) => {
  const { offsetTable, fragments } = await readFragments(reader(stream), 0, stream.length);
  const grouped = await framesOf(reader(stream), frames, offsetTable, fragments, starts);
  return grouped.map((g) => Buffer.concat(g.map((f) => stream.subarray(f.offset, f.offset + f.length))));
};

describe('frames of encapsulated pixel data', () => {
  it('follows the Basic Offset Table, where frames span several fragments', async () => {
    const [a1, a2, b] = [jpeg(1), Buffer.alloc(4, 9), jpeg(2)];
    const stream = Buffer.concat([item(table(0, 8 + a1.length + 8 + a2.length)), item(a1), item(a2), item(b), end]);
    expect(await parse(stream, 2)).toEqual([Buffer.concat([a1, a2]), b]);
  });

  it('without a table: one fragment per frame when the counts match, else split at each codestream start', async () => {
    expect(await parse(Buffer.concat([item(Buffer.alloc(0)), item(jpeg(1)), item(jpeg(2)), end]), 2)).toEqual([jpeg(1), jpeg(2)]);
    const split = Buffer.concat([item(Buffer.alloc(0)), item(jpeg(1)), item(Buffer.alloc(2, 7)), item(jpeg(2)), item(jpeg(3)), end]);
    expect(await parse(split, 3)).toEqual([Buffer.concat([jpeg(1), Buffer.alloc(2, 7)]), jpeg(2), jpeg(3)]);
  });

  it('refuses a hostile stream with a PixelError: bad tables, missing delimiters, counts that do not add up', async () => {
    const bad = [
      { stream: Buffer.concat([item(table(0, 999)), item(jpeg(1)), item(jpeg(2)), end]), frames: 2 }, // points at no fragment
      { stream: Buffer.concat([item(table(0)), item(jpeg(1)), item(jpeg(2)), end]), frames: 2 }, // one entry for two frames
      { stream: Buffer.concat([item(Buffer.alloc(3)), item(jpeg(1)), end]), frames: 2 }, // table not a multiple of 4
      { stream: Buffer.concat([item(Buffer.alloc(0)), item(jpeg(1))]), frames: 1 }, // no delimiter
      { stream: Buffer.concat([item(Buffer.alloc(0)), item(Buffer.alloc(4, 1)), item(jpeg(2)), end]), frames: 3 }, // first fragment starts no frame
      { stream: Buffer.concat([item(Buffer.alloc(0)), item(jpeg(1)), item(jpeg(2)), item(jpeg(3)), end]), frames: 2 }, // 3 frames found, 2 declared
      { stream: Buffer.concat([item(Buffer.alloc(0)), end]), frames: 1 }, // no fragments
    ];
    for (const [i, { stream, frames }] of bad.entries()) {
      await expect(parse(stream, frames), String(i)).rejects.toBeInstanceOf(PixelError);
    }
    // An item whose length runs past the pixel data.
    const long = Buffer.concat([item(Buffer.alloc(0)), item(jpeg(1)), end]);
    long.writeUInt32LE(1_000_000, 12);
    await expect(parse(long, 1)).rejects.toBeInstanceOf(PixelError);
  });
});

describe('image geometry', () => {
  const us = (g: number, e: number, v: number): DataElement => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return { kind: 'value', tag: tagOf(g, e), vr: 'US', value: b }; };
  const cs = (g: number, e: number, v: string): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr: 'CS', value: Buffer.from(v.length % 2 ? `${v} ` : v) });
  const base = (rows: number, cols: number, bits = 16, spp = 1, pi = 'MONOCHROME2'): DataElement[] =>
    [us(0x28, 0x2, spp), cs(0x28, 0x4, pi), us(0x28, 0x10, rows), us(0x28, 0x11, cols), us(0x28, 0x100, bits), us(0x28, 0x101, bits)];

  it('reads what the header says, and refuses what no frame can be before anything is allocated', () => {
    expect(imageGeometryOf(base(512, 256), true)).toMatchObject({ rows: 512, columns: 256, bitsAllocated: 16, numberOfFrames: 1 });
    for (const d of [base(0, 10), base(60_000, 60_000, 32, 3, 'RGB'), base(10, 10, 12), base(10, 10, 8, 3, 'MONOCHROME2'), base(10, 10, 8, 2)]) {
      expect(() => imageGeometryOf(d, true)).toThrow(PixelError);
    }
  });
});
