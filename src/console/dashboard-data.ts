import { type ProjectStatus, projectStatusesOf } from '../cli/status.js';
import { flaggedBatches } from '../qa/feedback.js';
import type { BatchId } from '../qa/qa-paths.js';
import type { ConsoleContext, ConsoleUser } from './context.js';

/**
 * A large drop's progress: from the moment a project's pending count reaches `LARGE_DROP` until
 * it is back to 0, the inputs settled since it began over those plus the ones still pending.
 */
export interface DropProgress {
  readonly done: number;
  readonly total: number;
}

export interface DashboardProject extends ProjectStatus {
  readonly drop?: DropProgress;
  /** Batches a reviewer marked PHI found in (sample inspection). */
  readonly qaFlagged?: readonly BatchId[];
}

export interface DashboardSnapshot {
  readonly projects: readonly DashboardProject[];
}

const LARGE_DROP = 20;
const POLL_MS = 1000;
const settledOf = (s: ProjectStatus): number => s.delivered + s.quarantined + s.failed;

/**
 * Polls the same figures `deid-agent status` shows, once a second while anyone watches (and at
 * once when the agent reports a settled input), and tells subscribers of each new snapshot.
 * One poll serves every open dashboard.
 */
export class DashboardFeed {
  private latest: readonly DashboardProject[] | undefined;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private unsubscribeLive: (() => void) | undefined;
  /** Per project: settled count when the current large drop began. */
  private readonly dropStart = new Map<string, number>();

  constructor(private readonly ctx: ConsoleContext) {}

  /** The latest snapshot; fresh from a poll when nobody keeps the feed polling (else it may be old). */
  async current(): Promise<readonly DashboardProject[]> {
    if (!this.latest || !this.timer) await this.poll();
    return this.latest ?? [];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      this.unsubscribeLive = this.ctx.live?.onSettled(() => void this.poll());
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribeLive?.();
    this.unsubscribeLive = undefined;
  }

  /** One poll at a time; a request meanwhile runs one more after it. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.again = false;
        try {
          this.latest = await Promise.all((await projectStatusesOf(this.ctx.config)).map(async (s) => this.withQa(this.withDrop(s))));
          for (const l of this.listeners) l();
        } catch (e) {
          this.ctx.log.warn({ code: (e as NodeJS.ErrnoException).code ?? (e as Error).name }, 'console: status poll failed');
        }
      } while (this.again);
    })().finally(() => { this.polling = undefined; });
    return this.polling;
  }

  private async withQa(p: DashboardProject): Promise<DashboardProject> {
    const flagged = (await flaggedBatches(this.ctx.config.store, p.project)).map((b) => b.batch);
    return flagged.length > 0 ? { ...p, qaFlagged: flagged } : p;
  }

  private withDrop(s: ProjectStatus): DashboardProject {
    const settled = settledOf(s);
    let start = this.dropStart.get(s.project);
    if (s.pending === 0) {
      this.dropStart.delete(s.project);
      return s;
    }
    if (start === undefined) {
      if (s.pending < LARGE_DROP) return s;
      start = settled;
      this.dropStart.set(s.project, start);
    }
    const done = Math.max(0, settled - start);
    return { ...s, drop: { done, total: done + s.pending } };
  }
}

/** What one account may see: its projects only. */
export const snapshotFor = (user: ConsoleUser, projects: readonly DashboardProject[]): DashboardSnapshot =>
  ({ projects: projects.filter((p) => user.projects.includes(p.project)) });
