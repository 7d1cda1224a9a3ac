// The project record stamped into outputs, through the real CLI on real files, read back by
// pydicom with warnings as errors and checked by dciodvfy against the same output unstamped.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PYDICOM_TEST_FILES, requireCorpus } from '../helpers/corpus.js';
import { addedDciodvfyErrors, dciodvfyErrors, runCli } from '../helpers/tools.js';

const walk = (dir: string): string[] => (existsSync(dir)
  ? readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)])).sort()
  : []);

const root = mkdtempSync(join(tmpdir(), 'deid-record-'));
const inputs = join(root, 'inputs');
const store = join(root, 'store.json');
const SPONSOR = 'Université de Genève';
const RECORD = { protocolId: 'IRB-2025-0142', protocolName: 'ILIAC imaging', principalInvestigator: 'Dr. Ana Silva', sponsorName: SPONSOR, siteId: 'S01', duaExpires: '2099-12-31' };
/** An input's own Clinical Trial values (made with pydicom below): none may reach an output. */
const OWN = { ClinicalTrialSponsorName: 'OWNSPONSOR Pharma', ClinicalTrialProtocolID: 'OWNPROTO-77', ClinicalTrialProtocolName: 'OWNPROTONAME',
  ClinicalTrialSiteID: 'OWNSITE-9', ClinicalTrialSiteName: 'OWNSITENAME', ClinicalTrialSubjectID: 'OWNSUBJ-123' };

/** Makes the variants pydicom writes: own Clinical Trial values; UTF-8 text; ISO 2022 (JIS) text. */
const MAKE = `
import sys, pydicom
src, out = sys.argv[1], sys.argv[2]
own = dict(${JSON.stringify(OWN).replace(/"/g, "'")})
ds = pydicom.dcmread(src + '/CT_small.dcm')
for k, v in own.items(): setattr(ds, k, v)
ds.ClinicalTrialSubjectReadingID = 'OWNREADING'
ds.SOPInstanceUID = '1.2.826.0.1.3680043.8.498.77001'
ds.save_as(out + '/ct-with-trial.dcm')
ds = pydicom.dcmread(src + '/MR_small.dcm')
ds.SpecificCharacterSet = 'ISO_IR 192'
ds.PatientName = 'Ünal^Zoë'
ds.SOPInstanceUID = '1.2.826.0.1.3680043.8.498.77002'
ds.save_as(out + '/mr-utf8.dcm')
ds = pydicom.dcmread(src + '/MR_small.dcm')
ds.SpecificCharacterSet = ['', 'ISO 2022 IR 87']
ds.SOPInstanceUID = '1.2.826.0.1.3680043.8.498.77003'
ds.save_as(out + '/mr-jis.dcm')
`;

/** pydicom's strict reading of an output: the Specific Character Set and the six stamped values, decoded. */
const READ = `
import json, sys, warnings, pydicom
from pydicom import config
warnings.simplefilter('error')
config.settings.reading_validation_mode = config.RAISE
ds = pydicom.dcmread(sys.argv[1])
keys = ['ClinicalTrialSponsorName', 'ClinicalTrialProtocolID', 'ClinicalTrialProtocolName', 'ClinicalTrialSiteID', 'ClinicalTrialSiteName', 'ClinicalTrialSubjectID', 'PatientID']
out = {k: (str(ds[k].value) if ds[k].value is not None else '') if k in ds else None for k in keys}
scs = ds.get('SpecificCharacterSet')
out['scs'] = '\\\\'.join(scs) if isinstance(scs, (list, pydicom.multival.MultiValue)) else scs
out['reading'] = 'ClinicalTrialSubjectReadingID' in ds and str(ds.ClinicalTrialSubjectReadingID)
print(json.dumps(out))
`;
type Stamped = Record<string, string | null | false> & { scs: string | null };
const readStrict = (path: string): Stamped => JSON.parse(execFileSync('/usr/bin/python3', ['-W', 'error', '-c', READ, path], { encoding: 'utf8' })) as Stamped;

const configFor = (name: string, record?: object): string => {
  const dir = join(root, name);
  const path = join(root, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    store, projects: [{ name: 'REC', prefix: 'REC_', inbox: join(dir, 'in'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'),
      dateShiftDays: -30, ...(record ? { record } : {}) }],
  }));
  return path;
};

/** Runs anonymize on one input into the named project folders; the output file, if any. */
function runOne(name: string, input: string, record?: object, workers = '0'): { output: string | undefined; dir: string; stdout: string } {
  const r = runCli(['anonymize', input, '--config', configFor(name, record), '--workers', workers]);
  expect(r.status, r.stderr).toBe(0);
  const outputs = walk(join(root, name, 'out')).filter((f) => f.endsWith('.dcm'));
  expect(outputs.length).toBeLessThanOrEqual(1);
  return { output: outputs[0], dir: join(root, name), stdout: r.stdout };
}

