import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Per directory: the fsync running now, and the one queued behind it. */
const directorySyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

/**
 * Makes the directory entries renamed so far durable. Group commit: callers that arrive while a
 * directory's fsync runs share the single fsync queued behind it, which starts after all their
 * renames, so each caller still returns only once an fsync begun after its rename has finished.
 */
function syncDirectory(dir: string): Promise<void> {
  const current = directorySyncs.get(dir);
  if (!current) {
    const running = fsyncDirectory(dir).finally(() => {
      const entry = directorySyncs.get(dir);
      if (entry?.running === running && !entry.next) directorySyncs.delete(dir);
    });
    directorySyncs.set(dir, { running });
    return running;
  }
  if (current.next) return current.next;
  const next = current.running.catch(() => undefined).then(() => {
    const started = fsyncDirectory(dir);
    directorySyncs.set(dir, { running: started });
    void started.finally(() => {
      if (directorySyncs.get(dir)?.running === started && !directorySyncs.get(dir)?.next) directorySyncs.delete(dir);
    }).catch(() => undefined);
    return started;
  });
  current.next = next;
  return next;
}

/** The folder of temporary files under a root the agent writes to (outbox, quarantine, failed). */
export const temporariesOf = (root: string): string => join(root, TEMPORARIES);
const TEMPORARIES = '.deid-tmp';

/**
 * Empties a root's temporary folder: only one agent writes to a root, so at its start anything
 * there is left over from a write a crash interrupted.
 */
export async function clearTemporaries(root: string): Promise<void> {
  await rm(temporariesOf(root), { recursive: true, force: true });
  await mkdir(temporariesOf(root), { recursive: true, mode: 0o700 });
}

/**
 * Writes `bytes` to `target` so that `target` is either absent or complete: a temporary file
 * (in `tmpDir`, on the same file system, or beside the target), fsync, rename, fsync of the
 * target's directory.
 */
export async function writeAtomically(target: string, bytes: AsyncIterable<Buffer> | Iterable<Buffer>, mode = 0o644, tmpDir?: string): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  if (tmpDir) await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir ?? dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // A stream pipeline lets the next chunk be read while the last one is written.
    await pipeline(Readable.from(bytes), createWriteStream(tmp, { flags: 'wx', mode, highWaterMark: 16 * 1024 * 1024 }));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}
