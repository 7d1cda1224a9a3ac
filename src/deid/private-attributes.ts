import type { DataElement } from '../dicom/dataset.js';
import { type Tag, elementOf, groupOf, isPrivateTag } from '../dicom/tag.js';
import type { Profile, Rule } from './profile.js';
import { creatorOf, recipeFor } from './recipes.js';
import { SAFE_PRIVATE_ATTRIBUTES } from './rules/safe-private.generated.js';

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');

const REMOVE: Rule = { action: { do: 'remove' }, basis: 'E.1-1 private attributes X' };

/** A rule for a private element, with the VR its value has (private data in implicit VR reads as UN). */
export type PrivateRule = Rule & { readonly safeVr?: string };

/** VR of a safe private attribute per Table E.3.10-1, or undefined if it is not listed. */
function safeVr(tag: Tag, elements: readonly DataElement[]): string | undefined {
  const el = elementOf(tag);
  if (el >> 8 < 0x10) return undefined;
  const creator = creatorOf(tag, elements);
  if (creator === undefined) return undefined;
  return SAFE_PRIVATE_ATTRIBUTES.get(`${creator}|${hex(groupOf(tag), 4)}|${hex(el & 0xff, 2)}`);
}

/** The rule for a private data element (not a creator): a project recipe, else Table E.3.10-1. */
function dataElementRule(tag: Tag, elements: readonly DataElement[], profile: Profile): PrivateRule {
  const recipe = recipeFor(tag, elements, profile.recipes);
  if (recipe) {
    const vr = recipe.vr ? { safeVr: recipe.vr } : {};
    switch (recipe.action) {
      case 'keep': return { action: { do: 'keep' }, basis: recipe.basis, ...vr };
      case 'remove': return { action: { do: 'remove' }, basis: recipe.basis };
      case 'replace': return { action: { do: 'replace', value: recipe.value ?? '' }, basis: recipe.basis, ...vr };
    }
  }
  if (!profile.options.has('retainSafePrivate')) return REMOVE;
  const vr = safeVr(tag, elements);
  return vr === undefined ? REMOVE : { action: { do: 'keep' }, basis: 'E.3.10-1 safe private attribute', safeVr: vr };
}

/**
 * The rule for a private element (odd group): removed, unless a project recipe keeps it or Retain
 * Safe Private is chosen and Table E.3.10-1 lists it under its creator; a creator element stays
 * while it reserves a kept one.
 */
export function privateRule(tag: Tag, elements: readonly DataElement[], profile: Profile): PrivateRule {
  if (!isPrivateTag(tag)) return REMOVE;
  const el = elementOf(tag);
  if (el < 0x0010) return REMOVE;
  if (el <= 0x00ff) {
    const reservesKept = elements.some((x) => groupOf(x.tag) === groupOf(tag) && elementOf(x.tag) >> 8 === el
      && dataElementRule(x.tag, elements, profile).action.do !== 'remove');
    return reservesKept ? { action: { do: 'keep' }, basis: 'creator of a kept private attribute' } : REMOVE;
  }
  return dataElementRule(tag, elements, profile);
}
