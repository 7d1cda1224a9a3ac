import type { DataElement, Item } from './dataset.js';
import { type Tag, Tags, formatTag, isBulkPixelTag, tagOf } from './tag.js';
import { type Encoding, EXPLICIT_LE, IMPLICIT_LE, sameEncoding } from './transfer-syntax.js';
import { KNOWN_VRS, type PixelContext, dictionaryVr, hasLongLength, isStringVr, resolveVr } from './vr.js';

export type ParseErrorCode = 'not-dicom' | 'truncated' | 'malformed' | 'unsupported' | 'empty';

/** Why a file cannot be read. Messages name tags and offsets only, never values. */
export class DicomParseError extends Error {
  constructor(readonly code: ParseErrorCode, message: string, options?: { cause?: unknown }) {
    super(`[dicom:parse] ${code}: ${message}`, options);
    this.name = 'DicomParseError';
  }
}

/** Internal signal: the buffer ends before the element does and more of the file exists. */
export class NeedMoreData extends Error {
  constructor() {
    super('need more data');
  }
}

const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 64;

export interface ParseInput {
  readonly buf: Buffer;
  /** Offset of buf[0] in the source byte stream, so bulk offsets are absolute. */
  readonly base: number;
  /** The buffer runs to the end of the stream: running out is truncation, not a reason to read more. */
  readonly complete: boolean;
  /** Stop at top-level pixel data and report where it is instead of holding its bytes. */
  readonly streamBulk: boolean;
}

/** Where the header parse stopped: at top-level pixel data, or at the end of the stream. */
export type TopLevelStop =
  | { readonly at: 'end' }
  | {
      readonly at: 'bulk';
      readonly tag: Tag;
      readonly vr: string;
      /** Absolute offset of the value. */
      readonly valueOffset: number;
      readonly length: number | 'undefined';
    };

export interface TopLevelResult {
  readonly elements: DataElement[];
  readonly stop: TopLevelStop;
}

interface Header {
  readonly tag: Tag;
  readonly vr: string;
  readonly length: number;
  readonly headerLength: number;
}

const sequence = (tag: Tag, items: Item[], undefinedLength: boolean, unEncoding: Encoding | undefined): DataElement =>
  unEncoding ? { kind: 'sequence', tag, items, undefinedLength, unEncoding } : { kind: 'sequence', tag, items, undefinedLength };

class Parser {
  /** Pixel Representation as read so far: it precedes the elements whose VR depends on it. */
  private readonly pixels: { pixelRepresentation?: number } = {};

  constructor(private readonly input: ParseInput) {}

  private knownVr(tag: Tag): string {
    return resolveVr(dictionaryVr(tag), this.pixels as PixelContext);
  }

  private need(pos: number, n: number): void {
    if (pos + n <= this.input.buf.length) return;
    if (this.input.complete) {
      throw new DicomParseError('truncated', `stream ends at offset ${this.input.base + this.input.buf.length}, ${n} bytes needed at offset ${this.input.base + pos}`);
    }
    throw new NeedMoreData();
  }

  private u16(pos: number, enc: Encoding): number {
    return enc.littleEndian ? this.input.buf.readUInt16LE(pos) : this.input.buf.readUInt16BE(pos);
  }

  private u32(pos: number, enc: Encoding): number {
    return enc.littleEndian ? this.input.buf.readUInt32LE(pos) : this.input.buf.readUInt32BE(pos);
  }

  private readHeader(pos: number, enc: Encoding): Header {
    this.need(pos, 8);
    const tag = tagOf(this.u16(pos, enc), this.u16(pos + 2, enc));
    if (tag >>> 16 === 0xfffe) {
      return { tag, vr: '', length: this.u32(pos + 4, enc), headerLength: 8 };
    }
    if (!enc.explicitVR) {
      return { tag, vr: this.knownVr(tag), length: this.u32(pos + 4, enc), headerLength: 8 };
    }
    const vr = this.input.buf.toString('latin1', pos + 4, pos + 6);
    if (!KNOWN_VRS.has(vr)) {
      throw new DicomParseError('malformed', `invalid VR at ${formatTag(tag)}, offset ${this.input.base + pos}`);
    }
    if (hasLongLength(vr)) {
      this.need(pos, 12);
      return { tag, vr, length: this.u32(pos + 8, enc), headerLength: 12 };
    }
    return { tag, vr, length: this.u16(pos + 6, enc), headerLength: 8 };
  }

