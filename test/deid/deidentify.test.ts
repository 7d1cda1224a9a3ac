import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DataElement, asciiValue, findElement } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { deidentify } from '../../src/deid/deidentify.js';
import { patientIdentity } from '../../src/deid/patient-identity.js';
import { resolveProfile, type SupportedOption } from '../../src/deid/profile.js';
import { PYDICOM_CHARSET_FILES, SAMPLES } from '../helpers/corpus.js';
import { pydicomJson } from '../helpers/tools.js';

const keys = { pseudonym: 'T_001', dateShiftDays: -10, uidSecret: Buffer.alloc(32, 1) };
let ct: readonly DataElement[];

beforeAll(async () => {
  ct = (await readDicomFile(join(SAMPLES, 'study-a-ct-1.dcm'))).dataset;
});

const run = (...options: SupportedOption[]) => deidentify(ct, resolveProfile(options), keys).dataset;
const text = (ds: readonly DataElement[], g: number, e: number) => asciiValue(ds, tagOf(g, e));

describe('deidentify', () => {
  it('is pure: the same input and keys give the same output', () => {
    expect(JSON.stringify(run())).toBe(JSON.stringify(run()));
  });

  it('keeps the listed safe private attribute and its creator with Retain Safe Private, nothing else private', () => {
    const plain = run();
    expect(plain.some((e) => (e.tag >>> 16) % 2 === 1)).toBe(false);
    const safe = run('retainSafePrivate');
    const priv = safe.filter((e) => (e.tag >>> 16) % 2 === 1).map((e) => e.tag.toString(16));
    expect(priv).toEqual(['190010', '191023']);
    expect(text(safe, 0x0019, 0x1023)).toBe('27.5');
  });

  it('keeps patient characteristics, device and institution identity only when asked', () => {
    expect(text(run(), 0x0010, 0x1010)).toBeUndefined();
    expect(text(run('retainPatientCharacteristics'), 0x0010, 0x1010)).toBe('047Y');
    expect(text(run('retainPatientCharacteristics'), 0x0010, 0x0040)).toBe('F');
    expect(text(run(), 0x0018, 0x1000)).toBe('ANONYMIZED');
    expect(text(run('retainDeviceIdentity'), 0x0018, 0x1000)).toBe('SN-44511');
    expect(text(run(), 0x0008, 0x0080)).toBe('ANONYMIZED');
    expect(text(run('retainInstitutionIdentity'), 0x0008, 0x0080)).toBe('Princeton Plainsboro Teaching Hospital');
  });

  it('keeps UIDs with Retain UIDs and dates with Retain Full Dates', () => {
    expect(text(run('retainUIDs'), 0x0008, 0x0018)).toBe('1.2.826.0.1.3680043.10.1137.1.1.1');
    const full = run('retainLongFullDates');
    expect(text(full, 0x0008, 0x0020)).toBe('20240315');
    expect(text(full, 0x0028, 0x0303)).toBe('UNMODIFIED');
  });

  it('lists every applied option in the method code sequence', () => {
    const out = run('retainDeviceIdentity', 'cleanDescriptors');
    const seq = findElement(out, Tags.DeidentificationMethodCodeSequence);
    expect(seq?.kind).toBe('sequence');
    const codes = seq?.kind === 'sequence' ? seq.items.map((i) => asciiValue(i.elements, Tags.CodeValue)) : [];
    expect(codes).toEqual(['113100', '113105', '113109', '113107']);
  });

  it('cleans descriptors under Clean Descriptors: clinical words stay, the patient name goes', () => {
    expect(text(run(), 0x0008, 0x1030)).toBeUndefined();
    expect(text(run('cleanDescriptors'), 0x0008, 0x1030)).toBe('CT abdomen for follow-up'); // was '… for Jane Doe follow-up'
  });

  it('does not claim an option it could not carry out', () => {
    // An overlay plane cannot be cleaned, only removed: Clean Graphics is then not declared.
    const withOverlay = deidentify(ct, resolveProfile(['cleanGraphics']), keys);
    expect(ct.some((e) => e.tag >>> 16 === 0x6000)).toBe(true);
    expect(withOverlay.appliedOptions).not.toContain('cleanGraphics');
    expect(withOverlay.dataset.some((e) => e.tag >>> 16 === 0x6000)).toBe(false);
    const noOverlay = ct.filter((e) => (e.tag >>> 24) !== 0x60 && (e.tag >>> 24) !== 0x50); // nor curves
    expect(deidentify(noOverlay, resolveProfile(['cleanGraphics']), keys).appliedOptions).toContain('cleanGraphics');
  });
});

describe('patientIdentity', () => {
  it('keys on issuer and ID, then on name and birth date', async () => {
    const john = (await readDicomFile(join(SAMPLES, 'study-b-mr-no-patient-id.dcm'))).dataset;
    expect(JSON.parse(patientIdentity(ct).key)).toEqual(['id', 'PPTH', 'MRN12345']);
    expect(JSON.parse(patientIdentity(john).key)).toEqual(['name', 'Roe^John', '19600101']);
  });

  it.each(['chrJapMulti.dcm', 'chrKoreanMulti.dcm', 'chrX1.dcm', 'chrX2.dcm', 'chrRuss.dcm', 'chrGreek.dcm', 'chrArab.dcm', 'chrHbrw.dcm', 'chrFrenMulti.dcm', 'chrH31.dcm', 'chrI2.dcm'])(
    'decodes the name in %s as pydicom does, for the crosswalk',
    async (name) => {
      const path = join(PYDICOM_CHARSET_FILES, name);
      const ds = (await readDicomFile(path)).dataset;
      const expected = pydicomJson<string>('import json,sys,pydicom; print(json.dumps(str(pydicom.dcmread(sys.argv[1]).PatientName)))', path);
      expect(patientIdentity(ds).patientName).toBe(expected);
    },
  );
});
