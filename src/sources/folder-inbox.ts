import { createHash } from 'node:crypto';
import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claimName } from '../cloud/claim-name.js';
import { type RemoteChanges, RemoteError, type RemoteFile, type RemoteInbox } from '../cloud/remote-folder.js';
import { copyRange } from '../fs/file-io.js';
import { SHARE_TRANSIENT as TRANSIENT, ownShareFolder, resolvesBeneath, shareAbsence } from '../fs/share-folder.js';
import { errorCode } from '../pipeline/transient.js';
import { isIgnoredName } from './ignored-names.js';

/**
 * A folder on another machine, mounted here (a collaborator's or a modality's SMB or NFS share),
 * as an inbox with the cloud inbox's lifecycle (src/sources/cloud-inbox.ts): claimed by a rename
 * into the share's own `.deid-processing` folder, copied ("downloaded") into the work area,
 * acked (deleted, or moved to `.deid-archive`) only after settlement. A plain local `inbox` is
 * claimed by renaming straight into the work area, which needs one file system; a share is
 * another one, hence this.
 *
 * A share is written by people outside the agent's control, and unlike a cloud service it shows
 * files while they are being written:
 * - a file is listed (and a claim left by an earlier run resumed) only once its size and
 *   modification time have stayed the same for `stabilityMs`, and its copy is checked against
 *   them before and after;
 * - symbolic links, special files and hard-linked files (two names, one content) are skipped;
 *   a claim and a copy refuse a path that resolves out of the share, and the copy opens with
 *   O_NOFOLLOW (and O_NONBLOCK, so a FIFO swapped in cannot hang a thread);
 * - nothing is taken or made unless the root holds the share marker (src/fs/share-folder.ts): an
 *   unmounted share leaves an empty mount point on the local disk.
 */
export interface FolderInboxOptions {
  readonly ack: 'delete' | 'archive';
  /** A file is taken once unchanged this long (default 10 s). */
  readonly stabilityMs?: number;
  readonly now?: () => number;
  /** A folder of the share that cannot be read (its files wait); the code only, never a name. */
  readonly onUnreadable?: (code: string) => void;
  /** Test seams for deterministic faults: how a folder is read, and how a claimed file is copied. */
  readonly readdir?: (dir: string) => Promise<Dirent[]>;
  readonly copy?: (source: FileHandle, out: FileHandle, size: number) => Promise<void>;
}

export const PROCESSING_FOLDER = '.deid-processing';
export const ARCHIVE_FOLDER = '.deid-archive';

/** An error naming only the operation and the code: never a path, which may hold a patient's name. */
const remoteError = (what: string, e: unknown): RemoteError => new RemoteError(`share ${what} failed (${errorCode(e)})`, TRANSIENT.has(errorCode(e)));
/** A subfolder gone or replaced while listed: nothing to report. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Identity that survives the claim's rename: the inode and the modification time (a reused inode
 * is a new file with another mtime, so an old claim or ack record never matches it). Not the
 * device number: it may change when the share is mounted again.
 */
const idOf = (st: BigIntStats): string => `${st.ino.toString(16)}-${st.mtimeNs.toString(16)}`;
/** A claimed file's name: its id, then the extension claimName keeps. */
const CLAIMED = /^([0-9a-f]+-[0-9a-f]+)(?:\.[A-Za-z0-9]{1,8})?$/;
const etagOf = (st: BigIntStats): string => `${st.size.toString(16)}-${st.mtimeNs.toString(16)}`;
/** One name, regular: what the share inbox takes. */
const takeable = (st: BigIntStats | undefined): boolean => st !== undefined && st.isFile() && st.nlink === 1n;

