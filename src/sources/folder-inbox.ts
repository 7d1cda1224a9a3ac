import { createHash } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { claimName } from '../cloud/claim-name.js';
import { type RemoteChanges, RemoteError, type RemoteFile, type RemoteInbox } from '../cloud/remote-folder.js';
import { copyRange } from '../fs/file-io.js';
import { isIgnoredName } from './ignored-names.js';

/**
 * A folder on another machine, mounted here (a collaborator's or a modality's SMB or NFS share),
 * as an inbox with the cloud inbox's lifecycle (src/sources/cloud-inbox.ts): claimed by a rename
 * into the share's own `.deid-processing` folder, copied ("downloaded") into the work area,
 * acked (deleted, or moved to `.deid-archive`) only after settlement. A plain local `inbox` is
 * claimed by renaming straight into the work area, which needs one file system; a share is
 * another one, hence this.
 *
 * Unlike a cloud service, a share shows files while they are being written: a file is listed
 * only once its size and modification time have stayed the same for `stabilityMs`, and its copy
 * is checked against them before and after. The root is never created (an unmounted share
 * leaves an empty mount point on the local disk); symbolic links and special files are skipped,
 * never followed.
 */
export interface FolderInboxOptions {
  readonly ack: 'delete' | 'archive';
  /** A file is taken once unchanged this long (default 10 s). */
  readonly stabilityMs?: number;
  readonly now?: () => number;
  /** Test seams for deterministic faults: how a folder is read, and how a claimed file is copied. */
  readonly readdir?: (dir: string) => Promise<Dirent[]>;
  readonly copy?: (source: FileHandle, out: FileHandle, size: number) => Promise<void>;
}

export const PROCESSING_FOLDER = '.deid-processing';
export const ARCHIVE_FOLDER = '.deid-archive';

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException | undefined)?.code ?? (e as Error | undefined)?.name ?? 'Error';
/** The share is away, busy or full for now: the same call may succeed later. */
const TRANSIENT = new Set(['ENOENT', 'EIO', 'ESTALE', 'ETIMEDOUT', 'EHOSTDOWN', 'EHOSTUNREACH', 'ENOTCONN', 'ECONNRESET', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EACCES', 'EPERM', 'ENOTDIR']);
/** An error naming only the operation and the code: never a path, which may hold a patient's name. */
const remoteError = (what: string, e: unknown): RemoteError => new RemoteError(`share ${what} failed (${codeOf(e)})`, TRANSIENT.has(codeOf(e)));

/**
 * Identity that survives the claim's rename: the inode and the modification time (a reused inode
 * is a new file with another mtime, so an old claim or ack record never matches it). Not the
 * device number: it may change when the share is mounted again.
 */
const idOf = (st: BigIntStats): string => `${st.ino.toString(16)}-${st.mtimeNs.toString(16)}`;
/** A claimed file's name: its id, then the extension claimName keeps. */
const CLAIMED = /^([0-9a-f]+-[0-9a-f]+)(?:\.[A-Za-z0-9]{1,8})?$/;
const etagOf = (st: BigIntStats): string => `${st.size.toString(16)}-${st.mtimeNs.toString(16)}`;

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

  /** One folder's entries; a transient error is retried twice (a share's hiccup), then thrown. */
  const entries = async (dir: string): Promise<Dirent[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await readFolder(dir);
      } catch (e) {
        if (attempt >= 3 || !TRANSIENT.has(codeOf(e)) || (dir === root && codeOf(e) === 'ENOENT')) throw remoteError('listing', e);
        await sleep(100 * attempt);
      }
    }
  };

  /** Every candidate file under the root (not own folders, not ignored names, not links), with its stat. */
  async function* walk(dir: string, rel: string): AsyncGenerator<{ rel: string; st: BigIntStats }> {
    for (const d of await entries(dir)) {
      if (d.name.startsWith('.')) continue; // own folders, and dot files and folders: never inputs
      const path = join(dir, d.name);
      const relPath = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        yield* walk(path, relPath);
      } else if (d.isFile() && !isIgnoredName(d.name)) {
        const st = await lstat(path, { bigint: true }).catch(() => undefined); // gone meanwhile: skip
        if (st?.isFile()) yield { rel: relPath, st };
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
      // The root must be there already: it is the share (see above).
      const st = await lstat(root).catch((e: unknown) => { throw remoteError('root', e); });
      if (!st.isDirectory()) throw new RemoteError('share root is not a folder', true);
      await mkdir(processing, { recursive: true }).catch((e: unknown) => { throw remoteError('prepare', e); });
      if (options.ack === 'archive') await mkdir(archive, { recursive: true }).catch((e: unknown) => { throw remoteError('prepare', e); });
    },

    async *list() {
      const nextWhere = new Map<string, string>();
      const nextSeen = new Map<string, { etag: string; since: number }>();
      for await (const { rel, st } of walk(root, '')) {
        const etag = etagOf(st);
        const before = seen.get(rel);
        const since = before && before.etag === etag ? before.since : now();
        nextSeen.set(rel, { etag, since });
        if (now() - since < stabilityMs) continue; // still being written, perhaps: next time
        nextWhere.set(idOf(st), rel);
        where.set(idOf(st), rel);
        yield toRemote(rel.slice(rel.lastIndexOf('/') + 1), st);
      }
      where = nextWhere;
      seen = nextSeen;
    },

    async changes(cursor, waitMs, signal): Promise<RemoteChanges> {
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
      // Listed by this inbox (the usual case), or else looked for: another worker's listing.
      let rel = where.get(file.id);
      if (rel === undefined) {
        for await (const f of walk(root, '')) if (idOf(f.st) === file.id) rel = f.rel;
      }
      if (rel === undefined) return undefined;
      const from = join(root, ...rel.split('/'));
      try {
        const st = await lstat(from, { bigint: true });
        if (!st.isFile() || idOf(st) !== file.id || etagOf(st) !== file.etag) return undefined; // changed: listed again later
        const to = join(processing, claimName(file.id, file.name));
        // A rename: of two agents on one share, one wins and the other finds the file gone.
        await rename(from, to);
        where.delete(file.id);
        const claimed = await lstat(to, { bigint: true });
        // The listed id, which the claim's name carries (and the caller's records hold).
        return { ...toRemote(claimName(file.id, file.name), claimed), id: file.id };
      } catch (e) {
        if (codeOf(e) === 'ENOENT') return undefined;
        throw remoteError('claim', e);
      }
    },

    async *claimed() {
      for (const d of await entries(processing)) {
        if (!d.isFile()) continue;
        // Named by a claim (id and extension): the id is the name's, not recomputed, since a file
        // written to after its claim has another mtime. Its inode must match: anything else is not ours.
        const id = CLAIMED.exec(d.name)?.[1];
        const st = id === undefined ? undefined : await lstat(join(processing, d.name), { bigint: true }).catch(() => undefined);
        if (id !== undefined && st?.isFile() && id.startsWith(`${st.ino.toString(16)}-`)) yield { ...toRemote(d.name, st), id };
      }
    },

    async download(file, to) {
      try {
        const from = await claimedPath(file.id);
        if (from === undefined) throw new RemoteError('share file is no longer in the processing folder', true);
        const source = await open(from, 'r');
        try {
          const before = await source.stat({ bigint: true });
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
        const from = await claimedPath(file.id);
        if (from === undefined) return; // acked already
        if (options.ack === 'delete') await rm(from);
        else await rename(from, join(archive, from.slice(processing.length + 1)));
      } catch (e) {
        if (codeOf(e) === 'ENOENT') return; // acked already
        throw remoteError('ack', e);
      }
    },
  };
}
