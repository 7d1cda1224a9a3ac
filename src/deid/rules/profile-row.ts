/** Codes of Table E.1-1's Basic Profile column (PS3.15 Table E.1-1a). */
export type BasicCode = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'Z/D' | 'X/Z' | 'X/D' | 'X/Z/D' | 'X/Z/U*';
/** Codes that appear in the option columns. */
export type OptionCode = 'K' | 'C';

/** The option columns of Table E.1-1, named as in the standard data. */
export const PROFILE_OPTIONS = [
  'retainSafePrivate', 'retainUIDs', 'retainDeviceIdentity', 'retainInstitutionIdentity',
  'retainPatientCharacteristics', 'retainLongFullDates', 'retainLongModifiedDates',
  'cleanDescriptors', 'cleanStructuredContent', 'cleanGraphics',
] as const;
export type ProfileOption = (typeof PROFILE_OPTIONS)[number];

export interface ProfileRow {
  readonly name: string;
  readonly basic: BasicCode;
  readonly options: Readonly<Partial<Record<ProfileOption, OptionCode>>>;
}

export interface ProfilePatternRow extends ProfileRow {
  readonly pattern: string;
  /** High byte of the group, for (50xx,…) and (60xx,…) rows; null for the private-attribute row. */
  readonly groupHigh: number | null;
  /** The element, or null when any element matches. */
  readonly element: number | null;
}
