/**
 * How long to wait before the next attempt (rclone's pacer, in spirit): doubling from `firstMs`
 * up to `maxMs`, with ±20% jitter so many queued instances do not retry in lockstep.
 */
export function backoffDelay(attempts: number, firstMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, firstMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