  parseTopLevel(start: number, enc: Encoding): TopLevelResult {
    const elements: DataElement[] = [];
    let pos = start;
    for (;;) {
      if (pos === this.input.buf.length) {
        if (this.input.complete) return { elements, stop: { at: 'end' } };
        throw new NeedMoreData();
      }
      // Trailing zero padding after the last element (seen in the wild): nothing more to read.
      if (this.input.complete && this.isZeroTail(pos)) return { elements, stop: { at: 'end' } };
      const h = this.readHeader(pos, enc);
      if (this.input.streamBulk && isBulkPixelTag(h.tag)) {
        return {
          elements,
          stop: {
            at: 'bulk', tag: h.tag, vr: h.vr, valueOffset: this.input.base + pos + h.headerLength,
            length: h.length === UNDEFINED_LENGTH ? 'undefined' : h.length,
          },
        };
      }
      const { element, next } = this.parseElementValue(pos, h, enc, 0);
      if (element.tag === Tags.PixelRepresentation && element.kind === 'value' && element.value.length >= 2) {
        this.pixels.pixelRepresentation = enc.littleEndian ? element.value.readUInt16LE(0) : element.value.readUInt16BE(0);
      }
      elements.push(element);
      pos = next;
    }
  }

  /** The file meta group: explicit VR little endian elements of group 0002 (PS3.10 7.1). */
  parseMetaGroup(start: number): { elements: DataElement[]; next: number } {
    const elements: DataElement[] = [];
    let pos = start;
    for (;;) {
      this.need(pos, 2);
      if (this.input.buf.readUInt16LE(pos) !== 0x0002) return { elements, next: pos };
      const h = this.readHeader(pos, EXPLICIT_LE);
      if (h.length === UNDEFINED_LENGTH) throw new DicomParseError('malformed', `undefined length in the meta group at ${formatTag(h.tag)}`);
      const { element, next } = this.parseElementValue(pos, h, EXPLICIT_LE, 0);
      elements.push(element);
      pos = next;
    }
  }

  private isZeroTail(pos: number): boolean {
    const buf = this.input.buf;
    if (buf.length - pos > 1024) return false;
    for (let i = pos; i < buf.length; i++) if (buf[i] !== 0) return false;
    return true;
  }

  /** Elements until `end` (an offset) or an item delimiter (`end` undefined). */
  private parseElements(start: number, end: number | undefined, enc: Encoding, depth: number): { elements: DataElement[]; next: number } {
    const elements: DataElement[] = [];
    let pos = start;
    while (end === undefined || pos < end) {
      const h = this.readHeader(pos, enc);
      if (h.tag === Tags.ItemDelimitationItem) {
        if (end !== undefined) throw new DicomParseError('malformed', `item delimiter inside a defined-length item at offset ${this.input.base + pos}`);
        return { elements, next: pos + 8 };
      }
      if (h.tag >>> 16 === 0xfffe) {
        throw new DicomParseError('malformed', `unexpected ${formatTag(h.tag)} at offset ${this.input.base + pos}`);
      }
      const { element, next } = this.parseElementValue(pos, h, enc, depth);
      elements.push(element);
      pos = next;
    }
    if (pos !== end) throw new DicomParseError('malformed', `element overruns its item at offset ${this.input.base + pos}`);
    return { elements, next: pos };
  }

