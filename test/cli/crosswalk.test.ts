import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/audit-log.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { SAMPLES } from '../helpers/corpus.js';
import { CLI, runCli } from '../helpers/tools.js';

// The honest broker's commands from the built CLI (npm run build) over a store made by a real
// `anonymize` run: lookup, export (read back by Debian's age, an independent implementation) and
// key rotation, each audited without identifiers.

const root = mkdtempSync(join(tmpdir(), 'deid-crosswalk-cli-'));
const config = join(root, 'config.json');
const store = join(root, 'store.json');
const audit = `${store}.audit.jsonl`;
const PHI = ['MRN12345', 'Doe', 'Jane', 'Roe', 'John'];
const hasAge = existsSync('/usr/bin/age') && existsSync('/usr/bin/age-keygen');
let jane = '';

const cli = (...args: string[]) => runCli([...args, '--config', config]);

beforeAll(() => {
  writeFileSync(config, JSON.stringify({
    store,
    projects: [{
      name: 'XW', prefix: 'XW_', inbox: join(root, 'inbox'), outbox: join(root, 'out'), quarantine: join(root, 'q'), failed: join(root, 'f'),
      dateShiftDays: -42, pixels: { inspect: { CT: 'header', MR: 'header' } },
    }],
  }));
  const r = cli('anonymize', SAMPLES);
  expect(r.status, r.stderr).toBe(0);
  const found = cli('crosswalk', 'lookup', '--project', 'XW', '--patient-id', 'MRN12345', '--json');
  expect(found.status, found.stderr).toBe(0);
  jane = (JSON.parse(found.stdout) as { patients: Array<{ pseudonym: string }> }).patients[0]?.pseudonym ?? '';
}, 120_000);

