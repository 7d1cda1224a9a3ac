import type { DataElement, Item, SequenceElement, ValueElement } from '../dicom/dataset.js';
import { elementOf, groupOf, isPrivateTag, tagOf } from '../dicom/tag.js';
import { conformsToVr } from '../dicom/value-syntax.js';
import { dummyValue } from './dummy-values.js';

/** Binary numbers and tags name no one, and zeroing them could break what they count or point at. */
const NUMERIC_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV', 'AT']);
/**
 * Coded strings that give an item its structure (SR value and relationship types, graphic types
 * and units): kept so the dummy item stays valid. Any other CS can hold 'DOE JOHN' and is replaced.
 */
const STRUCTURAL_CS = new Set([
  tagOf(0x0040, 0xa040), // Value Type
  tagOf(0x0040, 0xa010), // Relationship Type
  tagOf(0x0040, 0xa050), // Continuity Of Content
  tagOf(0x0040, 0xa130), // Temporal Range Type
  tagOf(0x0040, 0xdb00), // Template Identifier
  tagOf(0x0008, 0x0105), // Mapping Resource
  tagOf(0x0070, 0x0003), // Bounding Box Annotation Units
  tagOf(0x0070, 0x0005), // Graphic Annotation Units
  tagOf(0x0070, 0x0023), // Graphic Type
  tagOf(0x0070, 0x0024), // Graphic Filled
  tagOf(0x0070, 0x0002), // Graphic Layer
  tagOf(0x0070, 0x0012), // Bounding Box Text Horizontal Justification
]);

/**
 * A D-coded sequence, replaced (PS3.15 E.1-1 action D): at most one item, built from the shape of
 * the first original item with every value a dummy, so that an IOD needing an item still has one.
 * Nothing original survives: text, dates, codes and IDs become dummies, opaque bytes zeros, UIDs
 * remapped ones, nested sequences dummies in turn; private and encapsulated data are dropped.
 * Coded strings that give the item its structure (`CONTAINS`, `TEXT`, `POLYLINE`) are kept, when
 * valid; every other CS is replaced too.
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
    else if (e.kind === 'value') elements.push({ ...e, value: dummyOf(e, remapUid) });
    // fragments and bulk data: an icon or pixels inside a replaced sequence go with it
  }
  return { elements, undefinedLength: item.undefinedLength };
}

function dummyOf({ tag, vr, value }: ValueElement, remapUid: (value: Buffer) => Buffer): Buffer {
  if (NUMERIC_VRS.has(vr) || vr === 'CS' && STRUCTURAL_CS.has(tag) && conformsToVr('CS', value)) return value;
  if (vr === 'UI') return remapUid(value);
  if (['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'].includes(vr)) return Buffer.alloc(value.length);
  return dummyValue(vr);
}
