import { deflateRawSync } from 'node:zlib';
import type { DataElement, Item } from './dataset.js';
import type { PixelMask } from './pixel-bits.js';
import { Tags, groupOf, elementOf } from './tag.js';
import { type Encoding, EXPLICIT_LE, sameEncoding } from './transfer-syntax.js';
import { hasLongLength, padByteFor } from './vr.js';

/**
 * A serialized dataset: bytes, with top-level pixel data left as a range of the source to stream.
 * `swap` is the word size to byte-swap the range by, when the byte order changes.
 */
export type Chunk = Buffer | { readonly offset: number; readonly length: number; readonly swap?: number; readonly mask?: PixelMask };

/** Word size of each binary VR, for changing byte order (PS3.5 7.3). Text VRs need none. */
const WORD_SIZE: Record<string, number> = {
  US: 2, SS: 2, OW: 2, AT: 2, UL: 4, SL: 4, FL: 4, OF: 4, OL: 4, FD: 8, OD: 8, SV: 8, UV: 8, OV: 8,
};

/** Reverses every `size`-byte word of `value` in place. */
export function swapWordsInPlace(value: Buffer, size: number): void {
  if (size === 2) value.swap16();
  else if (size === 4) value.swap32();
  else if (size === 8) value.swap64();
}

/** A copy of `value` with every `size`-byte word reversed. */
export function swapWords(value: Buffer, size: number): Buffer {
  const out = Buffer.from(value);
  swapWordsInPlace(out, size);
  return out;
}

const UNDEFINED_LENGTH = 0xffffffff;

class Writer {
  readonly chunks: Chunk[] = [];
  /** Set when the source's byte order differs from the target's: binary values are swapped. */
  constructor(readonly swapOrder = false) {}
  private pending: Buffer[] = [];

  push(b: Buffer): void {
    this.pending.push(b);
  }

  pushRange(offset: number, length: number, swap?: number, mask?: PixelMask): void {
    this.flush();
    this.chunks.push({ offset, length, ...(swap ? { swap } : {}), ...(mask ? { mask } : {}) });
  }

  flush(): void {
    if (this.pending.length > 0) this.chunks.push(Buffer.concat(this.pending));
    this.pending = [];
  }
}

function tagBytes(group: number, element: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(4);
  if (enc.littleEndian) {
    b.writeUInt16LE(group, 0);
    b.writeUInt16LE(element, 2);
  } else {
    b.writeUInt16BE(group, 0);
    b.writeUInt16BE(element, 2);
  }
  return b;
}

function u32(n: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(4);
  if (enc.littleEndian) b.writeUInt32LE(n, 0);
  else b.writeUInt32BE(n, 0);
  return b;
}

function elementHeader(tag: number, vr: string, length: number, enc: Encoding): Buffer {
  const t = tagBytes(groupOf(tag), elementOf(tag), enc);
  if (!enc.explicitVR) return Buffer.concat([t, u32(length, enc)]);
  if (hasLongLength(vr)) return Buffer.concat([t, Buffer.from(vr, 'latin1'), Buffer.alloc(2), u32(length, enc)]);
  if (length > 0xffff) {
    // A short-length VR cannot hold this value: write it as UN, which can (PS3.5 6.2.2 note).
    return Buffer.concat([t, Buffer.from('UN', 'latin1'), Buffer.alloc(2), u32(length, enc)]);
  }
  const l = Buffer.alloc(2);
  if (enc.littleEndian) l.writeUInt16LE(length, 0);
  else l.writeUInt16BE(length, 0);
  return Buffer.concat([t, Buffer.from(vr, 'latin1'), l]);
}

/** Values are written at even length (PS3.5 7.1.1), padded with the VR's pad byte. */
function evenValue(vr: string, value: Buffer): Buffer {
  return value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([padByteFor(vr)])]);
}

function writeElements(w: Writer, elements: readonly DataElement[], enc: Encoding): void {
  for (const e of elements) writeElement(w, e, enc);
}

