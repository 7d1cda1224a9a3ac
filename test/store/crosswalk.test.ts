import { chmodSync, chownSync, copyFileSync, lstatSync, symlinkSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextKeyPathOf, newMasterKey, writeKeyFile } from '../../src/store/crosswalk-key.js';
import { readCrosswalk } from '../../src/store/crosswalk-reader.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { rotateCrosswalkKey } from '../../src/store/rotate-crosswalk-key.js';
import { StoreError } from '../../src/store/secure-json-file.js';
import type { StoreData } from '../../src/store/store-schema.js';
import { identityHashOf, setup, writeSeededStore } from './store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'deid-crosswalk-'));
const abandon = (path: string): void => rmSync(`${path}.lock`);
/** Everything the store keeps on disk, as bytes: snapshot, journal, and what is beside them. */
const onDisk = (path: string): string => [path, `${path}.journal`].filter(existsSync).map((p) => readFileSync(p, 'latin1')).join('\n');

const person = (n: number) => ({
  key: JSON.stringify(['id', 'HOSP-ISSUER-Q', `MRN-TAINT-${n}`]),
  patientId: `MRN-TAINT-${n}`, issuerOfPatientId: 'HOSP-ISSUER-Q', patientName: `Tainted^Patient${n}^Middle`, birthDate: `19${String(40 + n).padStart(2, '0')}0214`,
});
/** A sealed store at `path` holding project P and the given people, closed (compacted into its snapshot). */
async function closedStore(path: string, people: readonly number[]): Promise<void> {
  const store = await ProjectStore.open(path);
  await store.ensureProject(setup);
  for (const n of people) await store.pseudonymFor('P', person(n));
  await store.close();
}
const taints = (n: number): string[] => { const p = person(n); return [p.patientId, p.issuerOfPatientId, p.patientName, 'Tainted', p.birthDate, identityHashOf(String(n))]; };

