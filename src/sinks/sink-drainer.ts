import type { Logger } from '../log/logger.js';
import { backoffDelay } from './backoff.js';
import { type DestinationState, ForwardLedger, type QueuedInstance } from './forward-ledger.js';
import type { RetryPolicy, Sink, SinkResult } from './sink.js';

/**
 * The longest wait a destination's Retry-After can impose here. A service asking for days (or a
 * broken one asking for 10^15 s, past what a ledger bucket can name) must not hide queued
 * instances; past this the drainer's own backoff applies.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;
const asked = (ms: number | undefined): number => Math.min(Math.max(0, ms ?? 0), MAX_RETRY_AFTER_MS);

/** What one attempt decided for one queued instance. */
type Decision =
  | { readonly kind: 'sent' }
  | { readonly kind: 'failed'; readonly reason: string; readonly status: number | null }
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs: number };

/**
 * Drains a sink's ledger to it, a batch at a time. An instance counts as stored only when the
 * sink says so (C-STORE: a success or warning status; a cloud folder: the upload answered, or the
 * same content already there). An attempt that reaches nothing (refused connection, rejected
 * association, abort, timeout, a service answering 503 to everything) backs the whole destination
 * off, for `retryForHours` counted from the first such attempt, across restarts (state.json); the
 * entries stay where they are, so a week's outage costs no work per queued instance. An instance
 * the destination asks to retry (out of resources, 429) waits on its own, at least as long as its
 * Retry-After; a refusal is final and kept under failed/ with its reason.
 */
