import type { DataElement } from '../dicom/dataset.js';
import { type Tag, elementOf, groupOf, isPrivateTag, tagOf } from '../dicom/tag.js';
import type { Profile, Rule } from './profile.js';
import { SAFE_PRIVATE_ATTRIBUTES } from './rules/safe-private.generated.js';

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');

const REMOVE: Rule = { action: { do: 'remove' }, basis: 'E.1-1 private attributes X' };

/** The private creator that reserves the block of `tag`, as written in `elements`. */
function creatorOf(tag: Tag, elements: readonly DataElement[]): string | undefined {
  const creatorTag = tagOf(groupOf(tag), elementOf(tag) >> 8);
  const e = elements.find((x) => x.tag === creatorTag);
  return e?.kind === 'value' ? e.value.toString('latin1').replace(/[\0 ]+$/, '').trim() : undefined;
}

/** VR of a safe private attribute per Table E.3.10-1, or undefined if it is not listed. */
function safeVr(tag: Tag, elements: readonly DataElement[]): string | undefined {
  const el = elementOf(tag);
  if (el >> 8 < 0x10) return undefined;
  const creator = creatorOf(tag, elements);
  if (creator === undefined) return undefined;
  return SAFE_PRIVATE_ATTRIBUTES.get(`${creator}|${hex(groupOf(tag), 4)}|${hex(el & 0xff, 2)}`);
}

/**
 * The rule for a private element (odd group): removed, unless Retain Safe Private is chosen and
 * Table E.3.10-1 lists it under its creator; a creator element stays while it reserves a kept one.
 */
export function privateRule(tag: Tag, elements: readonly DataElement[], profile: Profile): Rule & { safeVr?: string } {
  if (!isPrivateTag(tag) || !profile.options.has('retainSafePrivate')) return REMOVE;
  const el = elementOf(tag);
  if (el < 0x0010) return REMOVE;
  if (el <= 0x00ff) {
    const reservesKept = elements.some((x) => groupOf(x.tag) === groupOf(tag) && elementOf(x.tag) >> 8 === el && safeVr(x.tag, elements) !== undefined);
    return reservesKept ? { action: { do: 'keep' }, basis: 'E.3.10-1 creator of a safe private attribute' } : REMOVE;
  }
  const vr = safeVr(tag, elements);
  return vr === undefined ? REMOVE : { action: { do: 'keep' }, basis: 'E.3.10-1 safe private attribute', safeVr: vr };
}
