import { PixelError } from './image-geometry.js';

/** A byte range in the source: one fragment's value. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** Reads `length` bytes at `offset` of the source (the file, or its bytes in memory). */
export type ReadBytes = (offset: number, length: number) => Promise<Buffer>;

/**
 * The fragments of encapsulated pixel data (PS3.5 A.4), by walking the item headers from the
 * value's start: the Basic Offset Table first, then the fragments, up to the sequence delimiter.
 * Only the 8-byte headers and the offset table are read; fragments stay in the source.
 */
export async function readFragments(read: ReadBytes, start: number, length: number): Promise<{ offsetTable: number[]; fragments: ByteRange[] }> {
  const end = start + length;
  const items: ByteRange[] = [];
  for (let pos = start; ;) {
    if (pos + 8 > end) throw new PixelError('truncated', 'encapsulated pixel data ends inside an item header');
    const h = await read(pos, 8);
    const group = h.readUInt16LE(0);
    const element = h.readUInt16LE(2);
    const itemLength = h.readUInt32LE(4);
    pos += 8;
    if (group === 0xfffe && element === 0xe0dd) break;
    if (group !== 0xfffe || element !== 0xe000 || itemLength === 0xffffffff) throw new PixelError('malformed', 'a fragment that is not an item');
    if (pos + itemLength > end) throw new PixelError('truncated', 'a fragment runs past the pixel data');
    items.push({ offset: pos, length: itemLength });
    pos += itemLength;
  }
  const [table, ...fragments] = items;
  if (!table) throw new PixelError('malformed', 'no Basic Offset Table item');
  const offsetTable: number[] = [];
  if (table.length > 0) {
    if (table.length % 4 !== 0) throw new PixelError('malformed', 'a Basic Offset Table whose length is not a multiple of 4');
    const b = await read(table.offset, table.length);
    for (let i = 0; i < table.length; i += 4) offsetTable.push(b.readUInt32LE(i));
  }
  return { offsetTable, fragments };
}

/** What marks the start of a frame's codestream, to split fragments without an offset table. */
export type FrameStart = (firstBytes: Buffer) => boolean;

/** JPEG (SOI, FFD8) and JPEG-LS; JPEG 2000 and HTJ2K codestreams (SOC, FF4F, then SIZ, FF51). */
export const jpegStart: FrameStart = (b) => b.length >= 2 && b[0] === 0xff && b[1] === 0xd8;
export const j2kStart: FrameStart = (b) => b.length >= 4 && b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51;

/**
 * Groups fragments into frames (PS3.5 A.4): by the Basic Offset Table when there is one (offsets are from the first fragment's item header), one frame per fragment when the counts
 * match, everything in one frame for a single frame, else by the codestream's start marker.
 */
export async function framesOf(
  read: ReadBytes, frames: number, offsetTable: readonly number[], fragments: readonly ByteRange[], startsFrame?: FrameStart,
): Promise<ByteRange[][]> {
  if (fragments.length === 0) throw new PixelError('malformed', 'encapsulated pixel data without fragments');
  if (frames === 1) return [fragments.slice()];
  if (offsetTable.length > 0) {
    if (offsetTable.length !== frames) throw new PixelError('malformed', `a Basic Offset Table of ${offsetTable.length} entries for ${frames} frames`);
    // One pass: fragments are in order, and so must the table's offsets be.
    const first = (fragments[0] as ByteRange).offset - 8;
    const out: ByteRange[][] = [];
    let k = 0;
    for (let i = 0; i < frames; i++) {
      const from = offsetTable[i] as number;
      const to = i + 1 < frames ? (offsetTable[i + 1] as number) : Infinity;
      if (to <= from || k >= fragments.length || (fragments[k] as ByteRange).offset - 8 - first !== from) {
        throw new PixelError('malformed', 'a Basic Offset Table entry that points at no fragment');
      }
      const frame: ByteRange[] = [];
      while (k < fragments.length && (fragments[k] as ByteRange).offset - 8 - first < to) frame.push(fragments[k++] as ByteRange);
      out.push(frame);
    }
    return out;
  }
  if (fragments.length === frames) return fragments.map((f) => [f]);
  if (!startsFrame) throw new PixelError('unsupported', `${fragments.length} fragments for ${frames} frames without an offset table`);
  const out: ByteRange[][] = [];
  for (const f of fragments) {
    if (startsFrame(await read(f.offset, Math.min(4, f.length)))) out.push([f]);
    else if (out.length > 0) (out[out.length - 1] as ByteRange[]).push(f);
    else throw new PixelError('malformed', 'the first fragment does not start a frame');
  }
  if (out.length !== frames) throw new PixelError('malformed', `${out.length} frames found where ${frames} are declared`);
  return out;
}
