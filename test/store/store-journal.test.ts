import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRecord, parseJournal } from '../../src/store/journal-records.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { StoreError } from '../../src/store/secure-json-file.js';
import { type StoreData, emptyStore } from '../../src/store/store-schema.js';
import { CountingFile, FaultyJournal, identity, keyOf, setup, writeSeededStore } from './store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'deid-journal-'));

/** Leaves a store as a SIGKILL would: no close, no flush; its lock is taken over at the next open. */
const abandon = (path: string): void => rmSync(`${path}.lock`);

const pseudonyms = (data: Readonly<StoreData>): string[] => Object.values(data.projects.P?.patients ?? {}).map((p) => p.pseudonym).sort();

/** Adds `count` new patients, `wave` at a time (concurrent callers, as workers are). */
async function addPatients(store: ProjectStore, tag: string, count: number, wave = 100): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i += wave) {
    const ids = Array.from({ length: Math.min(wave, count - i) }, (_, j) => `${tag}${i + j}`);
    out.push(...(await Promise.all(ids.map((id) => store.pseudonymFor('P', identity(id))))));
  }
  return out;
}

describe('the crosswalk journal: crashes', () => {
  it('replays the journal after a crash: every acknowledged patient and project is back', async () => {
    const path = join(dir, 'replay.json');
    const store = await ProjectStore.open(path);
    const secrets = await store.ensureProject(setup);
    for (const id of ['a', 'b', 'c']) await store.pseudonymFor('P', identity(id));
    abandon(path);
    expect(existsSync(path)).toBe(false); // no snapshot was ever written: all of it is in the journal
    const reopened = await ProjectStore.open(path);
    const again = await reopened.ensureProject(setup);
    expect(again.uidSecret.equals(secrets.uidSecret)).toBe(true);
    expect(again.dateShiftDays).toBe(secrets.dateShiftDays);
    expect(await reopened.pseudonymFor('P', identity('b'))).toBe('P_002');
    expect(await reopened.pseudonymFor('P', identity('d'))).toBe('P_004');
    await reopened.close();
  });

  it('drops a torn last line (never acknowledged) and appends after it cleanly', async () => {
    const path = join(dir, 'torn.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', identity('a'));
    abandon(path);
    appendFileSync(`${path}.journal`, '{"s":99,"t":"patient","project":"P","key":"ab');
    const reopened = await ProjectStore.open(path);
    expect(pseudonyms(reopened.data)).toEqual(['P_001']);
    const cut = readFileSync(`${path}.journal`, 'utf8');
    expect(cut.endsWith('\n') && !cut.includes('"s":99')).toBe(true); // the fragment is cut off
    expect(await reopened.pseudonymFor('P', identity('b'))).toBe('P_002');
    abandon(path);
    // The new line starts on a line of its own: the journal reads back whole.
    const third = await ProjectStore.open(path);
    expect(pseudonyms(third.data)).toEqual(['P_001', 'P_002']);
    await third.close();
  });

  it('refuses a journal with a bad line before its end, naming file and line, with no PHI, and leaves it untouched', async () => {
    const path = join(dir, 'corrupt.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', identity('Smith'));
    await store.pseudonymFor('P', identity('Jones'));
    abandon(path);
    const journal = `${path}.journal`;
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[2] = (lines[2] ?? '').replace(/"firstSeen":"[^"]*"/, '"firstSeen":42');
    writeFileSync(journal, lines.join('\n'));
    const before = readFileSync(journal);
    const err = await ProjectStore.open(path).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain(`${journal} is corrupt at line 3`);
    expect((err as Error).message).not.toMatch(/Smith|Jones/);
    await expect(ProjectStore.readSnapshot(path)).rejects.toThrow(/corrupt at line 3/);
    lines[2] = '{ not json';
    writeFileSync(journal, lines.join('\n'));
    await expect(ProjectStore.open(path)).rejects.toThrow(/corrupt at line 3: not valid JSON/);
    expect(readFileSync(journal, 'utf8')).toBe(lines.join('\n'));
    expect(before.length).toBeGreaterThan(0);
  });

  it('refuses a store file restored without its journal, and a journal that is missing', async () => {
    const path = join(dir, 'restore.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.close(); // the snapshot now includes the journal's records (journalSeq > 0)
    const backup = readFileSync(path);
    const again = await ProjectStore.open(path);
    await again.pseudonymFor('P', identity('a'));
    await again.close(); // compacts: the journal now follows a newer snapshot
    writeFileSync(path, backup);
    await expect(ProjectStore.open(path)).rejects.toThrow(/follows a newer snapshot/);
    rmSync(`${path}.journal`);
    await expect(ProjectStore.open(path)).rejects.toThrow(/journal is missing/);
  });

  it('survives a compaction cut short (snapshot written, journal not yet replaced): no duplicates, nothing lost', async () => {
    const path = join(dir, 'compact-crash.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const store = await ProjectStore.open(path, { journal });
    await store.ensureProject(setup);
    await addPatients(store, 'p', 30, 10);
    store.record('P', 'received');
    journal.replaceFailures = 1;
    await expect(store.close()).rejects.toThrow(/no space/); // the snapshot is written; the old journal stays
    const snapshot = JSON.parse(readFileSync(path, 'utf8')) as StoreData;
    expect(Object.keys(snapshot.projects.P?.patients ?? {})).toHaveLength(30);
    const reopened = await ProjectStore.open(path);
    expect(Object.keys(reopened.data.projects.P?.patients ?? {})).toHaveLength(30);
    expect(reopened.data.projects.P?.nextIndex).toBe(31);
    expect(reopened.data.projects.P?.stats.received).toBe(1); // not counted twice
    expect(await reopened.pseudonymFor('P', identity('p7'))).toBe(snapshot.projects.P?.patients[keyOf(path, 'p7')]?.pseudonym);
    expect(await reopened.pseudonymFor('P', identity('new'))).toBe('P_031');
    await reopened.close();
  });

  it('replays records idempotently: a record the snapshot already holds changes nothing', async () => {
    const path = join(dir, 'idem.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await addPatients(store, 'i', 5, 5);
    store.record('P', 'delivered');
    abandon(path);
    const bytes = readFileSync(`${path}.journal`);
    const { records } = parseJournal('j', bytes, 0);
    const once = emptyStore();
    for (const r of records) applyRecord(once, r);
    const twice = structuredClone(once);
    for (const r of records) applyRecord(twice, r);
    expect(twice).toEqual(once);
    expect(Object.keys(once.projects.P?.patients ?? {})).toHaveLength(5);
  });
});

describe('the crosswalk journal: cost', () => {
  it('group-commits concurrent new patients: far fewer fsyncs than patients', async () => {
    const path = join(dir, 'group.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const store = await ProjectStore.open(path, { journal });
    await store.ensureProject(setup);
    const before = journal.appends;
    const got = await addPatients(store, 'g', 200, 200);
    expect(new Set(got).size).toBe(200);
    expect([...got].sort()).toEqual(Array.from({ length: 200 }, (_, i) => `P_${String(i + 1).padStart(3, '0')}`));
    expect(journal.appends - before).toBeGreaterThanOrEqual(1);
    expect(journal.appends - before).toBeLessThanOrEqual(3);
    await store.close();
  });

  it('writes no more bytes per new patient with 20,000 patients in the store than with none', async () => {
    const perPatient = async (seeded: number): Promise<number> => {
      const path = join(dir, `cost-${seeded}.json`);
      if (seeded > 0) writeSeededStore(path, seeded);
      const journal = new FaultyJournal(`${path}.journal`);
      const adapter = new CountingFile(path);
      const store = await ProjectStore.open(path, { journal, adapter });
      await store.ensureProject({ ...setup, dateShiftDays: -15 });
      const [j0, r0, s0] = [journal.appendedBytes, journal.replacedBytes, adapter.bytes];
      // Same-length identifiers in both stores, so that lines are comparable.
      await addPatients(store, 'x', 1000, 50);
      const bytes = journal.appendedBytes - j0 + journal.replacedBytes - r0 + adapter.bytes - s0;
      abandon(path);
      return bytes / 1000;
    };
    const empty = await perPatient(0);
    const large = await perPatient(20_000);
    expect(empty).toBeGreaterThan(0);
    expect(large / empty).toBeLessThanOrEqual(1.5);
    expect(large).toBeLessThan(1000); // one line, not the 5 MB crosswalk
  });

  it('compacts once the journal outgrows the snapshot, so the bytes per patient stay bounded (amortised)', async () => {
    const path = join(dir, 'amortised.json');
    const journal = new FaultyJournal(`${path}.journal`);
    const adapter = new CountingFile(path);
    const store = await ProjectStore.open(path, { journal, adapter, compactionFloor: 64 });
    await store.ensureProject(setup);
    await addPatients(store, 'm', 3000, 50);
    expect(adapter.writes).toBeGreaterThanOrEqual(4); // 64, 128, 256, ... records
    const lineBytes = journal.appendedBytes / 3000;
    const snapshotBytes = adapter.bytes / 3000;
    // The snapshots written, all together, are within a small multiple of the journal's own bytes.
    expect(snapshotBytes).toBeLessThan(4 * lineBytes);
    expect(statSync(`${path}.journal`).size).toBeLessThan(3001 * lineBytes);
    abandon(path);
    const reopened = await ProjectStore.open(path);
    expect(Object.keys(reopened.data.projects.P?.patients ?? {})).toHaveLength(3000);
    expect(reopened.data.projects.P?.nextIndex).toBe(3001);
    await reopened.close();
  });

  it('flushes counters as a journal record, not a whole snapshot, and status sees them', async () => {
    const path = join(dir, 'stats.json');
    writeSeededStore(path, 1000);
    const adapter = new CountingFile(path);
    const store = await ProjectStore.open(path, { adapter });
    store.record('P', 'received');
    store.record('P', 'delivered');
    await new Promise((r) => setTimeout(r, 1300));
    expect(adapter.writes).toBe(0);
    const seen = await ProjectStore.readSnapshot(path);
    expect(seen.projects.P?.stats).toMatchObject({ received: 1, delivered: 1 });
    abandon(path);
    const reopened = await ProjectStore.open(path);
    expect(reopened.data.projects.P?.stats).toMatchObject({ received: 1, delivered: 1 });
    await reopened.close();
  });

  it('opens a store of 100,000 patients and assigns correctly', { timeout: 30_000 }, async () => {
    const path = join(dir, 'large.json');
    writeSeededStore(path, 100_000);
    const store = await ProjectStore.open(path);
    await store.ensureProject({ ...setup, dateShiftDays: -15 });
    expect(await store.pseudonymFor('P', identity('seed77777'))).toBe('P_77777');
    const got = await addPatients(store, 'n', 100, 100);
    expect(got[0]).toBe('P_100001');
    expect(got[99]).toBe('P_100100');
    abandon(path);
    const reopened = await ProjectStore.open(path);
    expect(await reopened.pseudonymFor('P', identity('n42'))).toBe('P_100043');
    expect(await reopened.pseudonymFor('P', identity('another'))).toBe('P_100101');
    expect(Object.keys(reopened.data.projects.P?.patients ?? {})).toHaveLength(100_101);
    await reopened.close();
  });
});
