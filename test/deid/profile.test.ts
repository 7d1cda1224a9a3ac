import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tagOf } from '../../src/dicom/tag.js';
import { resolveProfile, ruleForStandardTag } from '../../src/deid/profile.js';
import { PROFILE_ROWS } from '../../src/deid/rules/confidentiality-profile.generated.js';
import { REPO } from '../helpers/corpus.js';

const rule = (g: number, e: number, ...opts: Parameters<typeof resolveProfile>[0]) => ruleForStandardTag(tagOf(g, e), resolveProfile(opts))?.action.do;

describe('the generated Table E.1-1', () => {
  it('is what the generator makes from the standard data (never hand-edited)', () => {
    const copy = mkdtempSync(join(tmpdir(), 'deid-gen-'));
    cpSync(join(REPO, 'scripts'), join(copy, 'scripts'), { recursive: true });
    for (const d of ['src/deid/rules', 'src/dicom']) cpSync(join(REPO, d), join(copy, d), { recursive: true });
    execFileSync(process.execPath, [join(copy, 'scripts', 'generate-rules.mjs')]);
    for (const f of ['src/deid/rules/confidentiality-profile.generated.ts', 'src/deid/rules/safe-private.generated.ts', 'src/dicom/dictionary.generated.ts']) {
      expect(readFileSync(join(copy, f), 'utf8'), f).toBe(readFileSync(join(REPO, f), 'utf8'));
    }
  });

  it('has every row of the 2026c table plus the (3004,007F) correction', () => {
    const source = JSON.parse(readFileSync(join(REPO, 'scripts', 'standard', 'ps3.15-E.1-1.json'), 'utf8')) as unknown[];
    expect(source).toHaveLength(656);
    expect(PROFILE_ROWS.size).toBe(652 + 1);
    expect(PROFILE_ROWS.get('3004007F')?.basic).toBe('X');
  });
});

describe('rules per option', () => {
  it('applies the Basic Profile codes, choosing values valid for every attribute type', () => {
    expect(rule(0x0008, 0x0050)).toBe('empty'); // Accession Number Z
    expect(rule(0x0010, 0x1010)).toBe('remove'); // Patient's Age X
    expect(rule(0x0008, 0x0080)).toBe('dummy'); // Institution Name X/Z/D
    expect(rule(0x0008, 0x0018)).toBe('remapUid'); // SOP Instance UID U
    expect(rule(0x0008, 0x1140)).toBe('keep'); // Referenced Image Sequence X/Z/U*: UIDs inside remapped
    expect(rule(0x0008, 0x0016)).toBeUndefined(); // SOP Class UID: not in the table, kept
  });
  it('shifts dates by default and keeps them with full dates', () => {
    expect(rule(0x0008, 0x0020)).toBe('shiftDate');
    expect(rule(0x0008, 0x0020, 'retainLongFullDates')).toBe('keep');
    expect(() => resolveProfile(['retainLongFullDates', 'retainLongModifiedDates'])).toThrow(/exclude/);
  });
  it('lets the dates option win over device identity for calibration dates', () => {
    expect(rule(0x0018, 0x1200, 'retainDeviceIdentity')).toBe('shiftDate');
    expect(rule(0x0018, 0x1000, 'retainDeviceIdentity')).toBe('keep'); // Device Serial Number
    expect(rule(0x0018, 0x1000)).toBe('dummy');
  });
  it('keeps what each retain option lists', () => {
    expect(rule(0x0010, 0x1010, 'retainPatientCharacteristics')).toBe('keep');
    expect(rule(0x0008, 0x0080, 'retainInstitutionIdentity')).toBe('keep');
    expect(rule(0x0020, 0x000d, 'retainUIDs')).toBe('keep');
  });
  it('turns C rows into cleaning under the Clean options, with the Basic action as fallback', () => {
    const cd = ruleForStandardTag(tagOf(0x0008, 0x1030), resolveProfile(['cleanDescriptors']))?.action;
    expect(cd).toEqual({ do: 'clean', cleaner: 'descriptors', fallback: { do: 'remove' } }); // Study Description X, C
    expect(rule(0x0040, 0xa730, 'cleanStructuredContent')).toBe('clean'); // Content Sequence D, C
    expect(rule(0x0070, 0x0001, 'cleanGraphics')).toBe('clean'); // Graphic Annotation Sequence D, C
    expect(rule(0x0040, 0xa730)).toBe('dummy');
  });
  it('applies the Basic action to a dates C row that holds no date: Timezone Offset From UTC', () => {
    expect(rule(0x0008, 0x0201)).toBe('remove');
    expect(rule(0x0008, 0x0201, 'retainLongFullDates')).toBe('keep');
    expect(rule(0x0008, 0x0030)).toBe('keep'); // Study Time: whole-day shifts keep times
  });
  it('removes whole overlay planes and curves', () => {
    expect(rule(0x6000, 0x3000)).toBe('remove');
    expect(rule(0x6002, 0x0010)).toBe('remove');
    expect(rule(0x5000, 0x0005)).toBe('remove');
  });
});
