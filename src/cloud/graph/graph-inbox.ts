// A SharePoint / OneDrive folder as a RemoteInbox. Claims are moves into `.deid-processing` under a
// name prefixed with the item id, guarded by If-Match on the eTag; acks delete or move into
// `.deid-archive`. The change feed is the delta query.
//
// changes() answers at once and never sleeps: delta does not wait for changes, and sleeping here
// would hide the pacing from the caller, which already waits between polls (and can be stopped
// while it does). `waitMs` is therefore unused.
//
// Delta on a folder other than the drive root is refused by OneDrive for Business / SharePoint in
// some tenants (400/501): then the feed runs on the drive root instead (cursor kept as its
// deltaLink). A root feed reports changes anywhere in the drive, which only costs extra listings.
//
// Empty subfolders left behind by claims (study/series/…) are not removed here, unlike Box: Graph
// has no delete that refuses a non-empty folder (a folder DELETE takes its contents to the recycle
// bin), and whether a folder's eTag changes when a child is added is not documented, so If-Match
// cannot be relied on to spare a file dropped in between our listing and the delete. A stray empty
// folder costs one listing request; a collaborator's file lost unprocessed costs far more.

import type { RemoteChanges, RemoteInbox } from '../remote-folder.js';
import { RemoteError } from '../remote-folder.js';
import { downloadItem } from './graph-download.js';
import { jsonOf, statusError } from './graph-errors.js';
import { findOrCreateFolder, folderUrl, getItem, pagedItems, parseItem, toRemoteFile, type DriveItem } from './graph-items.js';
import type { GraphSession } from './graph-session.js';
import { claimName } from '../claim-name.js';

export interface GraphInboxOptions {
  driveId: string;
  /** Folder path from the drive root (config, not PHI); or `itemId`. */
  path?: string;
  itemId?: string;
  ack: 'delete' | 'archive';
}

export const PROCESSING_FOLDER = '.deid-processing';
export const ARCHIVE_FOLDER = '.deid-archive';

