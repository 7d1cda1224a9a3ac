import { describe, expect, it } from 'vitest';
import type { DataElement } from '../../src/dicom/dataset.js';
import { asciiValue } from '../../src/dicom/dataset.js';
import { tagOf } from '../../src/dicom/tag.js';
import { deidentify } from '../../src/deid/deidentify.js';
import { resolveProfile } from '../../src/deid/profile.js';
import { parseRecipes } from '../../src/deid/recipes.js';
import { configSchema } from '../../src/config/schema.js';

const text = (g: number, e: number, vr: string, s: string): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr, value: Buffer.from(s, 'latin1') });
const STUDY = '1.2.826.0.1.3680043.10.1137.55.1';
const dataset: DataElement[] = [
  text(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.4'),
  text(0x0008, 0x0018, 'UI', `${STUDY}.1`),
  text(0x0008, 0x1030, 'LO', 'Brain DWI'),
  text(0x0010, 0x0010, 'PN', 'Doe^Jane'),
  text(0x0018, 0x1030, 'LO', 'ep2d_diff'),
  text(0x0019, 0x0010, 'LO', 'SIEMENS MR HEADER'),
  text(0x0019, 0x100c, 'IS', '1000'), // the b-value
  text(0x0019, 0x100d, 'LO', `ref ${STUDY}`), // kept by a rule, yet holding an original UID
  text(0x0020, 0x000d, 'UI', STUDY),
];
const keys = { pseudonym: 'R_001', dateShiftDays: -5, uidSecret: Buffer.alloc(32, 3) };

describe('project rules (recipes)', () => {
  it('keep a vendor private value, replace or keep a standard one, before Table E.1-1', () => {
    const recipes = parseRecipes([
      { tag: '(0019,xx0C)', creator: 'SIEMENS MR HEADER', action: 'keep', vr: 'IS' },
      { tag: '(0019,xx0D)', creator: 'SIEMENS MR HEADER', action: 'keep' },
      { tag: '(0008,1030)', action: 'keep' },
      { tag: '(0018,1030)', action: 'replace', value: 'DIFFUSION' },
    ]);
    const out = deidentify(dataset, resolveProfile([], recipes), keys).dataset;
    expect(asciiValue(out, tagOf(0x0019, 0x100c))).toBe('1000');
    expect(asciiValue(out, tagOf(0x0019, 0x0010))).toBe('SIEMENS MR HEADER'); // its creator stays with it
    expect(asciiValue(out, tagOf(0x0019, 0x100d))).not.toContain(STUDY); // the UID inside is remapped
    expect(asciiValue(out, tagOf(0x0008, 0x1030))).toBe('Brain DWI');
    expect(asciiValue(out, tagOf(0x0018, 0x1030))).toBe('DIFFUSION');
    expect(asciiValue(out, tagOf(0x0012, 0x0063))).toContain('project rule 1: keep (0019,xx0C) SIEMENS MR HEADER');
    // without the rules: Basic Profile
    const basic = deidentify(dataset, resolveProfile([]), keys).dataset;
    expect(asciiValue(basic, tagOf(0x0019, 0x100c))).toBeUndefined();
    expect(asciiValue(basic, tagOf(0x0008, 0x1030))).toBeUndefined();
  });

  it.each([
    [{ tag: '(0010,0010)', action: 'keep' }, /set by the engine/],
    [{ tag: '(0019,xx0C)', action: 'keep' }, /needs its creator/],
    [{ tag: '(0020,000D)', action: 'keep' }, /retain-uids/],
    [{ tag: '(0018,1030)', action: 'replace' }, /needs a value/],
    [{ tag: '(0018,1030)', action: 'replace', value: 'Jäne' }, /printable ASCII/],
    [{ tag: 'StudyDescription', action: 'keep' }, /tag must look like/],
    [{ tag: '(7FE0,0010)', action: 'remove' }, /pixel data/],
  ] as const)('refuses %j with a clear message naming the rule', (rule, message) => {
    expect(() => parseRecipes([rule])).toThrow(message);
    const r = configSchema.safeParse({ store: 's.json', projects: [{ name: 'P', prefix: 'P_', inbox: 'i', outbox: 'o', quarantine: 'q', failed: 'f', rules: [rule] }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(message);
  });

  it('refuses two rules for one attribute', () => {
    expect(() => parseRecipes([{ tag: '(0008,1030)', action: 'keep' }, { tag: '(0008,1030)', action: 'remove' }])).toThrow(/another rule/);
  });
});
