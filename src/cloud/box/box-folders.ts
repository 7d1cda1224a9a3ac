// Folder walking and find-or-create, shared by the inbox and the outbox.
import type { BoxClient } from 'box-node-sdk';
import type { FileFull, Item } from 'box-node-sdk/schemas';
import { RemoteError, type RemoteFile } from '../remote-folder.js';
import { nameConflicts, rethrowIfAborted, toRemoteError } from './box-errors.js';

/** Page size asked of Box (its maximum is 1000); the service may answer with fewer. */
const PAGE_LIMIT = 1000;
const ITEM_FIELDS = ['type', 'id', 'name', 'size', 'etag', 'sha1'];

export function toRemoteFile(file: Pick<FileFull, 'id' | 'name' | 'size' | 'etag' | 'sha1'>): RemoteFile {
  return {
    id: file.id,
    name: file.name ?? '',
    size: file.size ?? 0,
    ...(file.etag ? { etag: file.etag } : {}),
    ...(file.sha1 ? { digest: { algorithm: 'sha1' as const, value: file.sha1.toLowerCase() } } : {}),
  };
}

/** The items directly in `folderId`, page by page (marker-based: stable while the folder changes). */
export async function* folderItems(client: BoxClient, folderId: string, signal?: AbortSignal): AsyncGenerator<Item> {
  let marker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.folders.getFolderItems(folderId, {
        queryParams: { fields: ITEM_FIELDS, usemarker: true, limit: PAGE_LIMIT, ...(marker ? { marker } : {}) },
        cancellationToken: signal,
      });
    } catch (e) {
      rethrowIfAborted(signal);
      throw toRemoteError(e, 'folder listing');
    }
    yield* page.entries ?? [];
    marker = page.nextMarker ?? undefined;
    if (!marker) return;
  }
}

/**
 * Every file under `folderId`, nested folders included (breadth-first, an explicit queue rather
 * than recursion), skipping the folders in `exclude`. Subfolders found with nothing in them (no
 * file, no folder, no web link) are handed to `onEmpty` once listed.
 */
export async function* walkFiles(
  client: BoxClient, folderId: string, exclude: ReadonlySet<string>, signal?: AbortSignal,
  onEmpty?: (folder: { readonly id: string; readonly name: string; readonly etag: string }) => Promise<void>,
): AsyncGenerator<RemoteFile> {
  const queue: { id: string; name: string; etag: string }[] = [{ id: folderId, name: '', etag: '' }];
  for (let folder = queue.shift(); folder !== undefined; folder = queue.shift()) {
    let items = 0;
    for await (const item of folderItems(client, folder.id, signal)) {
      items++;
      if (item.type === 'folder' && !exclude.has(item.id)) queue.push({ id: item.id, name: item.name ?? '', etag: item.etag ?? '' });
      else if (item.type === 'file') yield toRemoteFile(item);
    }
    // `onEmpty` hears of empty subfolders only: never of `folderId` itself.
    if (items === 0 && folder.id !== folderId && onEmpty) await onEmpty(folder);
  }
}

/**
 * The id of the folder `name` in `parentId`, created if missing. Create first and read the 409's
 * conflict when it exists: one request in either case, and no race between look and make.
 */
export async function findOrCreateFolder(client: BoxClient, parentId: string, name: string, signal?: AbortSignal): Promise<string> {
  try {
    const made = await client.folders.createFolder({ name, parent: { id: parentId } }, { queryParams: { fields: ['id'] }, cancellationToken: signal });
    return made.id;
  } catch (e) {
    rethrowIfAborted(signal);
    const conflicts = nameConflicts(e);
    if (conflicts === undefined) throw toRemoteError(e, 'folder creation');
    const folder = conflicts.find((c) => c.type === 'folder');
    if (folder) return folder.id;
    throw new RemoteError('box folder creation: a file of that name is in the way', false, 409);
  }
}
