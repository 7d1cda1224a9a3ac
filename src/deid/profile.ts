import { UsageError } from '../config/usage-error.js';
import { elementOf, groupOf, tagKey, type Tag } from '../dicom/tag.js';
import { PROFILE_PATTERN_ROWS, PROFILE_REVISION, PROFILE_ROWS } from './rules/confidentiality-profile.generated.js';
import type { BasicCode, ProfileOption, ProfileRow } from './rules/profile-row.js';

/**
 * What the engine does to one element. Rules are data; the engine switches over this union.
 * On a sequence, `keep` cleans the items recursively, `dummy` does too and also replaces free
 * text inside, `empty` leaves no items.
 */
export type Action =
  | { readonly do: 'keep' }
  | { readonly do: 'remove' }
  | { readonly do: 'empty' }
  | { readonly do: 'dummy' }
  | { readonly do: 'remapUid' }
  | { readonly do: 'shiftDate' }
  | { readonly do: 'pseudonym' };

export interface Rule {
  readonly action: Action;
  /** Where the action comes from, e.g. "E.1-1 Basic X/Z → Z". Safe to log. */
  readonly basis: string;
}

/** Options a project can choose; the other columns of E.1-1 have no implementation here. */
export const SUPPORTED_OPTIONS = [
  'retainLongModifiedDates', 'retainLongFullDates', 'retainPatientCharacteristics', 'retainDeviceIdentity',
  'retainInstitutionIdentity', 'retainUIDs', 'cleanDescriptors', 'retainSafePrivate',
] as const satisfies readonly ProfileOption[];
export type SupportedOption = (typeof SUPPORTED_OPTIONS)[number];

export interface Profile {
  readonly options: ReadonlySet<SupportedOption>;
}

/** Dates are shifted unless full dates are retained: study dates are never blanked. */
export function resolveProfile(chosen: readonly SupportedOption[]): Profile {
  const options = new Set(chosen);
  if (options.has('retainLongFullDates') && options.has('retainLongModifiedDates')) {
    throw new UsageError('options retain-long-full-dates and retain-long-modified-dates exclude each other');
  }
  if (!options.has('retainLongFullDates')) options.add('retainLongModifiedDates');
  return { options };
}

export const shiftsDates = (p: Profile): boolean => p.options.has('retainLongModifiedDates');

/** Compound codes depend on the attribute's type in the IOD. Without per-IOD type tables the
 * engine picks the choice that is valid for every type the code allows: a dummy where type 1 is
 * possible, an empty value where type 2 is, so no output loses IOD conformance. */
const BASIC_ACTIONS: Record<BasicCode, Action> = {
  D: { do: 'dummy' }, Z: { do: 'empty' }, X: { do: 'remove' }, K: { do: 'keep' }, U: { do: 'remapUid' },
  C: { do: 'remove' }, // not used by the Basic Profile column; remove if it ever appears
  'Z/D': { do: 'dummy' }, 'X/Z': { do: 'empty' }, 'X/D': { do: 'dummy' }, 'X/Z/D': { do: 'dummy' },
  'X/Z/U*': { do: 'keep' }, // a sequence kept, its instance UIDs replaced by their own U rows
};

// Retain options are checked in this order; the first that says K wins.
const RETAIN_ORDER: readonly SupportedOption[] = [
  'retainUIDs', 'retainDeviceIdentity', 'retainInstitutionIdentity', 'retainPatientCharacteristics', 'retainSafePrivate',
];

export function ruleForRow(row: ProfileRow, profile: Profile): Rule {
  const o = profile.options;
  // Date rows: the chosen temporal option wins over any other retain option (shift, not keep).
  if (o.has('retainLongModifiedDates') && row.options.retainLongModifiedDates === 'C') {
    return { action: { do: 'shiftDate' }, basis: `E.1-1 Retain Longitudinal Modified Dates C (shifted)` };
  }
  if (o.has('retainLongFullDates') && row.options.retainLongFullDates === 'K') {
    return { action: { do: 'keep' }, basis: `E.1-1 Retain Longitudinal Full Dates K` };
  }
  for (const opt of RETAIN_ORDER) {
    if (o.has(opt) && row.options[opt] === 'K') return { action: { do: 'keep' }, basis: `E.1-1 ${opt} K` };
  }
  const action = BASIC_ACTIONS[row.basic];
  // C under Clean Descriptors and the like: no cleaner exists, so the Basic Profile action applies.
  return { action, basis: `E.1-1 Basic ${row.basic} → ${action.do}` };
}

/** The rule of Table E.1-1 for a standard tag, or undefined when the table does not list it. */
export function ruleForStandardTag(tag: Tag, profile: Profile): Rule | undefined {
  const row = PROFILE_ROWS.get(tagKey(tag));
  if (row) return ruleForRow(row, profile);
  const group = groupOf(tag);
  // Overlay planes: with Overlay Data removed the rest of the plane is meaningless and can fail
  // IOD validation, so the whole (60xx) group goes with it.
  if ((group & 0xff00) === 0x6000 && group % 2 === 0) {
    return { action: { do: 'remove' }, basis: 'E.1-1 (60xx,3000) X: whole overlay plane removed' };
  }
  for (const p of PROFILE_PATTERN_ROWS) {
    if (p.groupHigh === null || group >> 8 !== p.groupHigh) continue;
    if (p.element === null || p.element === elementOf(tag)) return ruleForRow(p, profile);
  }
  return undefined;
}

export { PROFILE_REVISION };
