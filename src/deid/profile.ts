import { UsageError } from '../config/usage-error.js';
import { elementOf, groupOf, tagKey, type Tag } from '../dicom/tag.js';
import { dictionaryVr } from '../dicom/vr.js';
import type { Recipe } from './recipes.js';
import { PROFILE_PATTERN_ROWS, PROFILE_REVISION, PROFILE_ROWS } from './rules/confidentiality-profile.generated.js';
import type { BasicCode, ProfileOption, ProfileRow } from './rules/profile-row.js';

/** The cleaners behind the three Clean options (C in their columns of Table E.1-1). */
export type Cleaner = 'descriptors' | 'structuredContent' | 'graphics';

/**
 * What the engine does to one element. Rules are data; the engine switches over this union.
 * On a sequence: `keep` cleans the items by the same rules; `remove`, `empty` and `dummy` take the
 * whole subtree with them (a dummy sequence is rebuilt from dummy values, never the original
 * items); `clean` keeps the structure and runs its cleaner over everything inside.
 */
export type Action =
  | { readonly do: 'keep' }
  | { readonly do: 'remove' }
  | { readonly do: 'empty' }
  | { readonly do: 'dummy' }
  | { readonly do: 'remapUid' }
  | { readonly do: 'shiftDate' }
  | { readonly do: 'pseudonym' }
  | { readonly do: 'replace'; readonly value: string }
  /** Where the cleaner cannot work (a binary value, an ISO 2022 text), `fallback` (the Basic action) applies. */
  | { readonly do: 'clean'; readonly cleaner: Cleaner; readonly fallback: Action };

export interface Rule {
  readonly action: Action;
  /** Where the action comes from, e.g. "E.1-1 Basic X/Z → Z". Safe to log. */
  readonly basis: string;
}

/** Options a project can choose: every column of Table E.1-1 that this engine carries out. */
export const SUPPORTED_OPTIONS = [
  'retainLongModifiedDates', 'retainLongFullDates', 'retainPatientCharacteristics', 'retainDeviceIdentity',
  'retainInstitutionIdentity', 'retainUIDs', 'cleanDescriptors', 'cleanStructuredContent', 'cleanGraphics',
  'retainSafePrivate',
] as const satisfies readonly ProfileOption[];
export type SupportedOption = (typeof SUPPORTED_OPTIONS)[number];

export interface Profile {
  readonly options: ReadonlySet<SupportedOption>;
  /** The project's own rules (recipes), checked before the table. */
  readonly recipes: readonly Recipe[];
}

/** Dates are shifted unless full dates are retained: study dates are never blanked. */
export function resolveProfile(chosen: readonly SupportedOption[], recipes: readonly Recipe[] = []): Profile {
  const options = new Set(chosen);
  if (options.has('retainLongFullDates') && options.has('retainLongModifiedDates')) {
    throw new UsageError('options retain-long-full-dates and retain-long-modified-dates exclude each other');
  }
  if (!options.has('retainLongFullDates')) options.add('retainLongModifiedDates');
  return { options, recipes };
}

export const shiftsDates = (p: Profile): boolean => p.options.has('retainLongModifiedDates');

/** Compound codes depend on the attribute's type in the IOD. Without per-IOD type tables the
 * engine picks the choice that is valid for every type the code allows: a dummy where type 1 is
 * possible, an empty value where type 2 is, so no output loses IOD conformance. */
export const BASIC_ACTIONS: Record<BasicCode, Action> = {
  D: { do: 'dummy' }, Z: { do: 'empty' }, X: { do: 'remove' }, K: { do: 'keep' }, U: { do: 'remapUid' },
  C: { do: 'remove' }, // not used by the Basic Profile column; remove if it ever appears
  'Z/D': { do: 'dummy' }, 'X/Z': { do: 'empty' }, 'X/D': { do: 'dummy' }, 'X/Z/D': { do: 'dummy' },
  'X/Z/U*': { do: 'keep' }, // a sequence kept, its instance UIDs replaced by their own U rows
};

