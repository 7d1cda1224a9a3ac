import { syncDirectory } from '../fs/atomic-write.js';
import { randomBytes } from 'node:crypto';
import { lstatSync, renameSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Marks a staging folder whose archive was fully expanded (and so may be deleted). */
export const COMPLETE_MARKER = '.complete';
const STAGING_SUFFIX = '.x';
/** Claims adopted from a cloud source end in this plus their source's tag (see adopt). */
const REMOTE_MARK = '-r';

/** The source tag of an adopted claim (or of its archive's staging folder), if it is one. */
export function remoteTagOf(claimName: string): string | undefined {
  return /^[0-9a-z]+-[0-9a-f]+-r([0-9a-f]+)(?:\.x)?$/.exec(claimName)?.[1];
}

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * The agent's private area for one project, on the inbox's file system. A file is claimed by an
 * atomic rename into it before anything reads it, so no other worker (and no researcher's
 * re-copy) can touch it; after a crash, whatever is here is the to-do list.
 */
export class WorkArea {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Claim names carry no input name (it may hold a patient's name): a time-ordered random id. */
  private newName(): string {
    return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
  }

  /**
   * Moves `path` into the work area; undefined when it vanished first. ENOENT also comes when the
   * work area itself is gone: then the file is still there, and the error is thrown (retried).
   */
  async claim(path: string): Promise<string | undefined> {
    const target = join(this.dir, this.newName());
    try {
      await rename(path, target);
      return target;
    } catch (e) {
      if (isMissing(e) && !(await lstat(path).then(() => true, () => false))) return undefined;
      throw e;
    }
  }

  /**
   * `claim`, synchronously: for claiming a whole drop at once without waiting in the thread
   * pool's queue (see ProjectRunner#claimWaiting).
   */
  claimSync(path: string): string | undefined {
    const target = join(this.dir, this.newName());
    try {
      renameSync(path, target);
      return target;
    } catch (e) {
      if (isMissing(e) && lstatSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
      throw e;
    }
  }

  /**
   * Takes a complete, fsynced file made elsewhere on this file system (a cloud download) as a
   * claim, under a name that ends in `-r<tag>` so the claim can be told back to its source.
   */
  async adopt(path: string, tag: string): Promise<string> {
    if (!/^[0-9a-f]{1,200}$/.test(tag)) throw new Error('a claim tag is lower-case hex');
    const target = join(this.dir, `${this.newName()}${REMOTE_MARK}${tag}`);
    await rename(path, target);
    await syncDirectory(this.dir);
    return target;
  }

  /** Where an archive claim expands: named after it, so recovery can tell which archive is done. */
  stagingDirFor(archiveClaim: string): string {
    return `${archiveClaim}${STAGING_SUFFIX}`;
  }

  /** Moves every expanded file of a completed staging folder into the work area as claims. */
  async releaseStaging(staging: string): Promise<string[]> {
    const claims: string[] = [];
    for (const name of (await readdir(staging)).sort()) {
      if (name === COMPLETE_MARKER) continue;
      const target = join(this.dir, this.newName());
      await rename(join(staging, name), target);
      claims.push(target);
    }
    await syncDirectory(this.dir); // the claims' new names are durable before their old folder goes
    await rm(staging, { recursive: true, force: true });
    return claims;
  }

  /**
   * The claims left by a previous run, oldest first. A completed expansion is released and its
   * archive deleted; an interrupted one is discarded (its archive is still here, expanded again).
   */
  async recover(): Promise<string[]> {
    const claims: string[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (name.startsWith('.')) {
        await rm(path, { recursive: true, force: true }); // a temporary file of an interrupted write
      } else if (name.endsWith(STAGING_SUFFIX)) {
        const complete = await stat(join(path, COMPLETE_MARKER)).then(() => true, () => false);
        if (complete) {
          await rm(path.slice(0, -STAGING_SUFFIX.length), { force: true });
          claims.push(...(await this.releaseStaging(path)));
        } else {
          await rm(path, { recursive: true, force: true });
        }
      }
    }
    // Second pass: the remaining files (archives whose expansion completed are gone by now). A set,
    // so recovery stays linear in the number of claims (an archive can leave 200,000).
    const released = new Set(claims);
    for (const name of (await readdir(this.dir)).sort()) {
      if (!name.startsWith('.') && !name.endsWith(STAGING_SUFFIX) && !released.has(join(this.dir, name))) claims.push(join(this.dir, name));
    }
    return claims;
  }
}