  private parseElementValue(pos: number, h: Header, enc: Encoding, depth: number): { element: DataElement; next: number } {
    if (depth > MAX_DEPTH) throw new DicomParseError('unsupported', `sequences nested deeper than ${MAX_DEPTH}`);
    const valuePos = pos + h.headerLength;
    if (h.length === UNDEFINED_LENGTH) {
      const pixelLike = h.tag === Tags.PixelData || (enc.explicitVR && h.vr !== 'SQ' && h.vr !== 'UN');
      if (pixelLike) return this.parseFragments(valuePos, h);
      // SQ; UN of undefined length (CP-246: implicit little endian inside); implicit-VR undefined length.
      const itemEncoding = h.vr === 'UN' ? IMPLICIT_LE : enc;
      return this.parseSequence(valuePos, undefined, h.tag, itemEncoding, !sameEncoding(itemEncoding, enc), depth);
    }
    this.need(valuePos, h.length);
    const end = valuePos + h.length;
    if (h.vr === 'SQ') return this.parseSequence(valuePos, end, h.tag, enc, false, depth);
    if (h.vr === 'UN' && enc.explicitVR) {
      const known = this.knownVr(h.tag);
      if (known === 'SQ') {
        try {
          return this.parseSequence(valuePos, end, h.tag, IMPLICIT_LE, !sameEncoding(IMPLICIT_LE, enc), depth);
        } catch (e) {
          if (!(e instanceof DicomParseError)) throw e; // not a parsable sequence: keep as opaque UN below
        }
      } else if (known !== 'UN' && (isStringVr(known) || enc.littleEndian)) {
        // A standard attribute sent as UN gets its real VR, so its rule (and date shift) applies
        // and it is written with a VR strict readers accept. UN values are little endian (PS3.5
        // 6.2.2), so binary ones are relabelled only where that is the file's byte order too.
        return { element: { kind: 'value', tag: h.tag, vr: known, value: this.input.buf.subarray(valuePos, end) }, next: end };
      }
    }
    return { element: { kind: 'value', tag: h.tag, vr: h.vr, value: this.input.buf.subarray(valuePos, end) }, next: end };
  }

  private parseSequence(start: number, end: number | undefined, tag: Tag, itemEncoding: Encoding, asUN: boolean, depth: number): { element: DataElement; next: number } {
    const items: Item[] = [];
    let pos = start;
    while (end === undefined || pos < end) {
      const h = this.readHeader(pos, itemEncoding);
      if (h.tag === Tags.SequenceDelimitationItem) {
        if (end !== undefined) throw new DicomParseError('malformed', `sequence delimiter inside a defined-length sequence at offset ${this.input.base + pos}`);
        pos += 8;
        return { element: sequence(tag, items, true, asUN ? itemEncoding : undefined), next: pos };
      }
      if (h.tag !== Tags.Item) throw new DicomParseError('malformed', `expected an item in ${formatTag(tag)} at offset ${this.input.base + pos}`);
      const itemStart = pos + 8;
      if (h.length === UNDEFINED_LENGTH) {
        const r = this.parseElements(itemStart, undefined, itemEncoding, depth + 1);
        items.push({ elements: r.elements, undefinedLength: true });
        pos = r.next;
      } else {
        this.need(itemStart, h.length);
        const r = this.parseElements(itemStart, itemStart + h.length, itemEncoding, depth + 1);
        items.push({ elements: r.elements, undefinedLength: false });
        pos = r.next;
      }
    }
    if (pos !== end) throw new DicomParseError('malformed', `item overruns ${formatTag(tag)} at offset ${this.input.base + pos}`);
    return { element: sequence(tag, items, false, asUN ? itemEncoding : undefined), next: pos };
  }

  /** Encapsulated fragments (always little endian, PS3.5 A.4): items up to the sequence delimiter. */
  private parseFragments(start: number, h: Header): { element: DataElement; next: number } {
    let pos = start;
    for (;;) {
      this.need(pos, 8);
      const tag = tagOf(this.input.buf.readUInt16LE(pos), this.input.buf.readUInt16LE(pos + 2));
      const length = this.input.buf.readUInt32LE(pos + 4);
      pos += 8;
      if (tag === Tags.SequenceDelimitationItem) break;
      if (tag !== Tags.Item || length === UNDEFINED_LENGTH) {
        throw new DicomParseError('malformed', `bad fragment item in ${formatTag(h.tag)} at offset ${this.input.base + pos - 8}`);
      }
      this.need(pos, length);
      pos += length;
    }
    const vr = h.vr === 'UN' || h.vr === '' ? 'OB' : h.vr;
    return { element: { kind: 'fragments', tag: h.tag, vr, raw: this.input.buf.subarray(start, pos) }, next: pos };
  }
}

export function parseTopLevel(input: ParseInput, start: number, enc: Encoding): TopLevelResult {
  return new Parser(input).parseTopLevel(start, enc);
}

export function parseMetaGroup(input: ParseInput, start: number): { elements: DataElement[]; next: number } {
  return new Parser(input).parseMetaGroup(start);
}
