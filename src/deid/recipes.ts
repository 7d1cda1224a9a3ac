import { z } from 'zod';
import { UsageError } from '../config/usage-error.js';
import { type DataElement } from '../dicom/dataset.js';
import { type Tag, Tags, elementOf, formatTag, groupOf, isPrivateTag, tagOf } from '../dicom/tag.js';
import { conformsToVr } from '../dicom/value-syntax.js';
import { KNOWN_VRS, dictionaryVr, isStringVr } from '../dicom/vr.js';

/**
 * A project's own rule (a recipe, as pydicom/deid calls them): keep, remove or replace one standard
 * attribute, or one private attribute named by its creator and element. Recipes are checked before
 * Table E.1-1, at every depth; what they keep still has its dates shifted and the UIDs the profile
 * replaces remapped, so a recipe can widen what is kept but never lets an original UID out.
 */
export interface Recipe {
  /** Standard: the tag. Private: the group and the element's low byte, `(gggg,00ee)`. */
  readonly tag: Tag;
  /** Private attributes only: the creator that reserves the block. */
  readonly creator?: string;
  readonly action: 'keep' | 'remove' | 'replace';
  /** `replace` only: ASCII text (the same bytes under every character set). */
  readonly value?: string;
  /** Private attributes only: the VR, so an implicit-VR value is handled as what it is. */
  readonly vr?: string;
  /** Shown in logs and in the output's De-identification Method. */
  readonly basis: string;
}

const TAG = /^\(([0-9A-Fa-f]{4}),(?:([0-9A-Fa-f]{4})|[xX]{2}([0-9A-Fa-f]{2}))\)$/;
/** The UIDs that name an instance: every output needs them. */
const REQUIRED = new Set<number>([Tags.SOPClassUID, Tags.SOPInstanceUID, Tags.StudyInstanceUID, Tags.SeriesInstanceUID]);
/** Attributes the engine itself must own: the pseudonym, the provenance, the file's structure and pixels. */
const RESERVED = new Set<number>([
  Tags.PatientName, Tags.PatientID, Tags.PatientIdentityRemoved, Tags.DeidentificationMethod,
  Tags.DeidentificationMethodCodeSequence, Tags.LongitudinalTemporalInformationModified, Tags.SpecificCharacterSet,
]);

export const recipeSchema = z.object({
  /** '(0018,1030)' for a standard attribute; '(0019,xx0C)' with `creator` for a private one. */
  tag: z.string(),
  creator: z.string().min(1).max(64).optional(),
  action: z.enum(['keep', 'remove', 'replace']),
  value: z.string().optional(),
  vr: z.string().optional(),
}).strict();
export type RecipeInput = z.infer<typeof recipeSchema>;

