import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../fs/atomic-write.js';

/** What `status` says of the claims that wait out a transient error. */
export interface DeferredSummary {
  readonly count: number;
  /** When the oldest of them was first deferred. */
  readonly since: string;
  /** The latest error code (ENOSPC, EIO, ...). */
  readonly code: string;
}

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 60_000;

/**
 * The claims waiting out a transient error, each with its attempts (for the backoff) and when it
 * was first deferred. Claims only: they are durable in the work area, so a restart retries them
 * anyway; this is only the pacing and what `status` shows.
 */
export class Deferrals {
  private readonly waiting = new Map<string, { attempts: number; sinceMs: number }>();
  private lastCode = '';

  /** Records one more deferral of `claim`; returns how long to wait before the next try. */
  deferred(claim: string, code: string, now = Date.now()): number {
    const entry = this.waiting.get(claim) ?? { attempts: 0, sinceMs: now };
    entry.attempts += 1;
    this.waiting.set(claim, entry);
    this.lastCode = code;
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (entry.attempts - 1));
  }

  /** The claim settled; true when it had been deferred. */
  settled(claim: string): boolean {
    return this.waiting.delete(claim);
  }

  summary(): DeferredSummary | undefined {
    if (this.waiting.size === 0) return undefined;
    let since = Infinity;
    for (const { sinceMs } of this.waiting.values()) since = Math.min(since, sinceMs);
    return { count: this.waiting.size, since: new Date(since).toISOString(), code: this.lastCode };
  }
}

/**
 * Where the agent tells `status` (another process) about deferred claims: a hidden file in the
 * work area (work-area recovery clears hidden files at start, when nothing is deferred yet).
 */
export const DEFERRED_FILE = '.deferred.json';

/** Keeps `<work>/.deferred.json` in step with the summary; writes run one after another. */
export class DeferredBoard {
  private chain: Promise<void> = Promise.resolve();
  private shown: string | undefined;

  constructor(private readonly workDir: string, private readonly onError: (e: unknown) => void) {}

  show(summary: DeferredSummary | undefined): void {
    const text = summary ? JSON.stringify({ count: summary.count, since: summary.since, code: summary.code }) : undefined;
    if (text === this.shown) return;
    this.shown = text;
    const path = join(this.workDir, DEFERRED_FILE);
    // Best effort: the disk this would go to may be the full one; the log says the same.
    this.chain = this.chain.then(() => (text === undefined ? rm(path, { force: true }) : writeAtomically(path, [Buffer.from(`${text}\n`)], 0o600)))
      .catch((e: unknown) => { this.shown = undefined; this.onError(e); });
  }

  async flushed(): Promise<void> {
    await this.chain;
  }
}

/** What the running agent last said about deferred claims in `workDir`, if anything. */
export async function readDeferred(workDir: string): Promise<DeferredSummary | undefined> {
  try {
    const v = JSON.parse(await readFile(join(workDir, DEFERRED_FILE), 'utf8')) as Partial<DeferredSummary>;
    if (typeof v.count === 'number' && typeof v.since === 'string' && typeof v.code === 'string') return { count: v.count, since: v.since, code: v.code };
  } catch { /* none, or being replaced */ }
  return undefined;
}
