import type { PixelMask } from './pixel-bits.js';
import type { Encoding } from './transfer-syntax.js';
import type { Tag } from './tag.js';

/**
 * The parsed dataset. Values are kept as the raw bytes read, in the source's byte order, so an
 * element the rules keep is written back byte for byte (no decode/re-encode of text, which is
 * what keeps every Specific Character Set intact).
 */
export type DataElement = ValueElement | SequenceElement | FragmentsElement | BulkElement;

export interface ValueElement {
  readonly kind: 'value';
  readonly tag: Tag;
  readonly vr: string;
  readonly value: Buffer;
}

export interface SequenceElement {
  readonly kind: 'sequence';
  readonly tag: Tag;
  readonly items: readonly Item[];
  readonly undefinedLength: boolean;
  /**
   * Set only for a sequence that arrived as UN in another encoding than the file's (its items are
   * implicit VR little endian, PS3.5 6.2.2): it is written back as UN in that encoding, so its
   * bytes stay meaningful. Otherwise items use the enclosing dataset's encoding.
   */
  readonly unEncoding?: Encoding;
}

export interface Item {
  readonly elements: readonly DataElement[];
  readonly undefinedLength: boolean;
}

/** Encapsulated data nested inside a sequence (an icon image): small, kept as its raw item stream. */
export interface FragmentsElement {
  readonly kind: 'fragments';
  readonly tag: Tag;
  readonly vr: string;
  /** The items and the closing sequence delimiter, exactly as read. */
  readonly raw: Buffer;
}

/** Top-level pixel data: a byte range of the source file, streamed through on write. */
export interface BulkElement {
  readonly kind: 'bulk';
  readonly tag: Tag;
  readonly vr: string;
  /** Offset of the value (after the element header) in the source byte stream. */
  readonly offset: number;
  /** Length of the value in bytes; for encapsulated data, through the sequence delimiter. */
  readonly length: number;
  readonly undefinedLength: boolean;
  /** Native pixel data only: the unused bits to clear on the way through (embedded overlays). */
  readonly mask?: PixelMask;
}

export const findElement = (elements: readonly DataElement[], tag: Tag): DataElement | undefined =>
  elements.find((e) => e.tag === tag);

export const valueOf = (elements: readonly DataElement[], tag: Tag): Buffer | undefined => {
  const e = findElement(elements, tag);
  return e?.kind === 'value' ? e.value : undefined;
};

/** ASCII-only values (UI, CS, DA, …): trailing padding removed. */
export const asciiValue = (elements: readonly DataElement[], tag: Tag): string | undefined => {
  const v = valueOf(elements, tag);
  return v === undefined ? undefined : v.toString('latin1').replace(/[\0 ]+$/, '').trim();
};

export const sortElements = (elements: DataElement[]): DataElement[] =>
  elements.sort((a, b) => a.tag - b.tag);
