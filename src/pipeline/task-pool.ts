/**
 * Runs queued tasks with at most `limit` in flight. Queued items are cheap (a path); the work
 * and its memory are bounded by the limit. After stop() nothing new starts.
 */
export class TaskPool<T> {
  private readonly queue: T[] = [];
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly limit: number, private readonly run: (item: T) => Promise<void>) {}

  push(item: T): void {
    if (this.stopped) return;
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.limit && this.queue.length > 0) {
      const item = this.queue.shift() as T;
      this.running++;
      void this.run(item).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && (this.queue.length === 0 || this.stopped)) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  get size(): number {
    return this.queue.length + this.running;
  }

  /** Starts nothing more; resolves when the tasks in flight have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    if (this.running > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
