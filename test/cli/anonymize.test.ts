import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_FAILURES, PYDICOM_CHARSET_FILES, PYDICOM_TEST_FILES, SAMPLES, requireCorpus } from '../helpers/corpus.js';
import { type Description, describe as pydescribe, pydicomJson, runCli, valueAt } from '../helpers/tools.js';
import { readCrosswalk } from '../../src/store/crosswalk-reader.js';

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)])).sort();

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The fake PHI the samples carry (scripts/make-samples.py). None of it may reach an output. */
const SAMPLE_PHI = [
  'Doe', 'Jane', 'JANE', 'MRN12345', 'Roe^John', 'House', 'Gregory', 'Princeton', 'Plainsboro', 'Baker', '555-0100',
  'ACC20240315001', 'S7781', 'CT-ROOM-3', 'SN-44511', '19770412', '19600101', '1.2.826.0.1.3680043.10.1137',
  'OTHER HOSPITAL', 'PPTH', 'Tina', 'RP-99', 'abdominal pain', 'HOSPITAL_PACS', 'ACME_PRIVATE',
];

interface Run {
  readonly dir: string;
  readonly out: string;
  readonly quarantine: string;
  readonly failed: string;
  readonly store: string;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function anonymizeInto(dir: string, inputs: readonly string[], extra: readonly string[] = [], store = join(dir, 'store.json')): Run {
  const run = { dir, out: join(dir, 'out'), quarantine: join(dir, 'quarantine'), failed: join(dir, 'failed'), store };
  const r = runCli(['anonymize', ...inputs, '--out', run.out, '--quarantine', run.quarantine, '--failed', run.failed,
    '--prefix', 'ILIAC_CT_', '--store', store, '--shift-days', '-100', ...extra]);
  return { ...run, ...r };
}

describe('deid-agent anonymize over real files', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-cli-'));
  const inputDir = join(root, 'inputs');
  let first: Run;
  let second: Run;
  let inputs: string[];
  let outputs: string[];
  let d: Record<string, Description>;
  /** Output file of a sample, found by its (unchanged) Instance Number and modality. */
  let sampleOutputs: Record<string, string>;

  beforeAll(async () => {
    requireCorpus();
    // Inputs named after the patient, as researchers' folders often are.
    mkdirSync(join(inputDir, 'Doe_Jane_MRN12345', 'nested'), { recursive: true });
    for (const f of readdirSync(SAMPLES)) copyFileSync(join(SAMPLES, f), join(inputDir, 'Doe_Jane_MRN12345', 'nested', `Doe_Jane_${f}`));
    inputs = [inputDir, PYDICOM_TEST_FILES, PYDICOM_CHARSET_FILES];
    first = anonymizeInto(join(root, 'run1'), inputs);
    // The first run processes in a worker thread (the default), the second in the main thread.
    second = anonymizeInto(join(root, 'run2'), inputs, ['--workers', '0'], first.store);
    outputs = walk(first.out);
    d = pydescribe([...outputs, ...walk(join(inputDir))]);
    // The samples' patients, found through the crosswalk: Jane's three CT images and John's MR.
    const patients = (await readCrosswalk(first.store, { file: `${first.store}.key` }, 'ILIAC_CT')).rows;
    const jane = patients.find((p) => p.patientId === 'MRN12345')?.pseudonym ?? 'missing';
    const john = patients.find((p) => p.patientName === 'Roe^John')?.pseudonym ?? 'missing';
    sampleOutputs = {};
    for (const o of outputs.filter((p) => relative(first.out, p).startsWith(`${jane}/`))) {
      sampleOutputs[`ct${valueAt(d[o] as Description, '00200013') ?? ''}`] = o;
    }
    sampleOutputs.mr = outputs.find((p) => relative(first.out, p).startsWith(`${john}/`)) ?? 'missing';
  });

  it('exits 0 and prints a summary without PHI', () => {
    // Off a terminal, stderr holds only progress lines (numbers, never a name).
    expect(first.stderr.replace(/^progress: .*\n/gm, '')).toBe('');
    expect(first.stderr).toMatch(/^progress: \d+\/\d+ \(100%\) .*finished in/m);
    for (const phi of SAMPLE_PHI) expect(first.stderr).not.toContain(phi);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/delivered\s+\d+/);
    for (const phi of SAMPLE_PHI) expect(first.stdout).not.toContain(phi);
  });