export function createGraphInbox(session: GraphSession, opts: GraphInboxOptions): RemoteInbox {
  const drive = `/drives/${encodeURIComponent(opts.driveId)}`;
  const itemUrl = (id: string): string => `${drive}/items/${encodeURIComponent(id)}`;
  let folder: { id: string; processing: string; archive?: string } | undefined;
  const ready = (): NonNullable<typeof folder> => {
    if (!folder) throw new RemoteError('graph: inbox used before prepare()', false);
    return folder;
  };

  /** Moves an item (If-Match when given; a new name when given). Undefined when it is gone, changed, or the name is taken. */
  const move = async (id: string, parentId: string, name: string | undefined, etag: string | undefined, signal?: AbortSignal): Promise<DriveItem | undefined> => {
    const res = await session.call(itemUrl(id), {
      method: 'PATCH',
      json: { parentReference: { id: parentId }, ...(name === undefined ? {} : { name }) },
      headers: etag ? { 'If-Match': etag } : {},
      signal,
    });
    if (res.status === 404 || res.status === 412 || res.status === 409) {
      await res.body?.cancel();
      return undefined;
    }
    const parsed = parseItem(await jsonOf('move', res));
    if (!parsed) throw new RemoteError('graph: move answered no item', true);
    return parsed;
  };

  /** Follows a delta URL to its deltaLink; counts changes that are not the agent's own doing. */
  const runDelta = async (url: string, signal?: AbortSignal): Promise<{ link: string; changed: boolean } | 'gone'> => {
    const f = ready();
    const own = new Set([f.id, f.processing, ...(f.archive ? [f.archive] : [])]);
    let next = url;
    let changed = false;
    for (;;) {
      const res = await session.call(next, { signal });
      if (res.status === 410) {
        await res.body?.cancel();
        return 'gone';
      }
      const page = (await jsonOf('delta', res)) as Record<string, unknown> | null;
      const value = page?.value;
      if (!Array.isArray(value)) throw new RemoteError('graph: delta answered no collection', true);
      for (const v of value) {
        const o = v as { id?: unknown; parentReference?: { id?: unknown } } | null;
        if (typeof o?.id === 'string' && !own.has(o.id) && !(f.processing === o.parentReference?.id || f.archive === o.parentReference?.id)) changed = true;
      }
      const nextLink = page?.['@odata.nextLink'];
      const deltaLink = page?.['@odata.deltaLink'];
      if (typeof nextLink === 'string') next = nextLink;
      else if (typeof deltaLink === 'string') return { link: deltaLink, changed };
      else throw new RemoteError('graph: delta answered neither nextLink nor deltaLink', true);
    }
  };

  /** A fresh cursor at "now": the folder's delta, or the drive root's where folder delta is refused. */
  const latest = async (signal?: AbortSignal): Promise<string> => {
    let res = await session.call(`${itemUrl(ready().id)}/delta?token=latest`, { signal });
    if (res.status === 400 || res.status === 501) {
      await res.body?.cancel();
      res = await session.call(`${drive}/root/delta?token=latest`, { signal });
    }
    const link = ((await jsonOf('delta', res)) as Record<string, unknown> | null)?.['@odata.deltaLink'];
    if (typeof link !== 'string') throw new RemoteError('graph: delta answered no deltaLink', true);
    return link;
  };

  return {
    label: `graph:${opts.driveId}:${opts.itemId ?? opts.path ?? '/'}`,

    async prepare(signal) {
      const item = await getItem(session, folderUrl(opts), 'inbox folder', signal);
      if (!item?.isFolder) throw new RemoteError('graph: the inbox folder does not exist or is not a folder', false, 404);
      const processing = await findOrCreateFolder(session, opts.driveId, item.id, PROCESSING_FOLDER, signal);
      const archive = opts.ack === 'archive' ? await findOrCreateFolder(session, opts.driveId, item.id, ARCHIVE_FOLDER, signal) : undefined;
      folder = { id: item.id, processing, ...(archive ? { archive } : {}) };
    },

    async *list(signal) {
      const f = ready();
      const folders = [f.id];
      for (let id = folders.pop(); id !== undefined; id = folders.pop()) {
        for await (const item of pagedItems(session, `${itemUrl(id)}/children`, 'children', signal)) {
          if (item.id === f.processing || item.id === f.archive) continue;
          if (item.isFolder) folders.push(item.id);
          else if (item.isFile) yield toRemoteFile(item);
        }
      }
    },

    async changes(cursor, _waitMs, signal): Promise<RemoteChanges> {
      if (cursor === undefined) return { cursor: await latest(signal), changed: true };
      const out = await runDelta(cursor, signal);
      // 410: the service forgot the cursor; start again at "now" and have the caller list.
      if (out === 'gone') return { cursor: await latest(signal), changed: true };
      return { cursor: out.link, changed: out.changed };
    },

    async claim(file, signal) {
      const f = ready();
      const moved = await move(file.id, f.processing, claimName(file.id, file.name), file.etag, signal);
      if (!moved) return undefined;
      // The move keeps the content; keep the listed digest if the answer lacks hashes.
      const claimed = toRemoteFile(moved);
      return claimed.digest || !file.digest ? claimed : { ...claimed, digest: file.digest };
    },

    async *claimed(signal) {
      for await (const item of pagedItems(session, `${itemUrl(ready().processing)}/children`, 'children', signal)) {
        if (item.isFile) yield toRemoteFile(item);
      }
    },

    download: (file, to, signal) => downloadItem(session, opts.driveId, file, to, signal),

    async ack(file, signal) {
      const f = ready();
      if (f.archive) {
        // Keeps its claimed name (unique by id). Gone already (404) is acked; a clash is not.
        const res = await session.call(itemUrl(file.id), { method: 'PATCH', json: { parentReference: { id: f.archive } }, signal });
        if (res.ok || res.status === 404) {
          await res.body?.cancel();
          return;
        }
        throw await statusError('archive', res);
      }
      const res = await session.call(itemUrl(file.id), { method: 'DELETE', signal });
      if (res.ok || res.status === 404) {
        await res.body?.cancel();
        return;
      }
      throw await statusError('delete', res);
    },
  };
}