// Retain options are checked in this order; the first that says K wins.
const RETAIN_ORDER: readonly SupportedOption[] = [
  'retainUIDs', 'retainDeviceIdentity', 'retainInstitutionIdentity', 'retainPatientCharacteristics', 'retainSafePrivate',
];

const CLEANERS: ReadonlyArray<readonly [SupportedOption, Cleaner]> = [
  ['cleanDescriptors', 'descriptors'], ['cleanStructuredContent', 'structuredContent'], ['cleanGraphics', 'graphics'],
];

/** The rule of one row under the chosen options. `vr` is the attribute's dictionary VR. */
export function ruleForRow(row: ProfileRow, profile: Profile, vr: string): Rule {
  const o = profile.options;
  const basic = BASIC_ACTIONS[row.basic];
  // Date rows: the chosen temporal option wins over any other retain option. The shift is in whole
  // days, so times (TM) are kept; a C row that is neither a date nor a time (a UTC offset, a
  // binary timestamp) cannot be shifted and gets its Basic action.
  if (o.has('retainLongModifiedDates') && row.options.retainLongModifiedDates === 'C') {
    if (vr === 'DA' || vr === 'DT') return { action: { do: 'shiftDate' }, basis: 'E.1-1 Retain Longitudinal Modified Dates C (shifted)' };
    if (vr === 'TM') return { action: { do: 'keep' }, basis: 'E.1-1 Retain Longitudinal Modified Dates C (times kept: whole-day shift)' };
    return { action: basic, basis: `E.1-1 Retain Longitudinal Modified Dates C on ${vr || 'a non-date'}: Basic ${row.basic}` };
  }
  if (o.has('retainLongFullDates') && row.options.retainLongFullDates === 'K') {
    return { action: { do: 'keep' }, basis: 'E.1-1 Retain Longitudinal Full Dates K' };
  }
  for (const opt of RETAIN_ORDER) {
    if (o.has(opt) && row.options[opt] === 'K') return { action: { do: 'keep' }, basis: `E.1-1 ${opt} K` };
  }
  for (const [opt, cleaner] of CLEANERS) {
    if (o.has(opt) && row.options[opt] === 'C') {
      return { action: { do: 'clean', cleaner, fallback: basic }, basis: `E.1-1 ${opt} C` };
    }
  }
  return { action: basic, basis: `E.1-1 Basic ${row.basic} → ${basic.do}` };
}

/**
 * The rule of Table E.1-1 for a standard tag, or undefined when the table does not list it. `vr`
 * is the element's own VR where it is known (the dictionary of 2024b lacks some 2026c rows).
 */
export function ruleForStandardTag(tag: Tag, profile: Profile, vr: string = dictionaryVr(tag)): Rule | undefined {
  const row = PROFILE_ROWS.get(tagKey(tag));
  if (row) return ruleForRow(row, profile, vr);
  const group = groupOf(tag);
  // Overlay planes: with Overlay Data removed the rest of the plane is meaningless and can fail
  // IOD validation, so the whole (60xx) group goes with it. No cleaner reads overlay bitmaps, so
  // under Clean Graphics the plane is still removed (and the option not claimed for the file).
  if ((group & 0xff00) === 0x6000 && group % 2 === 0) {
    const remove: Action = { do: 'remove' };
    return profile.options.has('cleanGraphics')
      ? { action: { do: 'clean', cleaner: 'graphics', fallback: remove }, basis: 'E.1-1 (60xx,3000) Clean Graphics C: no bitmap cleaner, plane removed' }
      : { action: remove, basis: 'E.1-1 (60xx,3000) X: whole overlay plane removed' };
  }
  for (const p of PROFILE_PATTERN_ROWS) {
    if (p.groupHigh === null || group >> 8 !== p.groupHigh) continue;
    if (p.element === null || p.element === elementOf(tag)) return ruleForRow(p, profile, vr);
  }
  return undefined;
}

export { PROFILE_REVISION };