describe('deid-agent crosswalk', () => {
  it('looks up both ways, even while the agent holds the store, and audits the pseudonyms only', async () => {
    expect(jane).toMatch(/^XW_\d{3}$/);
    const writer = await ProjectStore.open(store); // the running agent's lock
    try {
      const back = cli('crosswalk', 'lookup', '--project', 'XW', '--pseudonym', jane);
      expect(back.status, back.stderr).toBe(0);
      expect(back.stdout).toContain('patient ID MRN12345');
      expect(back.stdout).toContain('name Doe^Jane');
      expect(back.stdout).toContain('date shift -42 days');
      expect(cli('crosswalk', 'lookup', '--project', 'XW', '--pseudonym', 'XW_999').stdout).toBe('no match\n');
    } finally {
      await writer.close();
    }
    // The patient ID from standard input: never on the command line.
    const piped = spawnSync(process.execPath, [CLI, 'crosswalk', 'lookup', '--project', 'XW', '--patient-id', '-', '--config', config], { input: 'MRN12345\n', encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(`${jane}\tpatient ID MRN12345`);
    const refused = cli('crosswalk', 'lookup', '--project', 'XW', '--pseudonym', jane, '--patient-id', 'MRN12345');
    expect(refused.status).toBe(2);
    const { records, brokenAt } = await readAudit(audit);
    expect(brokenAt).toBeUndefined();
    const lookups = records.filter((r) => r.action === 'crosswalk.lookup');
    expect(lookups.map((r) => [r.detail?.by, r.pseudonyms])).toEqual([['patient-id', [jane]], ['pseudonym', [jane]], ['pseudonym', []], ['patient-id', [jane]]]);
    expect(lookups[0]?.who).toMatch(/^cli:/);
    const text = readFileSync(audit, 'utf8');
    for (const v of PHI) expect(text).not.toContain(v);
    expect(statSync(audit).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!hasAge)('exports to an age recipient: age opens it with the right identity only, never replaces a file', () => {
    const id = join(root, 'broker.agekey');
    execFileSync('/usr/bin/age-keygen', ['-o', id], { stdio: 'ignore' });
    const recipient = execFileSync('/usr/bin/age-keygen', ['-y', id], { encoding: 'utf8' }).trim();
    const out = join(root, 'xw.age');
    const r = cli('crosswalk', 'export', '--project', 'XW', '--out', out, '--recipient', recipient);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const sealed = readFileSync(out, 'latin1');
    expect(sealed.startsWith('age-encryption.org/v1')).toBe(true);
    for (const v of PHI) expect(sealed).not.toContain(v);
    const plain = JSON.parse(execFileSync('/usr/bin/age', ['-d', '-i', id, out], { encoding: 'utf8' })) as { dateShiftDays: number; patients: Array<{ pseudonym: string; patientId: string; patientName: string }> };
    expect(plain.dateShiftDays).toBe(-42);
    expect(plain.patients.find((p) => p.pseudonym === jane)).toMatchObject({ patientId: 'MRN12345', patientName: 'Doe^Jane' });
    const other = join(root, 'other.agekey');
    execFileSync('/usr/bin/age-keygen', ['-o', other], { stdio: 'ignore' });
    expect(spawnSync('/usr/bin/age', ['-d', '-i', other, out]).status).not.toBe(0);
    const again = cli('crosswalk', 'export', '--project', 'XW', '--out', out, '--recipient', recipient);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/never replaces/);
    expect(cli('crosswalk', 'export', '--project', 'XW', '--out', join(root, 'bad.age'), '--recipient', 'age1notakey').status).toBe(2);
    expect(existsSync(join(root, 'bad.age'))).toBe(false);
  });

  it('exports to a passphrase from a 0600 file: the right passphrase opens it, a wrong one does not', async () => {
    const pass = join(root, 'pass.txt');
    writeFileSync(pass, 'correct horse battery staple\n', { mode: 0o644 });
    const out = join(root, 'xw-pass.age');
    const loose = cli('crosswalk', 'export', '--project', 'XW', '--out', out, '--passphrase-file', pass);
    expect(loose.status).toBe(2);
    expect(loose.stderr).toMatch(/readable by others/);
    expect(existsSync(out)).toBe(false);
    chmodSync(pass, 0o600);
    const r = cli('crosswalk', 'export', '--project', 'XW', '--out', out, '--passphrase-file', pass);
    expect(r.status, r.stderr).toBe(0);
    const bytes = readFileSync(out);
    const right = new Decrypter();
    right.addPassphrase('correct horse battery staple');
    const plain = JSON.parse(await right.decrypt(bytes, 'text')) as { patients: Array<{ patientId: string }> };
    expect(plain.patients.map((p) => p.patientId)).toContain('MRN12345');
    const wrong = new Decrypter();
    wrong.addPassphrase('incorrect horse battery staple');
    await expect(wrong.decrypt(bytes, 'text')).rejects.toThrow();
    const exports = (await readAudit(audit)).records.filter((e) => e.action === 'crosswalk.export');
    expect(exports.at(-1)?.detail).toMatchObject({ encryptedTo: 'passphrase' });
  });

  it('rotates the key: lookups go on with the new key, the old one opens nothing', async () => {
    const oldKey = join(root, 'old.key');
    copyFileSync(`${store}.key`, oldKey);
    const r = cli('crosswalk', 'rotate-key');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(`${store}.key`, 'utf8')).not.toBe(readFileSync(oldKey, 'utf8'));
    const back = cli('crosswalk', 'lookup', '--project', 'XW', '--pseudonym', jane);
    expect(back.stdout).toContain('patient ID MRN12345');
    const oldConfig = join(root, 'old-config.json');
    writeFileSync(oldConfig, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')) as object, crosswalkKey: { file: oldKey } }));
    const refused = runCli(['crosswalk', 'lookup', '--project', 'XW', '--pseudonym', jane, '--config', oldConfig]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/not the key this store is sealed with/);
    expect(refused.stderr + refused.stdout).not.toMatch(/MRN12345|Doe/);
    const { records, brokenAt } = await readAudit(audit);
    expect(brokenAt).toBeUndefined();
    expect(records.map((e) => e.action)).toContain('crosswalk.rotate-key');
  });
});

mkdirSync(root, { recursive: true });
