import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/store/project-store.js';
import { StoreError } from '../../src/store/secure-json-file.js';
import { FaultyJournal, identity, patientIdsOf, setup } from './store-fixtures.js';

const pseudonymsOn = async (path: string): Promise<string[]> =>
  Object.values((await ProjectStore.readSnapshot(path)).projects.P?.patients ?? {}).map((p) => p.pseudonym).sort();

describe('ProjectStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-store-'));

  it('assigns zero-padded pseudonyms in order, the same one for the same patient, growing past 999', async () => {
    const path = join(dir, 'a.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    expect(await store.pseudonymFor('P', identity('x'))).toBe('P_001');
    expect(await store.pseudonymFor('P', identity('y'))).toBe('P_002');
    expect(await store.pseudonymFor('P', identity('x'))).toBe('P_001');
    for (let i = 0; i < 997; i++) await store.pseudonymFor('P', identity(`n${i}`));
    expect(await store.pseudonymFor('P', identity('last'))).toBe('P_1000');
    await store.close();
  });

  it('has every pseudonym on disk when pseudonymFor returns, in 0600 files (store and journal)', async () => {
    const path = join(dir, 'b.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', identity('x'));
    // Read by another reader (as status does), not through the store's memory.
    expect(await pseudonymsOn(path)).toEqual(['P_001']);
    expect(statSync(`${path}.journal`).mode & 0o777).toBe(0o600);
    await store.close();
    // A clean close folds the journal into the JSON file: it alone holds the crosswalk.
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as { projects: { P: { patients: Record<string, { pseudonym: string }> } } };
    expect(Object.values(onDisk.projects.P.patients).map((p) => p.pseudonym)).toEqual(['P_001']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}.journal`).mode & 0o777).toBe(0o600);
  });

  it('keeps the same pseudonyms, shift and secret across reopening', async () => {
    const path = join(dir, 'c.json');
    let store = await ProjectStore.open(path);
    const s1 = await store.ensureProject(setup);
    await store.pseudonymFor('P', identity('x'));
    await store.close();
    store = await ProjectStore.open(path);
    const s2 = await store.ensureProject(setup);
    expect(s2.dateShiftDays).toBe(s1.dateShiftDays);
    expect(s2.uidSecret.equals(s1.uidSecret)).toBe(true);
    expect(s1.dateShiftDays).toBeGreaterThanOrEqual(-20);
    expect(s1.dateShiftDays).toBeLessThanOrEqual(-10);
    expect(await store.pseudonymFor('P', identity('y'))).toBe('P_002');
    await store.close();
  });

  it('refuses a corrupt store and leaves it untouched', async () => {
    const path = join(dir, 'd.json');
    writeFileSync(path, '{ not json');
    await expect(ProjectStore.open(path)).rejects.toThrow(StoreError);
    await expect(ProjectStore.open(path)).rejects.toThrow(/corrupt/);
    expect(readFileSync(path, 'utf8')).toBe('{ not json');
    writeFileSync(path, JSON.stringify({ formatVersion: 1, projects: { P: { prefix: 'P_' } } }));
    await expect(ProjectStore.open(path)).rejects.toThrow(/projects\.P\.dateShiftDays/);
  });

  it('allows one writer at a time, and takes over the lock of a dead process', async () => {
    const path = join(dir, 'e.json');
    const store = await ProjectStore.open(path);
    await expect(ProjectStore.open(path)).rejects.toThrow(/in use by process/);
    await store.close();
    // A lock left by a process that has exited (as after SIGKILL).
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid as number;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(`${path}.lock`, String(pid));
    const again = await ProjectStore.open(path);
    await again.close();
  });
});

describe('ProjectStore pseudonyms under write faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-store-fault-'));

  it('gives no caller a new pseudonym before its entry is on disk; concurrent callers share the write', async () => {
    const path = join(dir, 'pause.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const store = await ProjectStore.open(path, { journal });
    await store.ensureProject(setup);
    let open!: () => void;
    journal.gate = new Promise((r) => { open = r; });
    const appendsBefore = journal.appends;
    const settled: string[] = [];
    const first = store.pseudonymFor('P', identity('x')).then((p) => { settled.push(`first ${p}`); });
    const second = store.pseudonymFor('P', identity('x')).then((p) => { settled.push(`second ${p}`); });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]); // the append is paused: nobody may carry the pseudonym yet
    expect(await pseudonymsOn(path)).toEqual([]);
    expect(store.data.projects.P?.patients).toEqual({}); // nor is it in the state a snapshot would write
    open();
    await Promise.all([first, second]);
    expect(settled.sort()).toEqual(['first P_001', 'second P_001']);
    expect(journal.appends - appendsBefore).toBe(1); // one write for both callers
    expect(await pseudonymsOn(path)).toEqual(['P_001']);
    await store.close();
  });

  it('takes back an assignment whose write failed: no unsaved entry, the number is given again', async () => {
    const path = join(dir, 'fail.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const store = await ProjectStore.open(path, { journal });
    await store.ensureProject(setup);
    journal.failures = 1;
    journal.writeBeforeFailing = true; // the line reached the file, but its fdatasync failed
    const a = store.pseudonymFor('P', identity('x'));
    const b = store.pseudonymFor('P', identity('x'));
    await expect(a).rejects.toThrow(/no space/);
    await expect(b).rejects.toThrow(/no space/);
    expect(Object.keys(store.data.projects.P?.patients ?? {})).toHaveLength(0);
    expect(store.data.projects.P?.nextIndex).toBe(1);
    expect(await store.pseudonymFor('P', identity('y'))).toBe('P_001');
    expect(await store.pseudonymFor('P', identity('x'))).toBe('P_002');
    // Reopened without a clean close (as after a crash): the failed line never comes back to give
    // P_001 to x as well.
    rmSync(`${path}.lock`);
    const reopened = await ProjectStore.open(path);
    expect(await reopened.pseudonymFor('P', identity('y'))).toBe('P_001');
    expect(await reopened.pseudonymFor('P', identity('x'))).toBe('P_002');
    expect(Object.keys(reopened.data.projects.P?.patients ?? {})).toHaveLength(2);
    await reopened.close();
  });

  it('fails every caller of a failed write and recovers once writes work again', async () => {
    const path = join(dir, 'recover.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const store = await ProjectStore.open(path, { journal });
    await store.ensureProject(setup);
    journal.failures = 1;
    journal.replaceFailures = 1; // the first recovery (a compaction) fails too
    await expect(store.pseudonymFor('P', identity('a'))).rejects.toThrow(/no space/);
    await expect(store.pseudonymFor('P', identity('b'))).rejects.toThrow(/no space/);
    expect(await store.pseudonymFor('P', identity('c'))).toBe('P_001');
    await store.close();
    const reopened = await ProjectStore.open(path);
    expect(patientIdsOf(path, reopened.data)).toEqual(['c']);
    await reopened.close();
  });
});
