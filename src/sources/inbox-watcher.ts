import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log/logger.js';
import { isIgnoredName } from './ignored-names.js';

export interface InboxWatchOptions {
  readonly inbox: string;
  /** Poll instead of inotify: for SMB/NFS shares, where change events do not arrive. */
  readonly usePolling: boolean;
  readonly pollIntervalMs: number;
  /** A file is taken once its size and mtime have not changed for this long. */
  readonly stabilityMs: number;
}

/** Candidates lstat'ed at once per sweep (a few per thread-pool thread: other I/O shares the pool). */
const SWEEP_SLICE = 64;

const isGone = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException | undefined)?.code ?? '');

interface Candidate {
  size: number;
  mtimeMs: number;
  stableSince: number;
}

/**
 * Watches an inbox recursively and reports each file once it has stopped changing. Symbolic
 * links are reported too (as links, never followed) so that they can be settled, not lost.
 */
export class InboxWatcher {
  private readonly candidates = new Map<string, Candidate>();
  private watcher: FSWatcher | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly options: InboxWatchOptions,
    private readonly onStable: (path: string) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const o = this.options;
    this.watcher = watch(o.inbox, {
      persistent: true,
      ignoreInitial: false, // files that arrived while the agent was down
      followSymlinks: false,
      usePolling: o.usePolling,
      interval: o.pollIntervalMs,
      binaryInterval: o.pollIntervalMs,
      ignored: (path: string) => path !== o.inbox && isIgnoredName(path),
      alwaysStat: false,
    });
    const note = (path: string): void => {
      if (!this.candidates.has(path)) this.candidates.set(path, { size: -1, mtimeMs: -1, stableSince: Date.now() });
    };
    this.watcher.on('add', note).on('change', note).on('unlink', (p) => this.candidates.delete(p));
    this.watcher.on('error', (e) => this.log.error({ err: { code: (e as NodeJS.ErrnoException).code } }, 'inbox watcher error'));
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
    const tick = Math.max(50, Math.min(500, Math.floor(o.stabilityMs / 4)));
    this.sweepTimer = setInterval(() => void this.sweep(), tick);
  }

  /**
   * Checks every candidate's size and mtime; reports those unchanged for the stability time. The
   * lstats go out together, in slices: one after the other, each waited in the thread pool's queue
   * behind the watcher's own lstats of a big drop, and the drop was reported (so claimed) over
   * seconds instead of at once.
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      const all = [...this.candidates];
      for (let i = 0; i < all.length; i += SWEEP_SLICE) {
        const slice = all.slice(i, i + SWEEP_SLICE);
        const stats = await Promise.all(slice.map(([path]) => lstat(path).catch((e: unknown) => (isGone(e) ? undefined : e as Error))));
        slice.forEach(([path, c], k) => this.judge(path, c, stats[k], now));
      }
    } finally {
      this.sweeping = false;
    }
  }

  private judge(path: string, c: Candidate, st: Stats | Error | undefined, now: number): void {
    if (this.candidates.get(path) !== c) return; // unlinked (or seen anew) while we looked
    // EIO, ESTALE, EACCES: the file may well be there; it stays a candidate, looked at next time.
    if (st instanceof Error) return;
    if (!st || st.isDirectory()) {
      this.candidates.delete(path); // gone (moved away by its writer, or claimed), or a folder
      return;
    }
    if (st.size !== c.size || st.mtimeMs !== c.mtimeMs) {
      c.size = st.size;
      c.mtimeMs = st.mtimeMs;
      c.stableSince = now;
      return;
    }
    if (now - c.stableSince >= this.options.stabilityMs) {
      this.candidates.delete(path);
      this.onStable(path);
    }
  }

  /** Files seen but not yet stable. */
  get waiting(): number {
    return this.candidates.size;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.watcher?.close();
  }
}
