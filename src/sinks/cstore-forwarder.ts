import { storeFiles, type StoreResult } from '../dicom/dimse-store.js';
import type { ForwardConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ForwardOutcome, ProjectStore } from '../store/project-store.js';
import { backoffDelay } from './backoff.js';

/**
 * Drains a project's durable forward queue to its C-STORE destination, one association per
 * batch. An instance counts as forwarded only after a success or warning status; connection
 * problems are retried with backoff for `retryForHours`, across restarts (the queue is in the
 * store); a refusal by status, or no common transfer syntax, is final and recorded with its code.
 */
export class CStoreForwarder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly project: string, private readonly config: ForwardConfig, private readonly store: ProjectStore, private readonly log: Logger) {}

  get destination(): string {
    return `${this.config.calledAET}@${this.config.host}:${this.config.port}`;
  }

  start(tickMs = 500): void {
    this.timer = setInterval(() => {
      if (this.running || this.stopped) return;
      // A failed attempt (the store cannot be written, a read fails) is logged and tried again at
      // the next tick: the queue is durable, so nothing is lost, and the agent keeps running.
      this.running = this.drain().catch((e: unknown) => {
        this.log.error({ project: this.project, destination: this.destination, error: (e as Error).name, code: (e as NodeJS.ErrnoException).code }, 'forwarding attempt failed; retried');
      }).finally(() => { this.running = undefined; });
    }, tickMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private outcomeOf(result: StoreResult, attempts: number, retryingSince: string | null): ForwardOutcome {
    switch (result.kind) {
      case 'stored':
        return { kind: 'sent' };
      case 'failed':
        return { kind: 'failed', reason: result.reason, status: result.status };
      case 'retry': {
        const since = retryingSince ? Date.parse(retryingSince) : Date.now();
        if (Date.now() - since > this.config.retryForHours * 3_600_000) {
          return { kind: 'failed', reason: `gave up after ${this.config.retryForHours} h: ${result.reason}`, status: null };
        }
        return { kind: 'retry', reason: result.reason, delayMs: backoffDelay(attempts + 1, this.config.firstRetryDelayMs, this.config.maxRetryDelayMs) };
      }
      default: {
        const never: never = result;
        throw new Error(`unknown store result ${JSON.stringify(never)}`);
      }
    }
  }

  /** One batch: the due instances over one association. */
  private async drain(): Promise<void> {
    const due = this.store.dueForwards(this.project, new Date(), this.config.batchSize);
    if (due.length === 0) return;
    const results = await storeFiles({
      host: this.config.host, port: this.config.port, calledAET: this.config.calledAET, callingAET: this.config.callingAET,
      ...(this.config.tls ? { tls: this.config.tls } : {}),
    }, due.map(([, e]) => e.path));
    const settled = due.map(([sop, entry]) => {
      const r = results.get(entry.path) ?? { kind: 'retry' as const, reason: 'no result' };
      return { sop, outcome: this.outcomeOf(r, entry.attempts, entry.retryingSince) };
    });
    await this.store.settleForwards(this.project, settled);
    const count = (k: ForwardOutcome['kind']): number => settled.filter((s) => s.outcome.kind === k).length;
    const firstProblem = settled.find((s) => s.outcome.kind !== 'sent')?.outcome;
    this.log[count('sent') === settled.length ? 'info' : 'warn']({
      project: this.project, destination: this.destination, sent: count('sent'), retry: count('retry'), failed: count('failed'),
      ...(firstProblem && firstProblem.kind !== 'sent' ? { reason: firstProblem.reason } : {}),
    }, 'forwarded');
  }
}
