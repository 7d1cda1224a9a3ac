import { describe, expect, it } from 'vitest';
import { type DataElement, asciiValue } from '../../src/dicom/dataset.js';
import { tagOf } from '../../src/dicom/tag.js';
import { EXPLICIT_LE } from '../../src/dicom/transfer-syntax.js';
import { deidentify } from '../../src/deid/deidentify.js';
import { embeddedOverlayPlan } from '../../src/deid/embedded-overlays.js';
import { resolveProfile, type SupportedOption } from '../../src/deid/profile.js';
import { parseRecipes } from '../../src/deid/recipes.js';
import { Tags } from '../../src/dicom/tag.js';

/** Inputs a fresh review found leaking or slow; each planted value must not come out. */
const v = (g: number, e: number, vr: string, s: string): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr, value: Buffer.from(s, 'latin1') });
const item = (...elements: DataElement[]) => ({ elements, undefinedLength: true });
const sq = (g: number, e: number, ...items: ReturnType<typeof item>[]): DataElement => ({ kind: 'sequence', tag: tagOf(g, e), items, undefinedLength: true });
const STUDY = '1.2.826.0.1.3680043.10.1137.66.5';
const base = [
  v(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.88.33'), v(0x0008, 0x0018, 'UI', `${STUDY}.1.1`),
  v(0x0010, 0x0010, 'PN', 'Doe^Jane'), v(0x0020, 0x000d, 'UI', STUDY), v(0x0020, 0x000e, 'UI', `${STUDY}.1`),
];
const keys = { pseudonym: 'H_001', dateShiftDays: -3, uidSecret: Buffer.alloc(32, 9) };
const run = (extra: DataElement[], ...options: SupportedOption[]): string => {
  const ds = [...base, ...extra].sort((a, b) => a.tag - b.tag);
  const out = deidentify(ds, resolveProfile(options), keys).dataset;
  const text = (list: readonly DataElement[]): string => list.map((e) => (e.kind === 'value' ? e.value.toString('latin1')
    : e.kind === 'sequence' ? e.items.map((i) => text(i.elements)).join('|') : '')).join('|');
  return text(out);
};

describe('hostile input', () => {
  it('does not copy a CS out of a replaced sequence unless it gives the item its structure', () => {
    expect(run([sq(0x0008, 0x1072, item(v(0x0040, 0xa040, 'CS', 'Jane Doe 778899')))])).not.toContain('Jane');
    const out = run([sq(0x0008, 0x1072, item(v(0x0040, 0xa040, 'CS', 'TEXT'), v(0x0018, 0x0015, 'CS', 'DOE JOHN')))]);
    expect(out).not.toContain('DOE JOHN');
    expect(out).toContain('TEXT');
  });

  it('classifies by the dictionary, whatever VR the file wrote', () => {
    const out = run([v(0x0040, 0xa067, 'LO', 'Doe^Jane^Author'), v(0x0014, 0x0102, 'SH', '20240315'), v(0x0008, 0x1167, 'LO', `${STUDY}.1.1`)]);
    expect(out).not.toMatch(/Author|20240315/);
    expect(out).toContain('20240312'); // the date written as SH is shifted as the DA it is
    expect(out).not.toContain(STUDY);
    // A sequence sent as bytes that do not parse is dropped, not kept as opaque bytes.
    expect(run([v(0x0040, 0x0260, 'UN', 'DOE^JANE^X')])).not.toContain('DOE');
  });

  it('replaces person names and free text that Table E.1-1 does not list', () => {
    const out = run([v(0x0014, 0x2006, 'PN', 'Evaluator^Eve'), v(0x0040, 0x0400, 'LT', 'for Jane Doe MRN778899'), v(0x0040, 0xa160, 'UT', 'Patient Jane')]);
    expect(out).not.toMatch(/Eve|Jane|778899/);
    const cleaned = run([v(0x0040, 0x0400, 'LT', 'knee, for Jane Doe MRN778899')], 'cleanDescriptors');
    expect(cleaned).toContain('knee');
    expect(cleaned).not.toMatch(/Jane|778899/);
  });

  it('remaps a UID kept in safe private data, and UIDs derived from an original', () => {
    const priv = [v(0x0129, 0x0010, 'LO', 'SIEMENS Ultrasound SC2000'), v(0x0129, 0x1002, 'UI', STUDY)];
    expect(run(priv, 'retainSafePrivate')).not.toContain(STUDY);
    expect(run([v(0x0040, 0x0400, 'LT', `see ${STUDY}.1.2 and ${STUDY}.7`)], 'cleanDescriptors')).not.toContain(STUDY);
    expect(run([v(0x0008, 0x1090, 'LO', `v1.${STUDY}`)])).not.toContain(STUDY); // kept text, the UID at its end
  });

  it('cleans code meanings and local code values inside SR content', () => {
    const code = sq(0x0040, 0xa168, item(v(0x0008, 0x0100, 'SH', 'MRN778899'), v(0x0008, 0x0102, 'SH', '99LOCAL'), v(0x0008, 0x0104, 'LO', 'Jane Doe private code')));
    const out = run([sq(0x0040, 0xa730, item(v(0x0040, 0xa040, 'CS', 'CODE'), code))], 'cleanStructuredContent');
    expect(out).not.toMatch(/Jane|778899/);
    expect(out).toContain('private code');
  });

  it('stays linear on megabyte values made to backtrack', () => {
    const digits = '1'.repeat(1 << 20);
    const started = process.hrtime.bigint();
    // Kept by a project rule, so the UID scrub reads all of it; the descriptor cleaner at its cap.
    const ds = [...base, v(0x0008, 0x1030, 'LO', digits), v(0x0040, 0x0400, 'LT', `${'a'.repeat(10_000)}@`)].sort((a, b) => a.tag - b.tag);
    const out = deidentify(ds, resolveProfile(['cleanDescriptors'], parseRecipes([{ tag: '(0008,1030)', action: 'keep' }])), keys).dataset;
    expect(asciiValue(out, tagOf(0x0008, 0x1030))?.length).toBe(digits.length);
    // Quadratic regexes took minutes here; a generous bound that only a linear scan meets.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(20);
  }, 60_000);

  it('refuses rules that would break the output: a replace value invalid for the VR, removing an instance UID, keeping a private UID', () => {
    expect(() => parseRecipes([{ tag: '(0008,0020)', action: 'replace', value: 'Jane Doe' }])).toThrow(/not a valid DA/);
    expect(() => parseRecipes([{ tag: '(0008,0018)', action: 'remove' }])).toThrow(/names the instance/);
    expect(() => parseRecipes([{ tag: '(0019,xx01)', creator: 'ACME', action: 'keep', vr: 'UI' }])).toThrow(/private UID/);
  });

  it('quarantines an overlay drawn into the stored bits', () => {
    const us = (g: number, e: number, n: number): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr: 'US', value: Buffer.from([n & 0xff, n >> 8]) });
    const ds = [us(0x0028, 0x0100, 16), us(0x0028, 0x0101, 12), us(0x0028, 0x0102, 11), us(0x6000, 0x0010, 8), us(0x6000, 0x0102, 0),
      { kind: 'bulk', tag: Tags.PixelData, vr: 'OW', offset: 0, length: 128, undefinedLength: false } as DataElement];
    expect(embeddedOverlayPlan(ds, EXPLICIT_LE).kind).toBe('refuse');
    expect(asciiValue(base, Tags.PatientName)).toBe('Doe^Jane');
  });
});
