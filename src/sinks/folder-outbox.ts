import { randomBytes } from 'node:crypto';
import { type FileHandle, link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { ConflictPolicy, PutResult, RemoteOutbox } from '../cloud/remote-folder.js';
import { syncDirectory } from '../fs/atomic-write.js';
import { SHARE_TRANSIENT as TRANSIENT, resolvesBeneath, shareAbsence } from '../fs/share-folder.js';
import { errorCode } from '../pipeline/transient.js';
import { copyRange } from '../fs/file-io.js';
import { sha1Of } from './cloud-outbox-sink.js';

/**
 * A folder on another machine, mounted here (an SMB or NFS share of a research group's server),
 * as an outbox drained through a sink ledger like a cloud folder: when the share is away (not
 * mounted, full, read-only, a stale handle), results wait in the ledger and are retried with
 * backoff, instead of failing the inputs that made them. A plain `outbox` path stays the direct,
 * local outbox; this is for a destination that can go away.
 *
 * The root must hold the share marker (src/fs/share-folder.ts) and is never created: an
 * unmounted share leaves an empty mount point, and writing the layout there would put results on
 * the local disk under it, counted as delivered. Folders on the way to a target are made one by
 * one and must be plain folders: a link put on the share by someone who can write to it is never
 * written through.
 */
export interface FolderOutboxOptions {
  readonly onConflict?: ConflictPolicy;
  /** Writes `size` bytes of `source` into `out` (tests inject faults here; default: copyRange, in the kernel where it can). */
  readonly copy?: (source: FileHandle, out: FileHandle, size: number) => Promise<void>;
}

/** A link cannot be made here (some SMB mounts): publish by rename after the existence check instead. */
const NO_LINKS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EXDEV', 'EMLINK', 'ENOSYS']);

const LINKED = 'a folder on the target path is a link or not a folder';

export function createFolderOutbox(root: string, options: FolderOutboxOptions = {}): RemoteOutbox {
  const onConflict = options.onConflict ?? 'fail';
  const copy = options.copy ?? ((source, out, size) => copyRange(source, out, 0, size));

  /** Same content at the target: stored; different: the conflict policy; none: undefined (go on). */
  const existing = async (target: string, sha1: string): Promise<PutResult | 'replace' | undefined> => {
    const st = await lstat(target).catch((e: unknown) => { if (errorCode(e) === 'ENOENT') return undefined; throw e; });
    if (!st) return undefined;
    // Not a regular file (a folder or a link someone put there): never written through, never replaced.
    if (!st.isFile()) return { kind: 'failed', reason: 'the target path is taken by something other than a file' };
    if ((await sha1Of(target)) === sha1) return { kind: 'stored' };
    return onConflict === 'replace' ? 'replace' : { kind: 'failed', reason: 'a different file is already at the target path (onConflict: fail)' };
  };

  const put = async (relativePath: string, from: string, sha1: string, signal?: AbortSignal): Promise<PutResult> => {
    // The sink hands only layout paths built from safe parts; refuse anything else all the same.
    const parts = relativePath.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes(sep) || p.startsWith('.'))) {
      return { kind: 'failed', reason: 'unsafe target path' };
    }
    const absent = await shareAbsence(root);
    if (absent) return { kind: 'retry', reason: absent };
    // The folders on the way, one by one: each made if missing, and each a plain folder.
    const folders = parts.slice(0, -1);
    for (let i = 1; i <= folders.length; i++) {
      const at = join(root, ...folders.slice(0, i));
      await mkdir(at).catch((e: unknown) => { if (errorCode(e) !== 'EEXIST') throw e; });
      if (!(await lstat(at)).isDirectory()) return { kind: 'failed', reason: LINKED };
    }
    if (!(await resolvesBeneath(root, folders))) return { kind: 'failed', reason: LINKED };
    const target = join(root, ...parts);
    const dir = dirname(target);
    const before = await existing(target, sha1);
    if (before && before !== 'replace') return before;
    if (signal?.aborted) return { kind: 'retry', reason: 'stopped' };
    const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    const source = await open(from, 'r');
    try {
      const out = await open(tmp, 'wx', 0o644);
      try {
        await copy(source, out, (await source.stat()).size);
        await out.sync();
      } finally {
        await out.close();
      }
      // Again right before publishing: a folder swapped for a link meanwhile is not written through.
      if (!(await resolvesBeneath(root, folders))) return { kind: 'failed', reason: LINKED };
      if (before === 'replace') {
        await rename(tmp, target);
      } else {
        // link, not rename: a file that appeared since the check is never replaced.
        try {
          await link(tmp, target);
        } catch (e) {
          if (errorCode(e) === 'EEXIST') {
            const now = await existing(target, sha1);
            return now === 'replace' ? await put(relativePath, from, sha1, signal) : (now ?? { kind: 'retry', reason: 'the target path changed during the write' });
          }
          if (!NO_LINKS.has(errorCode(e))) throw e;
          await rename(tmp, target);
        }
      }
    } finally {
      await source.close();
      await rm(tmp, { force: true });
    }
    await syncDirectory(dir);
    return { kind: 'stored' };
  };

  return {
    label: `folder ${root}`,
    async put(relativePath, from, sha1, signal) {
      try {
        return await put(relativePath, from, sha1, signal);
      } catch (e) {
        const code = errorCode(e);
        // Codes only: an error's message would carry the path, and the path carries the pseudonym and UIDs at most, but stay consistent with every other sink.
        return TRANSIENT.has(code) ? { kind: 'retry', reason: `the outbox folder refused the write (${code})` } : { kind: 'failed', reason: `cannot write to the outbox folder (${code})` };
      }
    },
  };
}
