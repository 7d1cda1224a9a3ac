// The Box implementation of RemoteOutbox: folders found or made along the path (ids cached),
// then one upload; a name clash is settled by comparing SHA-1s. Every service answer becomes a
// PutResult; reasons carry statuses and Box error codes, never names.
import { stat } from 'node:fs/promises';
import { RemoteError, type ConflictPolicy, type PutResult, type RemoteOutbox } from '../remote-folder.js';
import { describeBoxError, isStatus, nameConflicts, type BoxConflict } from './box-errors.js';
import { findOrCreateFolder } from './box-folders.js';
import type { BoxSession } from './box-session.js';
import { uploadChunked, uploadSmall, type UploadTarget } from './box-upload.js';

export interface BoxOutboxOptions {
  readonly folderId: string;
  readonly onConflict?: ConflictPolicy;
  /** Files of at least this many bytes go through an upload session (Box's minimum is 20,000,000). */
  readonly chunkedFrom?: number;
  /** Folder ids remembered (path → id); the oldest is forgotten first. */
  readonly folderCacheSize?: number;
}

export const CHUNKED_FROM = 20_000_000;

function splitPath(relativePath: string): string[] | undefined {
  const parts = relativePath.split('/').filter((p) => p !== '');
  const bad = parts.length === 0 || parts.some((p) => p === '.' || p === '..' || p !== p.trim() || p.includes('\\'));
  return bad ? undefined : parts;
}

function resultOf(e: unknown): PutResult {
  const f = describeBoxError(e);
  // Our own RemoteError messages hold no names; the SDK's are never copied.
  const what = e instanceof RemoteError ? e.message : f.status === undefined ? (f.retryable ? 'network failure' : 'unreadable answer') : `${f.status}${f.code ? ` ${f.code}` : ''}`;
  const reason = what.startsWith('box') ? what : `box: ${what}`;
  if (!f.retryable) return { kind: 'failed', reason };
  return f.retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs: f.retryAfterMs };
}

export function createBoxOutbox(session: BoxSession, options: BoxOutboxOptions): RemoteOutbox {
  const { client } = session;
  const onConflict = options.onConflict ?? 'fail';
  const chunkedFrom = options.chunkedFrom ?? CHUNKED_FROM;
  const cacheSize = options.folderCacheSize ?? 1000;
  const folderIds = new Map<string, string>();

  async function folderFor(dirs: readonly string[], signal?: AbortSignal): Promise<string> {
    let parent = options.folderId;
    for (let i = 0; i < dirs.length; i++) {
      const key = dirs.slice(0, i + 1).join('/');
      let id = folderIds.get(key);
      if (id === undefined) {
        id = await findOrCreateFolder(client, parent, dirs[i]!, signal);
        if (folderIds.size >= cacheSize) folderIds.delete(folderIds.keys().next().value!);
        folderIds.set(key, id);
      }
      parent = id;
    }
    return parent;
  }

  async function send(target: UploadTarget, from: string, size: number, sha1: string, signal?: AbortSignal): Promise<void> {
    if (size < chunkedFrom) await uploadSmall(client, target, from, sha1, signal);
    else await uploadChunked(client, target, from, size, sha1, signal);
  }

  async function settleConflict(conflict: BoxConflict | undefined, name: string, from: string, size: number, sha1: string, signal?: AbortSignal): Promise<PutResult> {
    if (conflict?.type !== 'file') return { kind: 'failed', reason: 'box: a folder is at the target path' };
    // Upload 409s carry the file's sha1; fetch it when they do not.
    const theirs = conflict.sha1 ?? (await client.files.getFileById(conflict.id, { queryParams: { fields: ['sha1'] }, cancellationToken: signal })).sha1;
    if (theirs !== undefined && theirs.toLowerCase() === sha1.toLowerCase()) return { kind: 'stored' };
    if (onConflict === 'fail') return { kind: 'failed', reason: 'box: a different file is at the target path' };
    await send({ fileId: conflict.id, name }, from, size, sha1, signal);
    return { kind: 'stored' };
  }

  return {
    label: `box folder ${options.folderId}`,

    async put(relativePath, from, sha1, signal): Promise<PutResult> {
      const parts = splitPath(relativePath);
      if (!parts) return { kind: 'failed', reason: 'box: unusable relative path' };
      const name = parts.pop()!;
      let size: number;
      try {
        size = (await stat(from)).size;
      } catch (e) {
        return { kind: 'failed', reason: `box: local file unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
      }
      try {
        const folderId = await folderFor(parts, signal);
        try {
          await send({ folderId, name }, from, size, sha1, signal);
          return { kind: 'stored' };
        } catch (e) {
          const conflicts = nameConflicts(e);
          if (conflicts === undefined) throw e;
          return await settleConflict(conflicts[0], name, from, size, sha1, signal);
        }
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        // A cached folder deleted behind our back: forget the cache, the retry makes it again.
        if (isStatus(e, 404)) {
          folderIds.clear();
          return { kind: 'retry', reason: 'box: 404 not_found (target folder gone?)' };
        }
        return resultOf(e);
      }
    },
  };
}
