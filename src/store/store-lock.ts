import { open, readFile, rm } from 'node:fs/promises';
import { StoreError } from './secure-json-file.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One writer per store: a lock file beside it holding the writer's PID. A lock left by a process
 * that no longer runs (after SIGKILL) is taken over.
 */
export async function acquireStoreLock(storePath: string): Promise<() => Promise<void>> {
  const lockPath = `${storePath}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        await rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot create lock ${lockPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
      }
      const pid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new StoreError(`${storePath} is in use by process ${pid}; one writer at a time`);
      }
      await rm(lockPath, { force: true }); // stale
    }
  }
  throw new StoreError(`cannot take the lock ${lockPath}`);
}
