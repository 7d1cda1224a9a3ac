// Our RetryStrategy for the SDK's NetworkSession. Why not the SDK's BoxRetryStrategy: it looks
// for 'Retry-After' in a header map whose keys node-fetch has lower-cased, so Retry-After is
// never honoured; it retries an aborted request as if it were a dropped connection; and its
// 401 path refreshes the token once per failing call (no single-flight).
//
// The SDK sleeps `retryAfter()` seconds with a bare setTimeout; we sleep in `shouldRetry`
// instead (it is async) so that tests can inject the clock, and answer 0 from `retryAfter`.
import type { FetchOptions, FetchResponse, RetryStrategy } from 'box-node-sdk/networking';

export interface BoxRetryOptions {
  /** Attempts per call, the first included. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A longer Retry-After is not slept through here: the call fails and the caller reschedules. */
  readonly maxRetryAfterMs?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** In [0, 1): the jitter source. */
  readonly random?: () => number;
}

/** Called on a 401 of an authenticated call, before it is retried. */
export type OnUnauthorized = (fetchOptions: FetchOptions) => Promise<void>;

export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => { signal?.removeEventListener('abort', onAbort); resolve(); };
    const timer = setTimeout(done, ms);
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After (seconds or an HTTP date) in ms, looked up case-insensitively; undefined if absent or unreadable. */
export function retryAfterMs(headers: { readonly [key: string]: string } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'retry-after');
  const raw = key === undefined ? undefined : headers[key]?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class BoxRetry implements RetryStrategy {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(options: BoxRetryOptions = {}, private readonly onUnauthorized?: OnUnauthorized) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
  }

  async shouldRetry(options: FetchOptions, response: FetchResponse, attempt: number): Promise<boolean> {
    const signal = options.cancellationToken as AbortSignal | undefined;
    // An abort (the caller's, or our own long-poll deadline) surfaces as status 0: never retry it.
    if (signal?.aborted || attempt >= this.maxAttempts) return false;
    const delay = this.delayFor(options, response, attempt);
    if (delay === undefined) return false;
    if (response.status === 401) await this.onUnauthorized?.(options);
    await this.sleep(delay, signal);
    return true;
  }

  retryAfter(): number {
    return 0; // already slept in shouldRetry
  }

  /** How long to wait before the next attempt; undefined: do not retry. */
  private delayFor(options: FetchOptions, response: FetchResponse, attempt: number): number | undefined {
    const { status } = response;
    const hinted = retryAfterMs(response.headers);
    if (hinted !== undefined && hinted > this.maxRetryAfterMs) return undefined;
    // 202 + Retry-After: "not ready yet" (an upload-session commit, a download being prepared).
    if (status === 202) return hinted;
    if (status === 429 || status >= 500) return hinted ?? this.backoff(attempt);
    if (status === 0) return this.backoff(attempt); // connection refused, reset, dropped
    // An expired token: renewed once (single-flight, by the session's auth), then one more try.
    if (status === 401 && options.auth !== undefined && attempt <= 2 && this.onUnauthorized) return 0;
    return undefined;
  }

  /** Capped exponential backoff with full-range jitter in [50%, 150%). */
  private backoff(attempt: number): number {
    const exp = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp * (0.5 + this.random()));
  }
}
