import type { DataElement } from '../dicom/dataset.js';
import { type PixelMask, applyPixelMask } from '../dicom/pixel-bits.js';
import { Tags, elementOf, formatTag, groupOf, tagOf } from '../dicom/tag.js';
import type { Encoding } from '../dicom/transfer-syntax.js';

/** What to do about overlay planes drawn into the pixel data's unused bits. */
export type OverlayPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'mask'; readonly mask: PixelMask }
  /** They cannot be cleared here (compressed pixels, no unused bits): the file is held for review. */
  | { readonly kind: 'refuse'; readonly reason: string };

const OVERLAY_DATA = 0x3000;
/** Elements that describe an overlay plane's geometry or bits: a plane is declared when one is there. */
const PLANE_ELEMENTS = new Set([0x0010, 0x0011, 0x0100, 0x0102]);

const us = (dataset: readonly DataElement[], tag: number, enc: Encoding): number | undefined => {
  const e = dataset.find((x) => x.tag === tag);
  if (e?.kind !== 'value' || e.value.length < 2) return undefined;
  return enc.littleEndian ? e.value.readUInt16LE(0) : e.value.readUInt16BE(0);
};

/**
 * Overlay planes (60xx) without Overlay Data keep their bitmap in the pixel data's unused high
 * bits (PS3.3 C.9.2, retired but still written). Removing the 60xx group leaves the drawing in the
 * pixels, so native pixel data gets its unused bits cleared; anything else is refused.
 */
export function embeddedOverlayPlan(dataset: readonly DataElement[], enc: Encoding): OverlayPlan {
  const groups = new Set<number>();
  const withData = new Set<number>();
  for (const e of dataset) {
    const g = groupOf(e.tag);
    if ((g & 0xff00) !== 0x6000 || g % 2 !== 0) continue;
    if (elementOf(e.tag) === OVERLAY_DATA) withData.add(g);
    else if (PLANE_ELEMENTS.has(elementOf(e.tag))) groups.add(g);
  }
  const embedded = [...groups].filter((g) => !withData.has(g));
  const pixels = dataset.find((e) => e.tag === Tags.PixelData);
  if (embedded.length === 0 || !pixels) return { kind: 'none' };
  const plane = formatTag(tagOf(embedded[0] ?? 0x6000, OVERLAY_DATA)).replace(/^\(60../, '(60xx');
  if (pixels.kind === 'fragments' || pixels.kind === 'bulk' && pixels.undefinedLength) {
    return { kind: 'refuse', reason: `overlay plane in the unused bits of compressed pixel data (${plane} absent): cannot be cleared without decoding` };
  }
  const bitsAllocated = us(dataset, Tags.BitsAllocated, enc);
  const bitsStored = us(dataset, Tags.BitsStored, enc);
  const highBit = us(dataset, Tags.HighBit, enc);
  if ((bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) || bitsStored === undefined || highBit === undefined
    || bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    return { kind: 'refuse', reason: 'overlay plane in the pixel data, with Bits Allocated/Stored/High Bit that do not describe the pixels' };
  }
  const low = highBit - bitsStored + 1;
  const drawnIntoValues = embedded.some((g) => {
    const position = us(dataset, tagOf(g, 0x0102), enc);
    return position !== undefined && position >= low && position <= highBit;
  });
  if (bitsStored === bitsAllocated || drawnIntoValues) {
    return { kind: 'refuse', reason: 'overlay plane in the pixel data inside the stored bits: it is drawn into the pixel values' };
  }
  return {
    kind: 'mask',
    mask: { bitsAllocated, bitsStored, highBit, signed: us(dataset, Tags.PixelRepresentation, enc) === 1, littleEndian: enc.littleEndian },
  };
}

/** The data set with its native pixel data masked: a streamed range carries the mask, held bytes are masked now. */
export function withPixelMask(dataset: readonly DataElement[], mask: PixelMask): DataElement[] {
  return dataset.map((e) => {
    if (e.tag !== Tags.PixelData) return e;
    if (e.kind === 'bulk') return { ...e, mask };
    if (e.kind === 'value') {
      const value = Buffer.from(e.value);
      applyPixelMask(value, mask);
      return { ...e, value };
    }
    return e;
  });
}
