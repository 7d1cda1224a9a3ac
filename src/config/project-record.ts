import { z } from 'zod';

/**
 * A value stamped as an LO (PS3.5 6.2): at most 64 characters (and bytes), no backslash (it would split the
 * value in two), no control characters. Leading and trailing spaces are not significant in LO,
 * so a value of spaces only would be stamped empty: refused where a value is required.
 */
const lo = z.string()
  .max(64, 'at most 64 characters (a DICOM LO value)')
  // Readers (pydicom, dciodvfy) count an LO's 64 in bytes: a value that fits in UTF-8 fits in
  // every encoding it is written in (Latin-1 is never longer; a folded one is ASCII).
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 64, 'at most 64 bytes in UTF-8 (a DICOM LO value, as readers count it)')
  .refine((s) => !s.includes('\\'), 'must not contain a backslash (it separates DICOM values)')
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s), 'must not contain control characters');
const requiredLo = lo.refine((s) => s.trim() !== '', 'must not be blank');

/** A calendar date that exists: `2026-02-30` is refused, not rolled over to March. */
const isoDate = z.string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date written YYYY-MM-DD')
  .refine((s) => {
    const [y, m, d] = s.split('-').map(Number) as [number, number, number];
    const t = new Date(Date.UTC(y, m - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }, 'not a calendar date');

/**
 * The project record: the IRB protocol, its principal investigator and the data use agreement's
 * last day. With it, every output carries the Clinical Trial Subject attributes (PS3.3
 * C.7.1.3), and past `duaExpires` the project delivers nothing (see data-use-agreement.ts).
 */
export const projectRecordSchema = z.object({
  /** The IRB protocol number: Clinical Trial Protocol ID (0012,0020). */
  protocolId: requiredLo,
  /** Clinical Trial Protocol Name (0012,0021); stamped empty when absent (Type 2). */
  protocolName: lo.optional(),
  principalInvestigator: requiredLo,
  /** Clinical Trial Sponsor Name (0012,0010); the principal investigator when absent. */
  sponsorName: requiredLo.optional(),
  /** Clinical Trial Site ID (0012,0030) and Site Name (0012,0031); stamped empty when absent (Type 2). */
  siteId: lo.optional(),
  siteName: lo.optional(),
  /** The agreement's last valid day (the machine's local date): from the day after, nothing is delivered. */
  duaExpires: isoDate,
}).strict();

export type ProjectRecord = z.infer<typeof projectRecordSchema>;
