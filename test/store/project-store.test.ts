import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/store/project-store.js';
import { SecureJsonFile, StoreError } from '../../src/store/secure-json-file.js';
import type { StoreData } from '../../src/store/store-schema.js';

const identity = (id: string) => ({ key: JSON.stringify(['id', '', id]), patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' });
const setup = { name: 'P', prefix: 'P_', shiftRange: [-20, -10] as const };

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

  it('has every pseudonym on disk when pseudonymFor returns, in a 0600 file', async () => {
    const path = join(dir, 'b.json');
    const store = await ProjectStore.open(path);
    await store.ensureProject(setup);
    await store.pseudonymFor('P', identity('x'));
    // Read by another reader, not through the store's memory.
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as { projects: { P: { patients: Record<string, { pseudonym: string }> } } };
    expect(Object.values(onDisk.projects.P.patients).map((p) => p.pseudonym)).toEqual(['P_001']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.close();
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

/** The durable adapter, with writes that can be made to pause or fail on demand (fault injection). */
class FaultyFile extends SecureJsonFile {
  gate: Promise<void> | undefined;
  failures = 0;
  override async write(data: StoreData): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    }
    await this.gate;
    await super.write(data);
  }
}

describe('ProjectStore pseudonyms under write faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-store-fault-'));

  it('gives no caller a new pseudonym before its entry is on disk; concurrent callers share the write', async () => {
    const path = join(dir, 'pause.json');
    const file = new FaultyFile(path);
    const store = await ProjectStore.open(path, { adapter: file });
    await store.ensureProject(setup);
    let open!: () => void;
    file.gate = new Promise((r) => { open = r; });
    const settled: string[] = [];
    const first = store.pseudonymFor('P', identity('x')).then((p) => { settled.push(`first ${p}`); });
    const second = store.pseudonymFor('P', identity('x')).then((p) => { settled.push(`second ${p}`); });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toEqual([]); // the write is paused: nobody may carry the pseudonym yet
    expect(readFileSync(path, 'utf8')).not.toContain('P_001');
    open();
    await Promise.all([first, second]);
    expect(settled.sort()).toEqual(['first P_001', 'second P_001']);
    expect(readFileSync(path, 'utf8')).toContain('P_001');
    await store.close();
  });

  it('takes back an assignment whose write failed: no unsaved entry, the number is given again', async () => {
    const path = join(dir, 'fail.json');
    const file = new FaultyFile(path);
    const store = await ProjectStore.open(path, { adapter: file });
    await store.ensureProject(setup);
    file.failures = 1;
    const a = store.pseudonymFor('P', identity('x'));
    const b = store.pseudonymFor('P', identity('x'));
    await expect(a).rejects.toThrow(/no space/);
    await expect(b).rejects.toThrow(/no space/);
    expect(Object.keys(store.data.projects.P?.patients ?? {})).toHaveLength(0);
    expect(store.data.projects.P?.nextIndex).toBe(1);
    expect(await store.pseudonymFor('P', identity('y'))).toBe('P_001');
    expect(await store.pseudonymFor('P', identity('x'))).toBe('P_002');
    await store.close();
    const reopened = await ProjectStore.open(path);
    expect(await reopened.pseudonymFor('P', identity('y'))).toBe('P_001');
    await reopened.close();
  });
});
