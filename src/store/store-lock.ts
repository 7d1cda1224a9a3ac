import { randomUUID } from 'node:crypto';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { StoreError } from './secure-json-file.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** For tests: a pause just before a stale lock is taken over, to force two takers into that window. */
export interface LockHooks {
  readonly beforeTakeover?: () => Promise<void>;
}

const readLock = (path: string): Promise<string | undefined> => readFile(path, 'utf8').then((t) => t, () => undefined);
const pidOf = (content: string | undefined): number => Number((content ?? '').trim().split(/\s+/)[0]);

/**
 * One writer per store: a lock file beside it holding the writer's PID and a token of its own. The
 * lock appears whole (a hard link of a file already written), so no reader ever sees it empty. A
 * lock left by a process that no longer runs (after SIGKILL) is taken over safely even when two
 * processes try at once: the stale lock is renamed aside and its content checked; whoever finds
 * not the stale lock it judged, but a fresh one, puts it back and yields.
 */
export async function acquireStoreLock(storePath: string, hooks: LockHooks = {}): Promise<() => Promise<void>> {
  const lockPath = `${storePath}.lock`;
  const token = `${process.pid} ${randomUUID()}`;
  const mine = `${lockPath}.${randomUUID()}`;
  await writeFile(mine, token, { mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`cannot create lock ${lockPath} (${e.code ?? 'error'})`, { cause: e });
  });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(mine, lockPath);
        return async () => {
          // Only our own lock is removed: never one another process took over meanwhile.
          if ((await readLock(lockPath)) === token) await rm(lockPath, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StoreError(`cannot create lock ${lockPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
        }
      }
      const judged = await readLock(lockPath);
      if (judged === undefined) continue; // released meanwhile: try again
      const pid = pidOf(judged);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new StoreError(`${storePath} is in use by process ${pid}; one writer at a time`);
      }
      await hooks.beforeTakeover?.();
      const aside = `${lockPath}.stale.${randomUUID()}`;
      try {
        await rename(lockPath, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = await readLock(aside);
      if (moved === judged) {
        await rm(aside, { force: true });
        continue; // the stale lock is gone: link ours on the next turn
      }
      // A fresh lock, taken by another process after we judged: put it back and yield to it.
      await link(aside, lockPath).catch(() => undefined);
      await rm(aside, { force: true });
    }
    throw new StoreError(`cannot take the lock ${lockPath}`);
  } finally {
    await rm(mine, { force: true });
  }
}