function writeElement(w: Writer, e: DataElement, enc: Encoding): void {
  switch (e.kind) {
    case 'value': {
      const size = w.swapOrder ? WORD_SIZE[e.vr] : undefined;
      const v = evenValue(e.vr, size && e.value.length % size === 0 ? swapWords(e.value, size) : e.value);
      w.push(elementHeader(e.tag, e.vr, v.length, enc));
      w.push(v);
      return;
    }
    case 'fragments':
      w.push(elementHeader(e.tag, e.vr, UNDEFINED_LENGTH, enc));
      w.push(e.raw);
      return;
    case 'bulk':
      w.push(elementHeader(e.tag, e.vr, e.undefinedLength ? UNDEFINED_LENGTH : e.length, enc));
      // Encapsulated fragments are always little endian; native OW pixel words change order.
      w.pushRange(e.offset, e.length, w.swapOrder && !e.undefinedLength ? WORD_SIZE[e.vr] : undefined, e.undefinedLength ? undefined : e.mask);
      return;
    case 'sequence': {
      const asUN = e.unEncoding !== undefined && !sameEncoding(e.unEncoding, enc);
      const vr = asUN ? 'UN' : 'SQ';
      const itemEnc = asUN && e.unEncoding ? e.unEncoding : enc;
      // A sequence re-labelled UN must use undefined length so readers know to parse it (CP-246).
      const undefinedLength = e.undefinedLength || asUN;
      const body = e.items.map((item) => serializeItem(item, itemEnc, w.swapOrder && !asUN));
      const delimiter = Buffer.concat([tagBytes(0xfffe, 0xe0dd, itemEnc), u32(0, itemEnc)]);
      const length = undefinedLength ? UNDEFINED_LENGTH : body.reduce((n, b) => n + b.length, 0);
      w.push(elementHeader(e.tag, vr, length, enc));
      for (const b of body) w.push(b);
      if (undefinedLength) w.push(delimiter);
      return;
    }
    default: {
      const never: never = e;
      throw new Error(`unknown element kind ${String(never)}`);
    }
  }
}

function serializeItem(item: Item, enc: Encoding, swapOrder: boolean): Buffer {
  const inner = new Writer(swapOrder);
  writeElements(inner, item.elements, enc);
  inner.flush();
  const content = Buffer.concat(inner.chunks.map((c) => {
    if (Buffer.isBuffer(c)) return c;
    throw new Error('pixel data ranges are only allowed at the top level');
  }));
  const start = Buffer.concat([tagBytes(0xfffe, 0xe000, enc), u32(item.undefinedLength ? UNDEFINED_LENGTH : content.length, enc)]);
  if (!item.undefinedLength) return Buffer.concat([start, content]);
  return Buffer.concat([start, content, tagBytes(0xfffe, 0xe00d, enc), u32(0, enc)]);
}

/**
 * Serializes a dataset in the given encoding; top-level bulk data stays a source range. `source`
 * is the encoding the values were read in, when it differs (binary values change byte order).
 */
export function serializeDataset(elements: readonly DataElement[], enc: Encoding, source: Encoding = enc): Chunk[] {
  const w = new Writer(source.littleEndian !== enc.littleEndian);
  writeElements(w, elements, enc);
  w.flush();
  return w.chunks;
}

/** Preamble, 'DICM' and the meta group (explicit VR little endian) with its group length computed. */
export function serializeFileMeta(meta: readonly DataElement[]): Buffer {
  const body = new Writer();
  writeElements(body, meta.filter((e) => e.tag !== Tags.FileMetaInformationGroupLength), EXPLICIT_LE);
  body.flush();
  const content = Buffer.concat(body.chunks as Buffer[]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(content.length, 0);
  const lengthElement = Buffer.concat([elementHeader(Tags.FileMetaInformationGroupLength, 'UL', 4, EXPLICIT_LE), groupLength]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), lengthElement, content]);
}

/** A dataset deflated for the deflated transfer syntaxes, padded to even length (PS3.5 A.5). */
export function deflateDataset(bytes: Buffer): Buffer {
  const deflated = deflateRawSync(bytes);
  return deflated.length % 2 === 0 ? deflated : Buffer.concat([deflated, Buffer.alloc(1)]);
}