/** Checks one recipe as written in a config; the message says what is wrong (never a value's text). */
export function parseRecipe(input: RecipeInput, index: number): Recipe | string {
  const m = TAG.exec(input.tag.trim());
  if (!m) return `tag must look like (0018,1030) or (0019,xx0C)`;
  const group = parseInt(m[1] ?? '', 16);
  const privateTag = isPrivateTag(tagOf(group, 0));
  let tag: Tag;
  if (privateTag) {
    if (!input.creator) return 'a private attribute needs its creator';
    if (group <= 0x0007 || group === 0xffff) return 'not a group that can hold private attributes';
    const low = m[3] !== undefined ? parseInt(m[3], 16) : parseInt(m[2] ?? '', 16);
    if (m[2] !== undefined && parseInt(m[2], 16) < 0x1000) return 'a private element is written (gggg,xxEE), as in Table E.3.10-1';
    tag = tagOf(group, low & 0xff);
  } else {
    if (input.creator !== undefined) return 'a standard attribute has no creator';
    if (m[2] === undefined) return 'a standard attribute is written with its full element, (gggg,eeee)';
    tag = tagOf(group, parseInt(m[2], 16));
    if (group === 0x0002 || group === 0xfffe || elementOf(tag) === 0x0000) return `${formatTag(tag)} is file structure, not an attribute`;
    if (RESERVED.has(tag)) return `${formatTag(tag)} is set by the engine itself`;
    if (group === 0x7fe0) return 'pixel data is not changed by rules';
    if (dictionaryVr(tag) === 'UI' && input.action !== 'remove') {
      return `${formatTag(tag)} is a UID: UIDs are kept only all together (option retain-uids), so references stay intact`;
    }
    if (REQUIRED.has(tag) && input.action === 'remove') return `${formatTag(tag)} names the instance: without it no output can be filed`;
  }
  const vr = input.vr?.toUpperCase();
  if (vr !== undefined && (!privateTag || !KNOWN_VRS.has(vr) || vr === 'SQ')) return 'vr is given for private attributes only, and must be a DICOM VR other than SQ';
  if (vr === 'UI' && input.action !== 'remove') return 'a private UID is remapped like every instance UID: keep or replace it with vr UI is refused';
  if (input.action === 'replace') {
    if (input.value === undefined) return 'replace needs a value';
    if (!/^[\x20-\x7e]{0,64}$/.test(input.value)) return 'value must be printable ASCII, at most 64 characters';
    const textVr = privateTag ? vr : dictionaryVr(tag);
    if (!textVr || !isStringVr(textVr) || textVr === 'UI') return 'replace works on text attributes only (give vr for a private one)';
    if (!conformsToVr(textVr, Buffer.from(input.value, 'latin1'))) return `value is not a valid ${textVr}`;
  } else if (input.value !== undefined) {
    return 'value is used by replace only';
  }
  const name = privateTag ? `(${m[1]?.toUpperCase()},xx${(elementOf(tag)).toString(16).toUpperCase().padStart(2, '0')}) ${input.creator}` : formatTag(tag);
  return {
    tag, action: input.action, basis: `project rule ${index + 1}: ${input.action} ${name}`,
    ...(privateTag ? { creator: input.creator?.trim() } : {}),
    ...(input.value !== undefined ? { value: input.value } : {}),
    ...(vr !== undefined ? { vr } : {}),
  };
}

/** Recipes as written in a config, checked; throws a UsageError naming the rule that is wrong. */
export function parseRecipes(inputs: readonly RecipeInput[]): Recipe[] {
  const recipes = inputs.map((input, i) => {
    const r = parseRecipe(input, i);
    if (typeof r === 'string') throw new UsageError(`rules.${i}: ${r}`);
    return r;
  });
  const twice = duplicateRecipe(recipes);
  if (twice) throw new UsageError(`rules: ${twice} names an attribute another rule names too`);
  return recipes;
}

/** A recipe list that repeats an attribute is ambiguous: refused. */
export function duplicateRecipe(recipes: readonly Recipe[]): string | undefined {
  const seen = new Set<string>();
  for (const r of recipes) {
    const key = `${r.creator ?? ''}|${r.tag}`;
    if (seen.has(key)) return r.basis;
    seen.add(key);
  }
  return undefined;
}

/** The private creator that reserves the block of `tag`, as written among its siblings. */
export function creatorOf(tag: Tag, siblings: readonly DataElement[]): string | undefined {
  const creatorTag = tagOf(groupOf(tag), elementOf(tag) >> 8);
  const e = siblings.find((x) => x.tag === creatorTag);
  return e?.kind === 'value' ? e.value.toString('latin1').replace(/[\0 ]+$/, '').trim() : undefined;
}

/** The recipe for a standard element, or for a private data element under its creator. */
export function recipeFor(tag: Tag, siblings: readonly DataElement[], recipes: readonly Recipe[]): Recipe | undefined {
  if (recipes.length === 0) return undefined;
  if (!isPrivateTag(tag)) return recipes.find((r) => r.creator === undefined && r.tag === tag);
  if (elementOf(tag) < 0x1000) return undefined;
  const creator = creatorOf(tag, siblings);
  if (creator === undefined) return undefined;
  const key = tagOf(groupOf(tag), elementOf(tag) & 0xff);
  return recipes.find((r) => r.creator === creator && r.tag === key);
}
