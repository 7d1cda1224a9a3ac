/**
 * Lets files processed concurrently reach one step (asking for a pseudonym) in their input order,
 * so a one-shot run numbers new patients the same way on every run whatever its concurrency.
 * File i passes once every file before it has passed or finished. Files start in input order
 * (the task pool is first in, first out), so each earlier file is in flight or done: no deadlock.
 */
export class InputOrderGate {
  /** The lowest index that has neither passed nor finished. */
  private next = 0;
  private readonly through = new Set<number>();
  private readonly waiting = new Map<number, () => void>();

  /** Resolves when every file before `index` has passed or finished. */
  turn(index: number): Promise<void> {
    if (index <= this.next) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(index, resolve));
  }

  /** `index` has passed the step or finished without it (quarantined, failed, died); idempotent. */
  passed(index: number): void {
    if (index < this.next) return;
    this.through.add(index);
    while (this.through.delete(this.next)) this.next += 1;
    const wake = this.waiting.get(this.next);
    if (wake) {
      this.waiting.delete(this.next);
      wake();
    }
  }
}