export function createFolderInbox(root: string, options: FolderInboxOptions): RemoteInbox {
  const stabilityMs = options.stabilityMs ?? 10_000;
  const now = options.now ?? Date.now;
  const readFolder = options.readdir ?? ((dir: string) => readdir(dir, { withFileTypes: true }));
  const copy = options.copy ?? ((source: FileHandle, out: FileHandle, size: number) => copyRange(source, out, 0, size));
  const processing = join(root, PROCESSING_FOLDER);
  const archive = join(root, ARCHIVE_FOLDER);
  /** Where each listed file is (relative path by id): a claim renames it from there. Held in memory only. */
  let where = new Map<string, string>();
  /** Each path's etag when first seen unchanged, and since when: the stability window. */
  let seen = new Map<string, { etag: string; since: number }>();
  /** The same for claims found in the processing folder (a resumed claim waits out the window too). */
  let seenClaims = new Map<string, { etag: string; since: number }>();

  /** Files that changed within the window are held back; the entry carried over or started anew. */
  const windowOf = (before: { etag: string; since: number } | undefined, etag: string): { etag: string; since: number } =>
    (before && before.etag === etag ? before : { etag, since: now() });

  /** The share is there (marker present) and the agent's own folders are plain folders: else a RemoteError. */
  const ready = async (): Promise<void> => {
    const absent = await shareAbsence(root);
    if (absent) throw new RemoteError(absent, true);
    for (const own of options.ack === 'archive' ? [processing, archive] : [processing]) {
      const wrong = await ownShareFolder(own).catch((e: unknown) => { throw remoteError('prepare', e); });
      if (wrong) throw new RemoteError(wrong, false);
    }
  };

  /** One folder's entries; a transient error is retried twice (a share's hiccup), then thrown. */
  const entries = async (dir: string): Promise<Dirent[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await readFolder(dir);
      } catch (e) {
        if (attempt >= 3 || !TRANSIENT.has(errorCode(e)) || VANISHED.has(errorCode(e))) throw e;
        await sleep(100 * attempt);
      }
    }
  };

  /**
   * Every candidate file under the root (not own folders, not ignored names, not links), with its
   * stat. A subfolder that vanished is skipped; one that cannot be read is skipped and reported
   * (its files wait), so one bad folder does not stop the inbox. The root's failure is thrown.
   */
  async function* walk(dir: string, rel: string): AsyncGenerator<{ rel: string; st: BigIntStats }> {
    let list: Dirent[];
    try {
      // A folder swapped for a link since its parent was read is not followed.
      if (rel !== '' && !(await lstat(dir)).isDirectory()) return;
      list = await entries(dir);
    } catch (e) {
      if (rel === '') throw remoteError('listing', e);
      if (!VANISHED.has(errorCode(e))) options.onUnreadable?.(errorCode(e));
      return;
    }
    for (const d of list) {
      if (d.name.startsWith('.')) continue; // own folders, and dot files and folders: never inputs
      const path = join(dir, d.name);
      const relPath = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        yield* walk(path, relPath);
      } else if (d.isFile() && !isIgnoredName(d.name)) {
        const st = await lstat(path, { bigint: true }).catch(() => undefined); // gone meanwhile: skip
        if (st && takeable(st)) yield { rel: relPath, st };
        else if (st?.isFile()) options.onUnreadable?.('hard link');
      }
    }
  }

  const toRemote = (name: string, st: BigIntStats): RemoteFile => ({ id: idOf(st), name, size: Number(st.size), etag: etagOf(st) });

  /**
   * The claimed file of `id` in the processing folder: named `id` or `id.ext` (see claimName).
   * Found by listing, not from a name: an ack after a restart knows only the id.
   */
  const claimedPath = async (id: string): Promise<string | undefined> => {
    const name = (await entries(processing)).find((d) => d.isFile() && (d.name === id || d.name.startsWith(`${id}.`)))?.name;
    return name === undefined ? undefined : join(processing, name);
  };

  /** A fingerprint of the whole listing, and whether a file held back for stability is now ripe. */
  const scan = async (): Promise<{ cursor: string; ripe: boolean }> => {
    const hash = createHash('sha1');
    let ripe = false;
    for await (const { rel, st } of walk(root, '')) {
      hash.update(`${rel}\0${etagOf(st)}\0`);
      const before = seen.get(rel);
      if (before && before.etag === etagOf(st) && now() - before.since >= stabilityMs && !where.has(idOf(st))) ripe = true;
    }
    return { cursor: hash.digest('hex'), ripe };
  };

  return {
    label: `folder ${root}`,

    async prepare() {
      await ready();
    },

    async *list() {
      await ready();
      const nextWhere = new Map<string, string>();
      const nextSeen = new Map<string, { etag: string; since: number }>();
      for await (const { rel, st } of walk(root, '')) {
        const window = windowOf(seen.get(rel), etagOf(st));
        nextSeen.set(rel, window);
        if (now() - window.since < stabilityMs) continue; // still being written, perhaps: next time
        nextWhere.set(idOf(st), rel);
        where.set(idOf(st), rel);
        yield toRemote(rel.slice(rel.lastIndexOf('/') + 1), st);
      }
      where = nextWhere;
      seen = nextSeen;
    },

    async changes(cursor, waitMs, signal): Promise<RemoteChanges> {
      const absent = await shareAbsence(root);
      if (absent) throw new RemoteError(absent, true);
      const deadline = now() + waitMs;
      for (;;) {
        const s = await scan();
        if (cursor === undefined || s.cursor !== cursor || s.ripe) return { cursor: s.cursor, changed: true };
        const rest = deadline - now();
        if (rest <= 0 || signal?.aborted) return { cursor: s.cursor, changed: false };
        await sleep(Math.min(2000, rest), undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    },

    async claim(file) {
      await ready(); // the processing folder made again if a remount brought a fresh share
      // Listed by this inbox (the usual case), or else looked for: another worker's listing.
      let rel = where.get(file.id);
      if (rel === undefined) {
        for await (const f of walk(root, '')) if (idOf(f.st) === file.id) rel = f.rel;
      }
      if (rel === undefined) return undefined;
      const parts = rel.split('/');
      const from = join(root, ...parts);
      try {
        const st = await lstat(from, { bigint: true });
        if (!takeable(st) || idOf(st) !== file.id || etagOf(st) !== file.etag) return undefined; // changed: listed again later
        if (!(await resolvesBeneath(root, parts.slice(0, -1)))) return undefined; // a folder on the way became a link
        // A rename: of two agents on one share, one wins and the other finds the file gone.
        await rename(from, join(processing, claimName(file.id, file.name)));
        where.delete(file.id);
        const claimed = await lstat(join(processing, claimName(file.id, file.name)), { bigint: true });
        // The listed id, which the claim's name carries (and the caller's records hold).
        return { ...toRemote(claimName(file.id, file.name), claimed), id: file.id };
      } catch (e) {
        if (errorCode(e) === 'ENOENT') return undefined;
        throw remoteError('claim', e);
      }
    },

    async *claimed() {
      await ready();
      const next = new Map<string, { etag: string; since: number }>();
      for (const d of await entries(processing).catch((e: unknown) => { throw remoteError('listing', e); })) {
        // Named by a claim (id and extension): the id is the name's, not recomputed, since a file
        // written to after its claim has another mtime, and some shares (cifs noserverino) give
        // inodes that change across mounts. The caller takes only claims it recorded.
        const id = CLAIMED.exec(d.name)?.[1];
        if (id === undefined || !d.isFile()) continue;
        const st = await lstat(join(processing, d.name), { bigint: true }).catch(() => undefined);
        if (!st?.isFile()) continue;
        // A claim left by an earlier run may have been taken mid-copy: it waits out the window too.
        const window = windowOf(seenClaims.get(d.name), etagOf(st));
        next.set(d.name, window);
        if (now() - window.since >= stabilityMs) yield { ...toRemote(d.name, st), id };
      }
      seenClaims = next;
    },

    async download(file, to) {
      try {
        await ready();
        const from = await claimedPath(file.id);
        if (from === undefined) throw new RemoteError('share file is no longer in the processing folder', true);
        // No link followed, and no FIFO or device waited on: only a regular file is read.
        const source = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          const before = await source.stat({ bigint: true });
          if (!before.isFile()) throw new RemoteError('share file is not a regular file', false);
          if (etagOf(before) !== file.etag) throw new RemoteError('share file changed since it was claimed', true);
          const out = await open(to, 'w', 0o600);
          try {
            await copy(source, out, Number(before.size));
            await out.sync();
          } finally {
            await out.close();
          }
          // Still written to by someone who held it open: copy it again later, once it is still.
          if (etagOf(await source.stat({ bigint: true })) !== file.etag) throw new RemoteError('share file changed while it was copied', true);
        } finally {
          await source.close();
        }
      } catch (e) {
        if (e instanceof RemoteError) throw e;
        throw remoteError('copy', e);
      }
    },

    async ack(file) {
      try {
        await ready();
        const from = await claimedPath(file.id);
        if (from === undefined) return; // acked already
        if (options.ack === 'delete') await rm(from);
        else await rename(from, join(archive, from.slice(processing.length + 1)));
      } catch (e) {
        if (e instanceof RemoteError) throw e;
        if (errorCode(e) === 'ENOENT') return; // acked already
        throw remoteError('ack', e);
      }
    },
  };
}
