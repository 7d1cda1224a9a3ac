import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyRange, writeAll } from './file-io.js';

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
export function syncDirectory(dir: string): Promise<void> {
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
 * Directories this process has made or found, so the common case (many outputs into one series
 * folder) costs no mkdir call. A directory removed behind our back shows as ENOENT and is made again.
 */
const knownDirectories = new Set<string>();

async function ensureDirectory(dir: string, mode?: number): Promise<void> {
  if (knownDirectories.has(dir)) return;
  await mkdir(dir, { recursive: true, ...(mode === undefined ? {} : { mode }) });
  // Bounded: a long-running agent meets a new series folder with every series.
  if (knownDirectories.size >= 10_000) knownDirectories.clear();
  knownDirectories.add(dir);
}

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * A temporary name's unique part: random once per thread, then a counter. Unique among every
 * writer of a root (threads of this process, and a process before a restart) without a
 * randomBytes call per file, which cost ~3 % of a small file's time.
 */
const threadTag = randomBytes(6).toString('hex');
let temporaries = 0;
const temporaryTag = (): string => `${threadTag}${(temporaries++).toString(36)}`;

/** Writes a new file's content through its open handle, at position 0. */
export type FillFile = (out: FileHandle) => Promise<void>;

/**
 * Creates `target` so that it is either absent or complete: `fill` writes a temporary file (in
 * `tmpDir`, on the same file system, or beside the target) through one handle, which is fsynced
 * and closed; then rename and fsync of the target's directory (group-committed).
 */
export async function createFileAtomically(target: string, fill: FillFile, mode = 0o644, tmpDir?: string): Promise<void> {
  const dir = dirname(target);
  const tmpFolder = tmpDir ?? dir;
  const tmp = join(tmpFolder, `.${basename(target)}.${temporaryTag()}.tmp`);
  await ensureDirectory(dir);
  if (tmpDir) await ensureDirectory(tmpDir, 0o700);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', mode);
  } catch (e) {
    if (!isMissing(e)) throw e;
    knownDirectories.delete(tmpFolder);
    await ensureDirectory(tmpFolder, tmpDir ? 0o700 : undefined);
    fh = await open(tmp, 'wx', mode);
  }
  try {
    try {
      await fill(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, target);
    } catch (e) {
      if (!isMissing(e)) throw e;
      knownDirectories.delete(dir);
      await ensureDirectory(dir);
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** Writes `bytes` to `target` atomically (see createFileAtomically). */
export async function writeAtomically(target: string, bytes: AsyncIterable<Buffer> | Iterable<Buffer>, mode = 0o644, tmpDir?: string): Promise<void> {
  await createFileAtomically(target, async (out) => {
    for await (const chunk of bytes) await writeAll(out, [chunk]);
  }, mode, tmpDir);
}

/** Copies the file at `from` to `target` atomically, in the kernel where it can (see copyRange). */
export async function copyFileAtomically(from: string, target: string, mode = 0o644, tmpDir?: string): Promise<void> {
  const source = await open(from, 'r');
  try {
    const { size } = await source.stat();
    await createFileAtomically(target, (out) => copyRange(source, out, 0, size), mode, tmpDir);
  } finally {
    await source.close();
  }
}
