// A SharePoint / OneDrive folder as a RemoteOutbox. Uploads are path-based (Graph creates the
// missing folders of the path itself), with conflictBehavior=fail first: a name already taken is
// then settled by content, not by name. Same content (the item's sha1Hash, or its quickXorHash
// against ours) → stored, so a put repeated after a crash is a no-op; different content → 'failed'
// or, with onConflict 'replace', a second upload that replaces it; no hash yet (SharePoint hashes
// asynchronously) → retry after HASH_WAIT_MS, never a conflict. Every service answer becomes a
// PutResult; only programming errors throw.

import { stat } from 'node:fs/promises';
import type { ConflictPolicy, PutResult, RemoteOutbox } from '../remote-folder.js';
import { RemoteError } from '../remote-folder.js';
import { belowUrl, encodePath, getItem, type FolderAddress } from './graph-items.js';
import type { GraphSession } from './graph-session.js';
import { FRAGMENT_UNIT, uploadBySession, uploadSmall, type UploadOutcome } from './graph-upload.js';
import { quickXorHashFile } from './quick-xor-hash.js';

export interface GraphOutboxOptions {
  driveId: string;
  /** Folder path from the drive root (config, not PHI); or `itemId`. */
  path?: string;
  itemId?: string;
  onConflict?: ConflictPolicy;
  /** Files of at least this many bytes go through an upload session (default 4 MiB, Graph's limit for a simple PUT). */
  sessionFrom?: number;
  /** Upload session fragment size, a multiple of 320 KiB (default 10 × 320 KiB). */
  fragmentSize?: number;
  /** Failed fragments tolerated per upload before answering retry (default 8). */
  maxResumes?: number;
}

/** How long to wait for the service to hash an item it reports without hashes. */
export const HASH_WAIT_MS = 60_000;

export function createGraphOutbox(session: GraphSession, opts: GraphOutboxOptions): RemoteOutbox {
  const folder: FolderAddress = { driveId: opts.driveId, ...(opts.path !== undefined ? { path: opts.path } : {}), ...(opts.itemId ? { itemId: opts.itemId } : {}) };
  const onConflict = opts.onConflict ?? 'fail';
  const sessionFrom = opts.sessionFrom ?? 4 * 1024 * 1024;
  const sessionOpts = { fragmentSize: opts.fragmentSize ?? 10 * FRAGMENT_UNIT, maxResumes: opts.maxResumes ?? 8 };

  const upload = (target: string, from: string, size: number, conflict: ConflictPolicy, signal?: AbortSignal): Promise<UploadOutcome> =>
    size < sessionFrom
      ? uploadSmall(session, target, from, size, conflict, signal)
      : uploadBySession(session, target, from, size, conflict, sessionOpts, signal);

  /**
   * What is at `target`, compared with our file. 'unhashed': a file of our size that reports no
   * hash. SharePoint / OneDrive for Business compute hashes asynchronously, some time after an
   * upload, so a file just put there (ours from a run that crashed before recording it, or the
   * replacing upload of a moment ago) may have none yet: that proves nothing either way.
   */
  const compare = async (target: string, from: string, sha1: string, size: number, signal?: AbortSignal): Promise<'same' | 'different' | 'gone' | 'unhashed'> => {
    const item = await getItem(session, target, 'existing item', signal);
    if (!item) return 'gone';
    if (!item.isFile || item.size !== size) return 'different';
    if (item.sha1Hash) return item.sha1Hash.toLowerCase() === sha1.toLowerCase() ? 'same' : 'different';
    if (item.quickXorHash) return item.quickXorHash === (await quickXorHashFile(from, signal)) ? 'same' : 'different';
    return 'unhashed';
  };
  // Not a conflict (no 'failed', no replacing upload): look again once the service had time to hash it.
  const unhashed: PutResult = { kind: 'retry', reason: 'the item at the target path has no hash yet', retryAfterMs: HASH_WAIT_MS };

  const put = async (relativePath: string, from: string, sha1: string, signal?: AbortSignal): Promise<PutResult> => {
    encodePath(relativePath); // refuses '..' and empty paths before anything is sent
    const target = belowUrl(folder, relativePath);
    const size = (await stat(from)).size;
    const first = await upload(target, from, size, 'fail', signal);
    if (first.kind === 'done') return { kind: 'stored' };
    const found = await compare(target, from, sha1, size, signal);
    if (found === 'same') return { kind: 'stored' };
    if (found === 'unhashed') return unhashed;
    if (first.kind === 'check') return { kind: 'retry', reason: 'the upload did not complete' };
    if (found === 'gone') return { kind: 'retry', reason: 'the conflicting item went away' };
    if (onConflict === 'fail') return { kind: 'failed', reason: 'a different file is already at the target path' };
    const second = await upload(target, from, size, 'replace', signal);
    if (second.kind === 'done') return { kind: 'stored' };
    const after = await compare(target, from, sha1, size, signal);
    return after === 'same' ? { kind: 'stored' } : after === 'unhashed' ? unhashed : { kind: 'retry', reason: 'the replacing upload did not complete' };
  };

  return {
    label: `graph:${opts.driveId}:${opts.itemId ?? opts.path ?? '/'}`,
    async put(relativePath, from, sha1, signal) {
      try {
        return await put(relativePath, from, sha1, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        if (err instanceof RemoteError) {
          return err.retryable
            ? { kind: 'retry', reason: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) }
            : { kind: 'failed', reason: err.message };
        }
        // A local read error: our messages only, the path (may hold a name) stays out.
        const code = (err as { code?: unknown }).code;
        // Gone is final; anything else (EMFILE, EIO) is the moment's, and is tried again.
        if (typeof code === 'string') return { kind: code === 'ENOENT' ? 'failed' : 'retry', reason: `local file unreadable (${code})` };
        throw err;
      }
    },
  };
}
