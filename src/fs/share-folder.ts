import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errorCode } from '../pipeline/transient.js';

/**
 * Checks for a mounted share used as an inbox or outbox (src/sources/folder-inbox.ts,
 * src/sinks/folder-outbox.ts). A share is written by people outside the agent's control, and it
 * can be unmounted under it; these checks answer with a reason (codes and fixed words only,
 * never a path below the root, whose names may hold PHI) or undefined when all is well.
 */

/**
 * The file that says "this folder is the share": made once by the operator on the share itself.
 * An unmounted share leaves its mount point, an empty local folder that looks like a share;
 * without the marker the agent writes nothing there and takes nothing from it.
 */
export const SHARE_MARKER = '.deid-share';

/**
 * Codes that say the share is away, full, read-only or busy for now, not that the file is bad:
 * the same call may succeed later (the inbox retries the round; the outbox answers retry).
 * EACCES and EPERM too: permissions on a share are fixed by its owner, not by giving up.
 */
export const SHARE_TRANSIENT = new Set(['ENOENT', 'ENOTDIR', 'EIO', 'ESTALE', 'ETIMEDOUT', 'EHOSTDOWN', 'EHOSTUNREACH', 'ENOTCONN', 'ECONNRESET',
  'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

/** Undefined when `root` is a folder holding the marker; else why not (the share is away, perhaps). */
export async function shareAbsence(root: string): Promise<string | undefined> {
  const folder = await lstat(root).catch((e: unknown) => errorCode(e));
  if (typeof folder === 'string') return `the share folder is not there (${folder}): is it mounted?`;
  if (!folder.isDirectory()) return 'the share path is not a folder';
  const marker = await lstat(join(root, SHARE_MARKER)).catch((e: unknown) => errorCode(e));
  if (typeof marker === 'string') return `the share has no ${SHARE_MARKER} marker (${marker}): is it mounted?`;
  return undefined;
}

/**
 * Makes `path` (a folder of the agent's own on the share) when missing, and checks it is a plain
 * folder: a symbolic link put in its place would take claims, or originals, elsewhere.
 */
export async function ownShareFolder(path: string): Promise<string | undefined> {
  await mkdir(path).catch((e: unknown) => { if (errorCode(e) !== 'EEXIST') throw e; });
  const st = await lstat(path);
  return st.isDirectory() ? undefined : 'a folder of the agent\'s own on the share is not a plain folder (a link?)';
}

/**
 * Whether `dir` resolves to the folder `parts` name under `root`, with no link on the way.
 * Checked right before a rename or link: Node has no openat, so a folder swapped for a link
 * between this check and the call is a window this narrows but cannot close; mounting the share
 * with `nosymfollow` closes it (see README).
 */
export async function resolvesBeneath(root: string, parts: readonly string[]): Promise<boolean> {
  const [realRoot, realDir] = await Promise.all([realpath(root), realpath(join(root, ...parts)).catch(() => undefined)]);
  return realDir !== undefined && realDir === (parts.length === 0 ? realRoot : `${realRoot}${sep}${parts.join(sep)}`);
}