describe('project record: Clinical Trial attributes in every output', () => {
  const files = ['CT_small.dcm', 'MR_small.dcm', 'ct-with-trial.dcm', 'mr-utf8.dcm', 'mr-jis.dcm'];
  const stamped: Record<string, string> = {};
  const plain: Record<string, string> = {};

  beforeAll(() => {
    requireCorpus();
    execFileSync('mkdir', ['-p', inputs]);
    for (const f of ['CT_small.dcm', 'MR_small.dcm']) copyFileSync(join(PYDICOM_TEST_FILES, f), join(inputs, f));
    execFileSync('/usr/bin/python3', ['-c', MAKE, PYDICOM_TEST_FILES, inputs]);
    for (const [i, f] of files.entries()) {
      const withRecord = runOne(`rec${i}`, join(inputs, f), RECORD);
      const without = runOne(`plain${i}`, join(inputs, f));
      expect(withRecord.output, f).toBeDefined();
      expect(without.output, f).toBeDefined();
      stamped[f] = withRecord.output as string;
      plain[f] = without.output as string;
    }
  }, 240_000);

  it('stamps the six attributes, the subject being the pseudonym, and pydicom reads them strictly', () => {
    for (const f of files) {
      const s = readStrict(stamped[f] as string);
      expect(s.ClinicalTrialProtocolID, f).toBe('IRB-2025-0142');
      expect(s.ClinicalTrialProtocolName, f).toBe('ILIAC imaging');
      expect(s.ClinicalTrialSiteID, f).toBe('S01');
      expect(s.ClinicalTrialSiteName, f).toBe(''); // Type 2: present, empty
      expect(s.ClinicalTrialSubjectID, f).toMatch(/^REC_\d+$/);
      expect(s.ClinicalTrialSubjectID, f).toBe(s.PatientID);
    }
    // Unstamped outputs have none of them (CT_small has no Clinical Trial attributes of its own).
    expect(readStrict(plain['CT_small.dcm'] as string).ClinicalTrialProtocolID).toBeNull();
  });

  it('writes a non-ASCII sponsor in the output\'s own character set, or declares UTF-8, or folds it', () => {
    const ct = readStrict(stamped['CT_small.dcm'] as string);
    expect([ct.scs, ct.ClinicalTrialSponsorName]).toEqual(['ISO_IR 100', SPONSOR]); // Latin-1 bytes
    const mr = readStrict(stamped['MR_small.dcm'] as string);
    expect([mr.scs, mr.ClinicalTrialSponsorName]).toEqual(['ISO_IR 192', SPONSOR]); // default repertoire, all ASCII: declared UTF-8
    expect(readStrict(plain['MR_small.dcm'] as string).scs).toBeNull(); // and only because of the stamp
    const utf8 = readStrict(stamped['mr-utf8.dcm'] as string);
    expect([utf8.scs, utf8.ClinicalTrialSponsorName]).toEqual(['ISO_IR 192', SPONSOR]);
    const jis = readStrict(stamped['mr-jis.dcm'] as string);
    expect([jis.scs, jis.ClinicalTrialSponsorName]).toEqual(['\\ISO 2022 IR 87', 'Universite de Geneve']);
    // The bytes as written: Latin-1 'é' is one byte, UTF-8 two.
    expect(readFileSync(stamped['CT_small.dcm'] as string).includes(Buffer.from(SPONSOR, 'latin1'))).toBe(true);
    expect(readFileSync(stamped['mr-utf8.dcm'] as string).includes(Buffer.from(SPONSOR, 'utf8'))).toBe(true);
  });

  it('defaults the sponsor to the principal investigator (in a worker thread: the record reaches it as data)', () => {
    const { sponsorName: _, ...noSponsor } = RECORD;
    const r = runOne('pi', join(inputs, 'CT_small.dcm'), noSponsor, '1');
    expect(readStrict(r.output as string).ClinicalTrialSponsorName).toBe('Dr. Ana Silva');
  });

  it('replaces an input\'s own Clinical Trial values: none survives anywhere in the output', () => {
    const s = readStrict(stamped['ct-with-trial.dcm'] as string);
    expect(s.ClinicalTrialSponsorName).toBe(SPONSOR);
    expect(s.ClinicalTrialSiteName).toBe('');
    const bytes = readFileSync(stamped['ct-with-trial.dcm'] as string).toString('latin1');
    for (const v of [...Object.values(OWN), 'OWNREADING']) expect(bytes, v).not.toContain(v);
    // The profile's own action on the others stands (Subject Reading ID: a dummy, not the input's).
    expect(s.reading).not.toBe('OWNREADING');
    // Without a record the profile alone acts on them: dummies or nothing, never the input's values.
    const plainBytes = readFileSync(plain['ct-with-trial.dcm'] as string).toString('latin1');
    for (const v of Object.values(OWN)) expect(plainBytes, v).not.toContain(v);
  });

  it('adds no dciodvfy error compared with the same output unstamped', () => {
    const pairs = files.map((f) => [plain[f] as string, stamped[f] as string] as const);
    expect(addedDciodvfyErrors(pairs, (p) => files.find((f) => plain[f] === p) ?? p)).toEqual([]);
    // and nothing about the Clinical Trial attributes at all
    for (const f of files) expect(dciodvfyErrors(stamped[f] as string).filter((l) => /0x0012|Clinical Trial/i.test(l)), f).toEqual([]);
  });
});

describe('project record: an expired data use agreement holds everything', () => {
  it('quarantines every input with the reason and writes no output (anonymize)', () => {
    requireCorpus();
    const cfg = configFor('expired', { ...RECORD, duaExpires: '2020-01-31' });
    const r = runCli(['anonymize', join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(PYDICOM_TEST_FILES, 'MR_small.dcm'), '--config', cfg, '--workers', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/quarantined\s+2/);
    expect(r.stdout).toMatch(/delivered\s+0/);
    expect(walk(join(root, 'expired', 'out')).filter((f) => !f.includes('/.'))).toEqual([]);
    const sidecars = walk(join(root, 'expired', 'q')).filter((f) => f.endsWith('.json'));
    expect(sidecars).toHaveLength(2);
    for (const s of sidecars) {
      const side = JSON.parse(readFileSync(s, 'utf8')) as { reason: string };
      expect(side.reason).toBe("the project's data use agreement expired on 2020-01-31; renew the record in the config");
    }
  });
});
