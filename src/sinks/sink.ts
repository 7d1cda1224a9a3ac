// A sink puts de-identified instances somewhere (a C-STORE destination, a Box or SharePoint
// folder). Each sink is drained from its own durable ledger (ForwardLedger) by a SinkDrainer,
// which owns retries, backoff and the destination's outage state; the sink only says what became
// of each instance it was handed.

/** What became of one instance in one attempt. Reasons carry codes and statuses, never values or names. */
export type SinkResult =
  | { readonly kind: 'stored' }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly status?: number | null };

export interface Sink {
  /** The destination, for logs and status: service and address or folder id, no file names. */
  readonly label: string;
  /** Instances handed to one `put` at most (one association, one round of concurrent uploads). */
  readonly batchSize: number;
  /**
   * Puts each file (complete, durable, de-identified Part 10), idempotently on its SOP Instance
   * UID: putting one twice stores it once. Answers every path; never throws for what the
   * destination answers (a throw counts as `retry` for the whole batch).
   */
  put(paths: readonly string[], signal?: AbortSignal): Promise<ReadonlyMap<string, SinkResult>>;
}

/** How long a drainer keeps trying, and how it backs off. */
export interface RetryPolicy {
  /** Keep retrying an unreachable destination for this long. */
  readonly retryForHours: number;
  readonly firstRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
}