export class SinkDrainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Aborts transfers in flight at stop (they stay queued: the ledger entry is untouched). */
  private readonly abort = new AbortController();
  private state: DestinationState | undefined;
  /** The reason sending is held, once logged (logged again only when it changes). */
  private heldFor: string | undefined;
  readonly ledger: ForwardLedger;

  /**
   * `hold`: asked before each attempt; a reason (the project's data use agreement has expired)
   * keeps everything queued, untouched, and nothing is sent until it answers undefined.
   */
  constructor(private readonly project: string, private readonly sink: Sink, private readonly policy: RetryPolicy, ledgerDir: string, private readonly log: Logger,
    private readonly hold?: () => string | undefined) {
    this.ledger = new ForwardLedger(ledgerDir);
  }

  get destination(): string {
    return this.sink.label;
  }

  start(tickMs = 500): void {
    this.timer = setInterval(() => {
      if (this.running || this.stopped) return;
      // A failed attempt (the ledger cannot be read or written) is logged and tried again at the
      // next tick: the ledger is durable, so nothing is lost, and the agent keeps running.
      this.running = this.drain().catch((e: unknown) => {
        this.log.error({ project: this.project, destination: this.destination, error: (e as Error).name, code: (e as NodeJS.ErrnoException).code }, 'forwarding attempt failed; retried');
      }).finally(() => { this.running = undefined; });
    }, tickMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  /** Whether sending is held now; says so once when it starts, and once when it ends. */
  private held(): boolean {
    const reason = this.hold?.();
    if (reason !== this.heldFor) {
      if (reason) this.log.warn({ project: this.project, destination: this.destination, reason }, 'sending held; queued instances stay spooled');
      else this.log.info({ project: this.project, destination: this.destination }, 'sending resumed');
      this.heldFor = reason;
    }
    return reason !== undefined;
  }

  private gaveUp(sinceMs: number, now: number): boolean {
    return now - sinceMs > this.policy.retryForHours * 3_600_000;
  }

  private decide(result: SinkResult, entry: QueuedInstance, now: number): Decision {
    switch (result.kind) {
      case 'stored':
        return { kind: 'sent' };
      case 'failed':
        return { kind: 'failed', reason: result.reason, status: result.status ?? null };
      case 'retry':
        if (this.gaveUp(entry.sinceMs ?? now, now)) return { kind: 'failed', reason: `gave up after ${this.policy.retryForHours} h: ${result.reason}`, status: null };
        return { kind: 'retry', reason: result.reason, delayMs: Math.max(asked(result.retryAfterMs), backoffDelay(entry.attempts + 1, this.policy.firstRetryDelayMs, this.policy.maxRetryDelayMs)) };
      default: {
        const never: never = result;
        throw new Error(`unknown store result ${JSON.stringify(never)}`);
      }
    }
  }

  /** Batches back to back while instances are due and going out; the tick resumes after. */
  private async drain(): Promise<void> {
    while (!this.stopped && (await this.drainBatch())) { /* next batch at once */ }
  }

  /** One batch: the due instances over one association. True when a full batch went out. */
  private async drainBatch(): Promise<boolean> {
    if (this.held()) return false;
    const now = Date.now();
    const state = (this.state ??= await this.ledger.readState());
    if (state.nextAttemptAt !== null && Date.parse(state.nextAttemptAt) > now) return false;
    const due = await this.ledger.due(this.sink.batchSize, now);
    if (due.length === 0) return false;
    const results: ReadonlyMap<string, SinkResult> = await this.sink.put(due.map((e) => e.path), this.abort.signal).catch((e: unknown) => {
      const reason = `${(e as Error).name ?? 'error'}${(e as NodeJS.ErrnoException).code ? ` ${(e as NodeJS.ErrnoException).code}` : ''}`;
      return new Map(due.map((d) => [d.path, { kind: 'retry' as const, reason }]));
    });
    // Stopped mid-batch: the entries stay as they were, to be sent by the next run.
    if (this.stopped) return false;
    const outcomes = due.map((entry) => ({ entry, result: results.get(entry.path) ?? { kind: 'retry' as const, reason: 'no result' } }));

    const firstProblem = outcomes.find((o) => o.result.kind !== 'stored')?.result;
    if (outcomes.every((o) => o.result.kind === 'retry')) {
      const waitMs = Math.max(0, ...outcomes.map((o) => (o.result.kind === 'retry' ? asked(o.result.retryAfterMs) : 0)));
      await this.destinationUnreachable(state, due, firstProblem && 'reason' in firstProblem ? firstProblem.reason : 'no result', now, waitMs);
      return false;
    }
    let sent = 0;
    let retry = 0;
    let failed = 0;
    for (const { entry, result } of outcomes) {
      const d = this.decide(result, entry, now);
      if (d.kind === 'sent') {
        await this.ledger.sent(entry);
        sent += 1;
      } else if (d.kind === 'retry') {
        await this.ledger.retryLater(entry, d.delayMs, now);
        retry += 1;
      } else {
        await this.ledger.fail(entry, d.reason, d.status, now);
        failed += 1;
      }
    }
    this.state = {
      forwarded: state.forwarded + sent, failures: 0, retryingSince: null, nextAttemptAt: null,
      lastError: firstProblem && 'reason' in firstProblem ? firstProblem.reason : null,
    };
    await this.ledger.writeState(this.state);
    this.log[sent === outcomes.length ? 'info' : 'warn']({
      project: this.project, destination: this.destination, sent, retry, failed,
      ...(firstProblem && 'reason' in firstProblem ? { reason: firstProblem.reason } : {}),
    }, 'forwarded');
    return sent === outcomes.length && due.length === this.sink.batchSize;
  }

  /**
   * Nothing of the batch reached the destination: the destination waits, not the instances. Past
   * `retryForHours` of such attempts, the batch fails for good, one batch per attempt.
   */
  private async destinationUnreachable(state: DestinationState, due: readonly QueuedInstance[], reason: string, now: number, retryAfterMs = 0): Promise<void> {
    const since = state.retryingSince ?? new Date(now).toISOString();
    if (this.gaveUp(Date.parse(since), now)) {
      for (const entry of due) await this.ledger.fail(entry, `gave up after ${this.policy.retryForHours} h: ${reason}`, null, now);
    }
    const failures = state.failures + 1;
    this.state = {
      forwarded: state.forwarded, failures, retryingSince: since, lastError: reason,
      nextAttemptAt: new Date(now + Math.max(retryAfterMs, backoffDelay(failures, this.policy.firstRetryDelayMs, this.policy.maxRetryDelayMs))).toISOString(),
    };
    await this.ledger.writeState(this.state);
    this.log.warn({ project: this.project, destination: this.destination, queuedInBatch: due.length, failures, reason }, 'destination unreachable; backing off');
  }
}
