/** Password checks running at once (each one scrypt, 32 MiB and ~0.1 s on a libuv pool thread). */
export const MAX_VERIFYING = 2;

/**
 * Failed logins counted per key (a client address, an account name): after `max` failures within
 * `windowMs`, further attempts on that key are refused (429, Retry-After) until the oldest
 * failure leaves the window. Keys live in memory only, bounded, and are never logged.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now, private readonly max = 5, private readonly windowMs = 15 * 60_000, private readonly maxKeys = 10_000) {}

  /** Seconds until an attempt on any of these keys is allowed again; 0 when allowed now. */
  retryAfter(keys: readonly string[]): number {
    const t = this.now();
    let wait = 0;
    for (const k of keys) {
      const recent = this.recent(k, t);
      if (recent.length >= this.max) wait = Math.max(wait, Math.ceil(((recent[recent.length - this.max] ?? t) + this.windowMs - t) / 1000));
    }
    return wait;
  }

  /** Records a failure on each key; returns its time. */
  fail(keys: readonly string[]): number {
    const t = this.now();
    for (const k of keys) {
      const recent = this.recent(k, t);
      recent.push(t);
      this.failures.delete(k);
      this.failures.set(k, recent.slice(-this.max));
    }
    // Oldest-touched keys go first when a flood of names fills the table.
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
    return t;
  }

  /**
   * Counts an attempt as a failure now, before the password is checked, and returns its time for
   * `takeBack`. Checking and counting in one synchronous step is what makes the limit hold under
   * parallel requests: counting after the (asynchronous) scrypt let every request in a burst pass
   * the check before the first failure was recorded.
   */
  reserve(keys: readonly string[]): number {
    return this.fail(keys);
  }

  /** Takes back an attempt `reserve` counted (the password was right). */
  takeBack(keys: readonly string[], at: number): void {
    for (const k of keys) {
      const list = this.failures.get(k);
      const i = list ? list.lastIndexOf(at) : -1;
      if (list && i >= 0) list.splice(i, 1);
    }
  }

  /** A successful login clears its account's failures (never an address's: one good account must not unlock guessing at others). */
  succeed(accountKey: string): void {
    this.failures.delete(accountKey);
  }

  private recent(key: string, t: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => t - at < this.windowMs);
  }
}
