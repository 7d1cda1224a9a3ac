// DriveItems as the inbox and outbox need them: addressing, reading the JSON we rely on (checked,
// not cast), paging through collections, and find-or-create of a child folder.

import type { RemoteFile } from '../remote-folder.js';
import { RemoteError } from '../remote-folder.js';
import { errorCode, jsonOf } from './graph-errors.js';
import type { GraphSession } from './graph-session.js';

export interface DriveItem {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly eTag?: string;
  readonly isFolder: boolean;
  readonly isFile: boolean;
  readonly deleted: boolean;
  readonly parentId?: string;
  readonly quickXorHash?: string;
  readonly sha1Hash?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export function parseItem(v: unknown): DriveItem | undefined {
  const o = obj(v);
  const id = str(o?.id);
  if (!o || !id) return undefined;
  const file = obj(o.file);
  const hashes = obj(file?.hashes);
  const parentId = str(obj(o.parentReference)?.id);
  const eTag = str(o.eTag);
  const quickXorHash = str(hashes?.quickXorHash);
  const sha1Hash = str(hashes?.sha1Hash);
  return {
    id,
    name: typeof o.name === 'string' ? o.name : '',
    size: typeof o.size === 'number' ? o.size : 0,
    isFolder: obj(o.folder) !== undefined,
    isFile: file !== undefined,
    deleted: obj(o.deleted) !== undefined,
    ...(eTag ? { eTag } : {}),
    ...(parentId ? { parentId } : {}),
    ...(quickXorHash ? { quickXorHash } : {}),
    ...(sha1Hash ? { sha1Hash } : {}),
  };
}

export function toRemoteFile(item: DriveItem): RemoteFile {
  // Prefer SHA-1 where the service gives it (personal OneDrive); else QuickXorHash (Business, SharePoint).
  const digest = item.sha1Hash
    ? { algorithm: 'sha1' as const, value: item.sha1Hash }
    : item.quickXorHash ? { algorithm: 'quickXorHash' as const, value: item.quickXorHash } : undefined;
  return { id: item.id, name: item.name, size: item.size, ...(item.eTag ? { etag: item.eTag } : {}), ...(digest ? { digest } : {}) };
}

/** Each '/'-separated segment URL-encoded; empty, '.' and '..' segments refused. */
export function encodePath(path: string): string {
  const segs = path.split('/').filter((s) => s !== '');
  if (segs.length === 0 || segs.some((s) => s === '.' || s === '..')) throw new RemoteError('graph: invalid relative path', false);
  return segs.map(encodeURIComponent).join('/');
}

export interface FolderAddress { readonly driveId: string; readonly path?: string; readonly itemId?: string }

/** The folder itself: `/drives/{d}/items/{id}` or `/drives/{d}/root:/{path}:` (or the root). */
export function folderUrl(f: FolderAddress): string {
  const drive = `/drives/${encodeURIComponent(f.driveId)}`;
  if (f.itemId) return `${drive}/items/${encodeURIComponent(f.itemId)}`;
  const p = (f.path ?? '').split('/').filter((s) => s !== '');
  return p.length === 0 ? `${drive}/root` : `${drive}/root:/${encodePath(p.join('/'))}:`;
}

/** An item below a folder by relative path, without the trailing colon (append `:/content` etc.). */
export function belowUrl(f: FolderAddress, relativePath: string): string {
  const drive = `/drives/${encodeURIComponent(f.driveId)}`;
  if (f.itemId) return `${drive}/items/${encodeURIComponent(f.itemId)}:/${encodePath(relativePath)}`;
  const base = (f.path ?? '').split('/').filter((s) => s !== '').join('/');
  return `${drive}/root:/${encodePath(base ? `${base}/${relativePath}` : relativePath)}`;
}

export async function getItem(session: GraphSession, url: string, what: string, signal?: AbortSignal): Promise<DriveItem | undefined> {
  const res = await session.call(url, { signal });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  const item = parseItem(await jsonOf(what, res));
  if (!item) throw new RemoteError(`graph: ${what} answered no item`, true);
  return item;
}

/** Every item of a collection, following @odata.nextLink. */
export async function* pagedItems(session: GraphSession, url: string, what: string, signal?: AbortSignal): AsyncGenerator<DriveItem> {
  let next: string | undefined = url;
  while (next) {
    const page = obj(await jsonOf(what, await session.call(next, { signal })));
    const value = page?.value;
    if (!Array.isArray(value)) throw new RemoteError(`graph: ${what} answered no collection`, true);
    for (const v of value) {
      const item = parseItem(v);
      if (item) yield item;
    }
    next = str(page?.['@odata.nextLink']);
  }
}

/** The id of folder `name` under `parentId`, created if missing (a concurrent creator wins: 409 → look it up). */
export async function findOrCreateFolder(session: GraphSession, driveId: string, parentId: string, name: string, signal?: AbortSignal): Promise<string> {
  const parent = { driveId, itemId: parentId };
  const res = await session.call(`${folderUrl(parent)}/children`, {
    method: 'POST',
    json: { name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' },
    retryDropped: true, // repeating is safe: a second create answers 409 and we look the folder up
    signal,
  });
  if (res.status === 409) {
    await errorCode(res);
    const existing = await getItem(session, belowUrl(parent, name), 'folder lookup', signal);
    if (!existing?.isFolder) throw new RemoteError('graph: an item that is not a folder holds the agent folder name', false);
    return existing.id;
  }
  const item = parseItem(await jsonOf('folder create', res));
  if (!item) throw new RemoteError('graph: folder create answered no item', true);
  return item.id;
}
