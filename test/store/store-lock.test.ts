import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock } from '../../src/store/store-lock.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid as number;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

describe('the store lock', () => {
  it('lets only one of two takers of a stale lock win, even when both judged it stale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-lock-'));
    const store = join(dir, 'store.json');
    writeFileSync(`${store}.lock`, String(await deadPid()));
    // The first taker judges the lock stale, then pauses just before taking it over...
    let resume!: () => void;
    let paused!: () => void;
    const atTakeover = new Promise<void>((r) => { paused = r; });
    const first = acquireStoreLock(store, { beforeTakeover: () => { paused(); return new Promise<void>((r) => { resume = r; }); } });
    await atTakeover;
    // ...while a second takes it over and holds it.
    const releaseSecond = await acquireStoreLock(store);
    resume();
    await expect(first).rejects.toThrow(/in use by process/);
    expect(existsSync(`${store}.lock`)).toBe(true); // the second's lock is still there
    await releaseSecond();
    expect(readdirSync(dir)).toEqual([]); // no lock, no temporaries left
    const third = await acquireStoreLock(store);
    await third();
  });

  it('never shows a lock without its owner (it appears whole)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-lock2-'));
    const store = join(dir, 'store.json');
    const release = await acquireStoreLock(store);
    expect(readFileSync(`${store}.lock`, 'utf8')).toMatch(new RegExp(`^${process.pid} [0-9a-f-]{36}$`));
    await release();
  });
});