  it('settles every input exactly once: outbox, quarantine or failed, as the summary counts', () => {
    const inputCount = walk(inputDir).length + walk(PYDICOM_TEST_FILES).length + walk(PYDICOM_CHARSET_FILES).length;
    const delivered = outputs.length;
    const quarantined = walk(first.quarantine).filter((f) => f.endsWith('.dcm')).length;
    const failed = walk(first.failed).filter((f) => f.endsWith('.bin')).length;
    const counts = Object.fromEntries([...first.stdout.matchAll(/(delivered|quarantined|failed)\s+(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    expect(first.stdout).toContain(`${inputCount} input(s) settled`);
    // Several corpus files are one instance in different encodings (same SOP Instance UID): the
    // first in input order is the output, the others are counted as duplicates.
    const duplicates = Number(/duplicates\s+(\d+)/.exec(first.stdout)?.[1] ?? 0);
    expect(duplicates).toBeGreaterThan(0);
    expect(delivered).toBe(counts.delivered);
    // Inputs with identical content share one quarantine/failed name; the summary counts inputs.
    expect(quarantined).toBeLessThanOrEqual(counts.quarantined ?? 0);
    expect(failed).toBeLessThanOrEqual(counts.failed ?? 0);
    expect(quarantined).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    expect((counts.delivered ?? 0) + duplicates + (counts.quarantined ?? 0) + (counts.failed ?? 0)).toBe(inputCount);
    expect(delivered).toBeGreaterThan(80);
  });

  it('names outputs <pseudonym>/<study>/<series>/<instance>.dcm from new UIDs only', () => {
    for (const o of outputs) {
      const rel = relative(first.out, o);
      expect(rel).toMatch(/^ILIAC_CT_\d{3,}\/2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+\.dcm$/);
      const desc = d[o];
      expect(desc?.error).toBeUndefined();
      if (!desc) continue;
      const [pseudonym, study, series, file] = rel.split('/');
      expect(valueAt(desc, '00100010')).toBe(pseudonym);
      expect(valueAt(desc, '00100020')).toBe(pseudonym);
      expect(valueAt(desc, '0020000D')).toBe(study);
      expect(valueAt(desc, '0020000E')).toBe(series);
      expect(valueAt(desc, '00080018')).toBe(file?.replace(/\.dcm$/, ''));
      expect(desc.mediaStorageSOPInstanceUID).toBe(file?.replace(/\.dcm$/, ''));
    }
  });

  it('leaves none of the samples\' PHI in any output file, path, quarantine or failed name, or sidecar', () => {
    for (const o of outputs) {
      const bytes = readFileSync(o).toString('latin1');
      for (const phi of SAMPLE_PHI) expect(bytes, `${phi} in ${relative(first.out, o)}`).not.toContain(phi);
    }
    for (const p of [...walk(first.out), ...walk(first.quarantine), ...walk(first.failed)]) {
      expect(p).not.toMatch(/Doe|Jane|MRN|_CT_\d+_/);
    }
    for (const sidecar of [...walk(first.quarantine), ...walk(first.failed)].filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(sidecar, 'utf8');
      for (const phi of SAMPLE_PHI) expect(text).not.toContain(phi);
      expect(text).not.toMatch(/\.dcm|test_files|inputs/);
    }
  });

  it('leaves no original patient name or ID of the pydicom corpus in outputs', () => {
    const originals = walk(PYDICOM_TEST_FILES).filter((f) => f.endsWith('.dcm') && !(basename(f) in EXPECTED_FAILURES));
    const src = pydescribe(originals);
    const identifiers = new Set<string>();
    for (const desc of Object.values(src)) {
      if (desc.error) continue;
      for (const [path, , value] of desc.elements) {
        const tag = path.slice(-8);
        // Names and identifiers (institution names can equal a kept Manufacturer, so not those).
        if (['00100010', '00100020', '00080090', '00080050'].includes(tag) && value.trim().length >= 4) {
          identifiers.add(value.trim());
        }
      }
    }
    expect(identifiers.size).toBeGreaterThan(10);
    for (const o of outputs) {
      const desc = d[o];
      if (!desc) continue;
      const text = desc.elements.map(([, , v]) => v).join('\n');
      const values = new Set(desc.elements.map(([, , v]) => v.trim()));
      for (const id of identifiers) {
        // Short identifiers ('2721') occur inside numbers; for those an equal value is the leak.
        if (id.length >= 8) expect(text, `${id} in ${relative(first.out, o)}`).not.toContain(id);
        else expect(values.has(id), `${id} in ${relative(first.out, o)}`).toBe(false);
      }
    }
  });

  it('removes every private attribute and overlay/curve group, at every depth', () => {
    for (const o of outputs) {
      const desc = d[o];
      if (!desc) continue;
      for (const [path] of desc.elements) {
        for (const tag of path.split('.').map((p) => p.slice(0, 8))) {
          expect(parseInt(tag.slice(0, 4), 16) % 2, `${path} in ${relative(first.out, o)}`).toBe(0);
          expect(tag.slice(0, 2), path).not.toMatch(/^(50|60)$/);
        }
      }
    }
  });

  it('gives the same patient the same pseudonym and keeps a second patient apart', () => {
    const ct = ['ct1', 'ct2', 'ct3'].map((k) => sampleOutputs[k]);
    expect(ct.every(Boolean)).toBe(true);
    const pseudonyms = new Set(ct.map((o) => valueAt(d[o as string] as Description, '00100010')));
    expect(pseudonyms.size).toBe(1);
    expect(sampleOutputs.mr).toBeDefined();
    const mr = valueAt(d[sampleOutputs.mr as string] as Description, '00100010');
    expect(mr).toMatch(/^ILIAC_CT_\d{3}$/);
    expect(pseudonyms.has(mr)).toBe(false);
  });

  it('shifts dates by the project shift, keeps times and intervals, and blanks birth dates', () => {
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    const ct2 = d[sampleOutputs.ct2 as string] as Description;
    expect(valueAt(ct1, '00080020')).toBe('20231206'); // 20240315 - 100 days
    expect(valueAt(ct1, '00080030')).toBe('101500');
    expect(valueAt(ct1, '0008002A')).toBe('20231206101705.250000+0100');
    expect(valueAt(ct2, '00080023')).toBe('20231207'); // one day later, as in the input
    expect(valueAt(ct1, '00100030')).toBe('');
    // Inside a replaced (D) sequence two levels down a date is a dummy, never the original shifted.
    expect(valueAt(ct1, '00081032[0].0040A730[0].0040A032')).toBe('19000101000000');
    expect(valueAt(ct1, '00280303')).toBe('MODIFIED');
  });

  it('remaps UIDs consistently across files and keeps class UIDs', () => {
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    const ct2 = d[sampleOutputs.ct2 as string] as Description;
    expect(valueAt(ct2, '00081140[0].00081155')).toBe(valueAt(ct1, '00080018'));
    expect(valueAt(ct2, '00081140[0].00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(valueAt(ct1, '0020000D')).toBe(valueAt(ct2, '0020000D'));
    expect(valueAt(ct1, '00200052')).toMatch(/^2\.25\.\d+$/);
    for (const o of outputs) {
      const desc = d[o] as Description;
      for (const [, vr, v] of desc.elements) {
        if (vr !== 'UI') continue;
        for (const uid of v.split('\\')) expect(uid.length).toBeLessThanOrEqual(64);
      }
    }
  });

  it('cleans nested content: a D sequence becomes one dummy item, kept sequences keep their codes', () => {
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    expect(valueAt(ct1, '00081032[0].0040A730')).toBe('1');
    expect(valueAt(ct1, '00081032[0].0040A730[0].00100010')).toBe('ANONYMIZED');
    expect(valueAt(ct1, '00081032[0].0040A730[0].0040A123')).toBe('ANONYMIZED');
    expect(valueAt(ct1, '00081032[0].00080104')).toBe('CT Abdomen');
    expect(valueAt(ct1, '00101002')).toBeUndefined(); // Other Patient IDs Sequence: X
    expect(valueAt(ct1, '00400275')).toBeUndefined(); // Request Attributes Sequence: X
  });

  it('applies the rules to elements after the pixel data', () => {
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    expect(ct1.pixelSha256).not.toBeNull();
    expect(valueAt(ct1, 'FFFAFFFA')).toBeUndefined(); // Digital Signatures Sequence: X
    expect(valueAt(ct1, 'FFFCFFFC')).toBeUndefined(); // Data Set Trailing Padding: X
  });

  it('records provenance: identity removed, method, and the profile and option codes', () => {
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    expect(valueAt(ct1, '00120062')).toBe('YES');
    expect(valueAt(ct1, '00120063')).toContain('PS3.15 2026c Basic Profile');
    const codes = ct1.elements.filter(([p]) => /^00120064\[\d+\]\.00080100$/.test(p)).map(([, , v]) => v);
    expect(codes).toEqual(['113100', '113107']);
  });

  it('keeps every output decodable under its Specific Character Set (pydicom)', () => {
    for (const o of outputs) expect((d[o] as Description).decodes, relative(first.out, o)).toBe(true);
  });

  it('quarantines burned-in suspects with the original bytes and a reason', () => {
    const sidecars = walk(first.quarantine).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { reason: string; findings: unknown[]; input: { sha256: string } });
    const reasons = sidecars.map((s) => s.reason);
    expect(reasons.some((r) => r.includes('burned-in-annotation'))).toBe(true);
    expect(reasons.some((r) => r.includes('ultrasound'))).toBe(true);
    expect(reasons.some((r) => r.includes('secondary-capture'))).toBe(true);
    const us = sha(join(SAMPLES, 'study-c-us.dcm'));
    const entry = sidecars.find((s) => s.input.sha256 === us);
    expect(entry).toBeDefined();
    expect(sha(join(first.quarantine, `${us.slice(0, 32)}.dcm`))).toBe(us);
    expect(statSync(first.quarantine).mode & 0o777).toBe(0o700);
  });

  it('fails unreadable inputs byte-identical with a stated reason', () => {
    for (const [name, code] of Object.entries(EXPECTED_FAILURES)) {
      const h = sha(join(PYDICOM_TEST_FILES, name));
      expect(sha(join(first.failed, `${h.slice(0, 32)}.bin`))).toBe(h);
      const sidecar = JSON.parse(readFileSync(join(first.failed, `${h.slice(0, 32)}.json`), 'utf8')) as { reason: string; outcome: string };
      expect(sidecar.outcome).toBe('failed');
      expect(sidecar.reason).toContain(code);
    }
    const text = sha(join(SAMPLES, 'not-dicom.txt'));
    expect(readFileSync(join(first.failed, `${text.slice(0, 32)}.json`), 'utf8')).toContain('not-dicom');
  });

  it('gives byte-identical outputs on a second run with the same store (worker thread and main thread alike)', () => {
    expect(second.status).toBe(0);
    const again = walk(second.out);
    expect(again.map((p) => relative(second.out, p))).toEqual(outputs.map((p) => relative(first.out, p)));
    for (const p of outputs) expect(sha(join(second.out, relative(first.out, p)))).toBe(sha(p));
  });

  it('keeps the crosswalk in a 0600 store that holds the original identifiers, sealed: opened with its key', async () => {
    expect(statSync(first.store).mode & 0o777).toBe(0o600);
    const project = await readCrosswalk(first.store, { file: `${first.store}.key` }, 'ILIAC_CT');
    expect(project.dateShiftDays).toBe(-100);
    const jane = project.rows.find((p) => p.patientId === 'MRN12345');
    expect(jane?.patientName).toBe('Doe^Jane');
    const ct1 = d[sampleOutputs.ct1 as string] as Description;
    expect(jane?.pseudonym).toBe(valueAt(ct1, '00100010'));
  });

  it('writes no identifier of any input into the store file: every patient ID, issuer, name and birth date of the corpus is absent', () => {
    const identifiers = pydicomJson<string[]>(IDENTIFIERS_OF, ...inputs);
    expect(identifiers.length).toBeGreaterThan(60);
    expect(identifiers).toContain('Doe^Jane');
    const raw = readFileSync(first.store, 'utf8');
    // The sealed values are ciphertext (random, base64url): a short ID could appear in one by
    // chance, so everything but them is searched for every value, and them only for values long
    // enough that chance cannot match (8+ characters: < 1 in 10^9 per value).
    const sealed = raw.match(/"sealed": ?"[A-Za-z0-9_-]+"/g) ?? [];
    expect(sealed.length).toBeGreaterThan(0);
    // Likewise the keyed hashes and secrets (64 hex digits) are random to the eye: taken out too.
    const rest = raw.replace(/"sealed": ?"[A-Za-z0-9_-]+"/g, '').replace(/[0-9a-f]{32,}/g, '').replace(/"[A-Za-z]+":/g, '');
    const found = identifiers.filter((v) => {
      const forms = [v, JSON.stringify(v).slice(1, -1)];
      // A short number (an ID such as "12") could be a counter: looked for as a whole JSON string.
      return forms.some((f) => (/^[0-9]{1,4}$/.test(f) ? rest.includes(`"${f}"`) : rest.includes(f)) || (f.length >= 8 && sealed.some((s) => s.includes(f))));
    });
    expect(found).toEqual([]);
  });
});

/** Every non-empty Patient ID, Issuer, Name (and its components) and Birth Date of the DICOM files under the given paths. */
const IDENTIFIERS_OF = `
import json, os, sys, warnings
import pydicom
warnings.simplefilter('ignore')
values = set()
for root in sys.argv[1:]:
    for dirpath, _, names in os.walk(root):
        for n in names:
            try:
                ds = pydicom.dcmread(os.path.join(dirpath, n), force=True, stop_before_pixels=True)
            except Exception:
                continue
            for kw in ('PatientID', 'IssuerOfPatientID', 'PatientName', 'PatientBirthDate', 'OtherPatientIDs'):
                try:
                    v = ds.get(kw)
                except Exception:
                    continue
                if v is None:
                    continue
                s = str(v).strip()
                if s:
                    values.add(s)
                if kw == 'PatientName':
                    for part in s.replace('=', '^').split('^'):
                        if len(part.strip()) >= 3:
                            values.add(part.strip())
print(json.dumps(sorted(values)))
`;

describe('deid-agent anonymize: refusals', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-cli-bad-'));
  const sample = join(SAMPLES, 'study-a-ct-1.dcm');

  it('refuses a corrupt store with a clear message and writes nothing', () => {
    const store = join(root, 'corrupt.json');
    writeFileSync(store, '{"formatVersion": 1, "projects": {');
    const r = anonymizeInto(join(root, 'c'), [sample], [], store);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('corrupt');
    expect(r.stderr).toContain('never reset');
    expect(readFileSync(store, 'utf8')).toBe('{"formatVersion": 1, "projects": {');
    expect(() => walk(r.out)).toThrow();
  });

  it('refuses a store of an unknown format', () => {
    const store = join(root, 'format.json');
    writeFileSync(store, JSON.stringify({ formatVersion: 99, projects: {} }));
    const r = anonymizeInto(join(root, 'f'), [sample], [], store);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('formatVersion');
  });

  it('refuses to change a project\'s shift or prefix', () => {
    const store = join(root, 'p.json');
    expect(anonymizeInto(join(root, 'p1'), [sample], [], store).status).toBe(0);
    const shifted = runCli(['anonymize', sample, '--out', join(root, 'p2'), '--quarantine', join(root, 'q2'), '--failed', join(root, 'f2'),
      '--prefix', 'ILIAC_CT_', '--store', store, '--shift-days', '5']);
    expect(shifted.status).toBe(3);
    expect(shifted.stderr).toContain('shift cannot change');
    const renamed = runCli(['anonymize', sample, '--out', join(root, 'p3'), '--quarantine', join(root, 'q3'), '--failed', join(root, 'f3'),
      '--prefix', 'OTHER_', '--project', 'ILIAC_CT', '--store', store]);
    expect(renamed.status).toBe(3);
    expect(renamed.stderr).toContain('prefix cannot change');
  });

  it('rejects bad flags before doing anything', () => {
    expect(runCli(['anonymize', sample, '--out', root]).status).not.toBe(0);
    const badPrefix = anonymizeInto(join(root, 'b'), [sample], ['--prefix', '../x']);
    expect(badPrefix.status).not.toBe(0);
    const badOption = anonymizeInto(join(root, 'o'), [sample], ['--option', 'clean-everything']);
    expect(badOption.status).not.toBe(0);
    expect(badOption.stderr).toContain('unknown profile option');
    const zero = anonymizeInto(join(root, 'z'), [sample], ['--shift-days', '0']);
    expect(zero.status).not.toBe(0);
    const workers = anonymizeInto(join(root, 'w'), [sample], ['--workers', '-1']);
    expect(workers.status).not.toBe(0);
    expect(workers.stderr).toContain('a whole number from 0 to 64');
  });

  it('draws and stores a shift for a new project when none is given', () => {
    const store = join(root, 'drawn.json');
    const dir = join(root, 'drawn');
    const r = runCli(['anonymize', sample, '--out', join(dir, 'out'), '--quarantine', join(dir, 'q'), '--failed', join(dir, 'f'),
      '--prefix', 'DRAWN_', '--store', store]);
    expect(r.status).toBe(0);
    const shift = (JSON.parse(readFileSync(store, 'utf8')) as { projects: Record<string, { dateShiftDays: number }> }).projects.DRAWN?.dateShiftDays;
    expect(shift).toBeLessThanOrEqual(-30);
    expect(shift).toBeGreaterThanOrEqual(-730);
  });
});

describe('deid-agent anonymize at any concurrency', () => {
  it('writes byte-identical outputs and crosswalks one file at a time and eight at once, from the same new project', async () => {
    requireCorpus();
    const root = mkdtempSync(join(tmpdir(), 'deid-concurrency-'));
    // A project made once (its UID secret is drawn at creation), then copied: both runs start equal.
    const seed = anonymizeInto(join(root, 'seed'), [mkdtempSync(join(root, 'empty-'))]);
    expect(seed.status).toBe(0);
    const storeCopy = (dir: string): string => {
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(seed.dir).filter((n) => n.startsWith('store.json'))) copyFileSync(join(seed.dir, f), join(dir, f));
      return join(dir, 'store.json');
    };
    // Several pydicom files are one instance in different encodings: which one is output, and
    // the order new patients are numbered in, must not depend on which finishes first.
    const inputs = [PYDICOM_TEST_FILES, SAMPLES];
    const serial = anonymizeInto(join(root, 'serial'), inputs, ['--concurrency', '1', '--workers', '0'], storeCopy(join(root, 'serial')));
    const parallel = anonymizeInto(join(root, 'parallel'), inputs, ['--concurrency', '8', '--workers', '2'], storeCopy(join(root, 'parallel')));
    expect(parallel.status).toBe(0);
    expect(parallel.stdout).toBe(serial.stdout);
    expect(parallel.stdout).toMatch(/duplicates\s+[1-9]/);
    const names = walk(serial.out).map((p) => relative(serial.out, p));
    expect(walk(parallel.out).map((p) => relative(parallel.out, p))).toEqual(names);
    for (const n of names) expect(sha(join(parallel.out, n)), n).toBe(sha(join(serial.out, n)));
    // Sealed values differ run to run (each seal draws its own IV): compared as sealed entries'
    // keys and pseudonyms, and as the identifiers they open to.
    const crosswalk = async (store: string): Promise<unknown> => ({
      file: JSON.parse(readFileSync(store, 'utf8'), (k, v: unknown) => (k === 'firstSeen' || k === 'lastActivity' || k === 'createdAt' || k === 'sealed' ? undefined : v)) as unknown,
      opened: (await readCrosswalk(store, { file: `${store}.key` }, 'ILIAC_CT')).rows.map(({ firstSeen: _, ...r }) => r),
    });
    expect(await crosswalk(parallel.store)).toEqual(await crosswalk(serial.store));
  }, 120_000);

  it('takes a file named twice (a folder and a file in it) as one input, and finishes', () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-twice-'));
    const run = anonymizeInto(root, [SAMPLES, join(SAMPLES, 'study-a-ct-1.dcm'), SAMPLES]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${readdirSync(SAMPLES).length} input(s) settled`);
  }, 60_000);
});