describe('the crosswalk sealed at rest', () => {
  it('keeps no identifier in any file of the store, in the journal or after compaction, and opens them again with the key', async () => {
    const path = join(dir, 'taint.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    const given = await Promise.all([1, 2, 3, 4, 5].map((n) => store.pseudonymFor('P', person(n))));
    expect(given).toEqual(['P_001', 'P_002', 'P_003', 'P_004', 'P_005']);
    const journalOnly = onDisk(path);
    await store.close(); // compacts into the snapshot
    const keyHex = readFileSync(`${path}.key`, 'utf8').trim();
    expect(statSync(`${path}.key`).mode & 0o777).toBe(0o600);
    for (const text of [journalOnly, onDisk(path)]) {
      for (const n of [1, 2, 3, 4, 5]) for (const t of taints(n)) expect(text).not.toContain(t);
      expect(text).not.toContain(keyHex);
    }
    const opened = await readCrosswalk(path, { file: `${path}.key` }, 'P');
    expect(opened.rows.map((r) => [r.pseudonym, r.patientId, r.patientName, r.birthDate])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [`P_00${n}`, person(n).patientId, person(n).patientName, person(n).birthDate]),
    );
    const again = await ProjectStore.open(path);
    expect(await again.pseudonymFor('P', person(3))).toBe('P_003'); // the keyed look-up finds them
    await again.close();
  });

  it('seals a plaintext (format 1) store and its journal at open, keeping every pseudonym', async () => {
    const path = join(dir, 'legacy.json');
    writeSeededStore(path, 40, 1);
    // A format-1 journal line after the snapshot: a plaintext patient the old agent added.
    writeFileSync(`${path}.journal`, `${JSON.stringify({ journal: 1, after: 0 })}\n${JSON.stringify({
      s: 1, t: 'patient', project: 'P', key: identityHashOf('late'),
      entry: { pseudonym: 'P_041', patientId: 'late', issuerOfPatientId: '', patientName: 'Name^late', birthDate: '19990101', firstSeen: '2025-02-01T00:00:00.000Z' }, next: 42,
    })}\n`, { mode: 0o600 });
    expect(onDisk(path)).toContain('Name^seed17');
    const store = await ProjectStore.open(path);
    const text = onDisk(path);
    expect(text).not.toMatch(/Name\^|"patientId"|seed\d|19990101/);
    expect((JSON.parse(readFileSync(path, 'utf8')) as StoreData).formatVersion).toBe(2);
    const ident = (id: string) => ({ key: JSON.stringify(['id', '', id]), patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' });
    expect(await store.pseudonymFor('P', ident('seed17'))).toBe('P_017');
    expect(await store.pseudonymFor('P', ident('late'))).toBe('P_041');
    expect(await store.pseudonymFor('P', ident('new'))).toBe('P_042');
    await store.close();
    const rows = (await readCrosswalk(path, { file: `${path}.key` }, 'P')).rows;
    expect(rows).toHaveLength(42);
    expect(rows.find((r) => r.pseudonym === 'P_041')).toMatchObject({ patientId: 'late', patientName: 'Name^late', birthDate: '19990101' });
  });

  it('refuses another key, a missing key and a key file others can read, naming neither key nor identifiers', async () => {
    const path = join(dir, 'wrong.json');
    await closedStore(path, [1]);
    const other = join(dir, 'other.key');
    await writeKeyFile(other, newMasterKey());
    const err = await ProjectStore.open(path, { key: { file: other } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/not the key this store is sealed with/);
    expect((err as Error).message).not.toContain(readFileSync(other, 'utf8').trim());
    await expect(readCrosswalk(path, { file: other }, 'P')).rejects.toThrow(/not the key/);
    await expect(ProjectStore.open(path, { key: { file: join(dir, 'absent.key') } })).rejects.toThrow(/does not exist/);
    copyFileSync(`${path}.key`, join(dir, 'loose.key'));
    chmodSync(join(dir, 'loose.key'), 0o644);
    await expect(ProjectStore.open(path, { key: { file: join(dir, 'loose.key') } })).rejects.toThrow(/readable by others/);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a key file of another user, checked on the file opened (a link to it too)', async () => {
    const path = join(dir, 'owner.json');
    await closedStore(path, []);
    const theirs = join(dir, 'theirs.key');
    copyFileSync(`${path}.key`, theirs);
    chownSync(theirs, 65534, 65534);
    await expect(ProjectStore.open(path, { key: { file: theirs } })).rejects.toThrow(/belongs to another user/);
    symlinkSync(theirs, join(dir, 'link-to-theirs.key'));
    await expect(ProjectStore.open(path, { key: { file: join(dir, 'link-to-theirs.key') } })).rejects.toThrow(/belongs to another user/);
  });

  it('never follows a link planted at a rotation\'s .next: it is removed, and its target left as it was', async () => {
    const path = join(dir, 'planted.json');
    await closedStore(path, [1]);
    const target = join(dir, 'planted-target.txt');
    writeFileSync(target, 'not yours\n', { mode: 0o644 });
    symlinkSync(target, nextKeyPathOf(`${path}.key`));
    await rotateCrosswalkKey(path, { file: `${path}.key` });
    expect(readFileSync(target, 'utf8')).toBe('not yours\n');
    expect(lstatSync(`${path}.key`).isSymbolicLink()).toBe(false);
    expect((await readCrosswalk(path, { file: `${path}.key` }, 'P')).rows[0]?.patientId).toBe(person(1).patientId);
  });

  it('binds each sealed entry to its pseudonym: an entry moved onto another does not open', async () => {
    const path = join(dir, 'swap.json');
    await closedStore(path, [1, 2]);
    const data = JSON.parse(readFileSync(path, 'utf8')) as { projects: { P: { patients: Record<string, { sealed: string }> } } };
    const [a, b] = Object.values(data.projects.P.patients);
    if (!a || !b) throw new Error('two entries expected');
    [a.sealed, b.sealed] = [b.sealed, a.sealed];
    writeFileSync(path, JSON.stringify(data), { mode: 0o600 });
    await expect(readCrosswalk(path, { file: `${path}.key` }, 'P')).rejects.toThrow(/does not open with this key/);
  });

  it('rotates a key file: the store re-sealed and re-indexed, the old key opening nothing, pseudonyms kept', async () => {
    const path = join(dir, 'rotate.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    for (const n of [1, 2, 3]) await store.pseudonymFor('P', person(n));
    abandon(path); // a journal with entries sealed by the old key, as a crash leaves it
    const oldKey = join(dir, 'rotate-old.key');
    copyFileSync(`${path}.key`, oldKey);
    const before = readFileSync(path + '.journal', 'utf8');
    await rotateCrosswalkKey(path, { file: `${path}.key` });
    expect(readFileSync(`${path}.key`, 'utf8')).not.toBe(readFileSync(oldKey, 'utf8'));
    expect(existsSync(nextKeyPathOf(`${path}.key`))).toBe(false);
    const after = onDisk(path);
    for (const sealed of before.match(/"sealed":"[^"]+"/g) ?? []) expect(after).not.toContain(sealed);
    await expect(ProjectStore.open(path, { key: { file: oldKey } })).rejects.toThrow(/not the key/);
    const reopened = await ProjectStore.open(path);
    expect(await reopened.pseudonymFor('P', person(2))).toBe('P_002');
    expect(await reopened.pseudonymFor('P', person(9))).toBe('P_004');
    await reopened.close();
    expect((await readCrosswalk(path, { file: `${path}.key` }, 'P')).rows.map((r) => r.patientId)).toEqual([1, 2, 3, 9].map((n) => person(n).patientId));
  });

  it('finishes a rotation that rewrote the store but stopped before moving the new key into place', async () => {
    const path = join(dir, 'half.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', person(1));
    const next = newMasterKey();
    await writeKeyFile(nextKeyPathOf(`${path}.key`), next, true);
    await store.rotateKey(next);
    await store.close(); // the process dies here: the key file is still the old one
    // A reader (the broker's lookup, no lock) opens it with the .next key, and moves nothing.
    expect((await readCrosswalk(path, { file: `${path}.key` }, 'P')).rows[0]?.patientId).toBe(person(1).patientId);
    expect(existsSync(nextKeyPathOf(`${path}.key`))).toBe(true);
    const reopened = await ProjectStore.open(path);
    expect(readFileSync(`${path}.key`, 'utf8').trim()).toBe(next.toString('hex'));
    expect(existsSync(nextKeyPathOf(`${path}.key`))).toBe(false);
    expect(await reopened.pseudonymFor('P', person(1))).toBe('P_001');
    await reopened.close();
  });

  it('takes a key from the environment, and rotates it to another variable', async () => {
    const path = join(dir, 'env.json');
    const env = { DEID_KEY: newMasterKey().toString('hex'), DEID_NEW: newMasterKey().toString('hex') };
    const store = await ProjectStore.open(path, { key: { env: 'DEID_KEY' }, env });
    await store.ensureProject(setup);
    await store.pseudonymFor('P', person(1));
    await store.close();
    expect(existsSync(`${path}.key`)).toBe(false);
    await expect(rotateCrosswalkKey(path, { env: 'DEID_KEY' }, { env })).rejects.toThrow(/--new-key-env/);
    await rotateCrosswalkKey(path, { env: 'DEID_KEY' }, { env, newKeyEnv: 'DEID_NEW' });
    await expect(ProjectStore.open(path, { key: { env: 'DEID_KEY' }, env })).rejects.toThrow(/not the key/);
    const rows = (await readCrosswalk(path, { env: 'DEID_NEW' }, 'P', env)).rows;
    expect(rows[0]?.patientName).toBe(person(1).patientName);
    await expect(ProjectStore.open(path, { key: { env: 'UNSET' }, env })).rejects.toThrow(/not set/);
  });

  it('reads a journal-only new store with its key, and refuses it with another', async () => {
    const path = join(dir, 'journal-only.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', person(1));
    abandon(path);
    expect(existsSync(path)).toBe(false);
    rmSync(`${path}.key`);
    // A new key is drawn for a store that records no check value, but the sealed entries refuse it.
    await expect(ProjectStore.open(path)).rejects.toThrow(/does not open with this key/);
  });
});
