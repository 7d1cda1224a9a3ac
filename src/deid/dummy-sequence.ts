import type { DataElement, Item, SequenceElement } from '../dicom/dataset.js';
import { elementOf, groupOf, isPrivateTag } from '../dicom/tag.js';
import { conformsToVr } from '../dicom/value-syntax.js';
import { dummyValue } from './dummy-values.js';

/** Binary numbers and tags name no one, and zeroing them could break what they count or point at. */
const NUMERIC_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV', 'AT']);

/**
 * A D-coded sequence, replaced (PS3.15 E.1-1 action D): at most one item, built from the shape of
 * the first original item with every value a dummy, so that an IOD needing an item still has one.
 * Nothing original survives: text, dates, codes and IDs become dummies, opaque bytes zeros, UIDs
 * remapped ones, nested sequences dummies in turn; private and encapsulated data are dropped.
 * Coded strings (CS) are kept: their values are defined terms (`CONTAINS`, `TEXT`) that keep the
 * item valid, and a valid CS cannot hold a name (upper case, digits, space and `_` only, 16 at
 * most); one that breaks that syntax is replaced too.
 */
export function dummySequence(e: SequenceElement, remapUid: (value: Buffer) => Buffer): SequenceElement {
  const first = e.items[0];
  return { ...e, items: first ? [dummyItem(first, remapUid)] : [] };
}

function dummyItem(item: Item, remapUid: (value: Buffer) => Buffer): Item {
  const elements: DataElement[] = [];
  for (const e of item.elements) {
    if (isPrivateTag(e.tag) || elementOf(e.tag) === 0x0000 || groupOf(e.tag) === 0x0002) continue;
    if (e.kind === 'sequence') elements.push(dummySequence(e, remapUid));
    else if (e.kind === 'value') elements.push({ ...e, value: dummyOf(e.vr, e.value, remapUid) });
    // fragments and bulk data: an icon or pixels inside a replaced sequence go with it
  }
  return { elements, undefinedLength: item.undefinedLength };
}

function dummyOf(vr: string, value: Buffer, remapUid: (value: Buffer) => Buffer): Buffer {
  if (NUMERIC_VRS.has(vr) || vr === 'CS' && conformsToVr('CS', value)) return value;
  if (vr === 'UI') return remapUid(value);
  if (['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'].includes(vr)) return Buffer.alloc(value.length);
  return dummyValue(vr);
}
