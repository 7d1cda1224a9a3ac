// The Box implementation of RemoteInbox. A claim moves the file into our processing folder
// under `${id}-${name}` (ids are unique, so the name cannot clash) only if its etag is unchanged.
import { claimName } from '../claim-name.js';
import { DeleteFolderByIdHeaders, UpdateFileByIdHeaders } from 'box-node-sdk/managers';
import type { RemoteChanges, RemoteFile, RemoteInbox } from '../remote-folder.js';
import { isStatus, rethrowIfAborted, toRemoteError } from './box-errors.js';
import { boxChanges } from './box-events.js';
import { downloadTo } from './box-download.js';
import { findOrCreateFolder, folderItems, toRemoteFile, walkFiles } from './box-folders.js';
import type { BoxSession } from './box-session.js';

export interface BoxInboxOptions {
  readonly folderId: string;
  readonly ack: 'delete' | 'archive';
  /** An empty subfolder seen empty (and unchanged) across listings this long apart is removed (default 1 h). */
  readonly emptyFolderAfterMs?: number;
  /** The clock for that window; injectable for tests. */
  readonly now?: () => number;
}

/** Own folder names, ours or another agent's on a nested folder: never removed as "empty". */
const OWN_NAMES = new Set(['.deid-processing', '.deid-archive']);

export const PROCESSING_FOLDER = '.deid-processing';
export const ARCHIVE_FOLDER = '.deid-archive';

interface OwnFolders {
  readonly processing: string;
  readonly archive?: string;
}

export function createBoxInbox(session: BoxSession, options: BoxInboxOptions): RemoteInbox {
  const { client } = session;
  let own: Promise<OwnFolders> | undefined;
  const emptyAfterMs = options.emptyFolderAfterMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  /** Subfolders seen empty at the last complete listing: their etag then, and since when they have been. */
  let empties = new Map<string, { etag: string; since: number }>();

  /**
   * Nested folders dropped into the inbox (study/series/…) stay behind once their files are
   * claimed, and every listing walks them again. One seen empty with the same etag for
   * `emptyAfterMs` is removed with recursive=false and If-Match: Box itself refuses to delete a
   * folder that is not empty (folder_not_empty), so a file that landed after our listing is never
   * trashed with it. The window covers a collaborator who made the folder and is uploading into it
   * (a file appears only once its upload completes). Best effort: any refusal is left for later.
   */
  const pruneEmpty = (seen: Map<string, { etag: string; since: number }>, signal?: AbortSignal) =>
    async (folder: { id: string; name: string; etag: string }): Promise<void> => {
      if (OWN_NAMES.has(folder.name)) return;
      const before = empties.get(folder.id);
      const since = before && before.etag === folder.etag ? before.since : now();
      if (now() - since < emptyAfterMs) {
        seen.set(folder.id, { etag: folder.etag, since });
        return;
      }
      try {
        await client.folders.deleteFolderById(folder.id, {
          queryParams: { recursive: false },
          ...(folder.etag ? { headers: new DeleteFolderByIdHeaders({ ifMatch: folder.etag }) } : {}),
          cancellationToken: signal,
        });
      } catch {
        rethrowIfAborted(signal); // not empty after all, changed, gone: the next listings see
      }
    };

  // Memoised, but a failure is forgotten so the next call tries again.
  const ownFolders = (signal?: AbortSignal): Promise<OwnFolders> => {
    own ??= (async () => {
      const processing = await findOrCreateFolder(client, options.folderId, PROCESSING_FOLDER, signal);
      const archive = options.ack === 'archive' ? await findOrCreateFolder(client, options.folderId, ARCHIVE_FOLDER, signal) : undefined;
      return archive === undefined ? { processing } : { processing, archive };
    })();
    own.catch(() => { own = undefined; });
    return own;
  };

  /** The file under its claimed name `${id}-${name}`, presented under its own name again. */
  /** Claimed files are named by id (see claimName): their listed name says nothing more. */
  const unclaimedName = (file: RemoteFile): RemoteFile => file;

  async function move(file: RemoteFile, parentId: string, name: string | undefined, etag: string | undefined, signal?: AbortSignal) {
    return client.files.updateFileById(file.id, {
      requestBody: { parent: { id: parentId }, ...(name !== undefined ? { name } : {}) },
      queryParams: { fields: ['id', 'name', 'size', 'etag', 'sha1'] },
      ...(etag !== undefined ? { headers: new UpdateFileByIdHeaders({ ifMatch: etag }) } : {}),
      cancellationToken: signal,
    });
  }

  return {
    label: `box folder ${options.folderId}`,

    async prepare(signal) {
      await ownFolders(signal);
    },

    async *list(signal) {
      const { processing, archive } = await ownFolders(signal);
      const exclude = new Set(archive === undefined ? [processing] : [processing, archive]);
      const seen = new Map<string, { etag: string; since: number }>();
      yield* walkFiles(client, options.folderId, exclude, signal, pruneEmpty(seen, signal));
      // A complete listing only: a folder not seen empty this time starts its window again.
      empties = seen;
    },

    changes(cursor, waitMs, signal): Promise<RemoteChanges> {
      return boxChanges(session, cursor, waitMs, signal);
    },

    async claim(file, signal) {
      const { processing } = await ownFolders(signal);
      try {
        const moved = await move(file, processing, claimName(file.id, file.name), file.etag, signal);
        return unclaimedName(toRemoteFile(moved));
      } catch (e) {
        rethrowIfAborted(signal);
        // Changed since listed (412) or gone (404): the next listing sees it again, or not.
        if (isStatus(e, 404, 412)) return undefined;
        throw toRemoteError(e, 'claim');
      }
    },

    async *claimed(signal) {
      const { processing } = await ownFolders(signal);
      for await (const item of folderItems(client, processing, signal)) {
        if (item.type === 'file') yield unclaimedName(toRemoteFile(item));
      }
    },

    download(file, to, signal) {
      return downloadTo(session, file, to, signal);
    },

    async ack(file, signal) {
      try {
        if (options.ack === 'delete') {
          await client.files.deleteFileById(file.id, { cancellationToken: signal });
        } else {
          const { archive } = await ownFolders(signal);
          // Keeps the claimed name: unique by id, so the archive never answers 409.
          if (archive !== undefined) await move(file, archive, undefined, undefined, signal);
        }
      } catch (e) {
        rethrowIfAborted(signal);
        if (isStatus(e, 404)) return; // gone already: nothing left to end
        throw toRemoteError(e, 'ack');
      }
    },
  };
}
