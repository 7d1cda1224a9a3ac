import { Fifo } from './fifo.js';

/**
 * Runs queued tasks with at most `limit` in flight. Queued items are cheap (a path); the work
 * and its memory are bounded by the limit. After stop() nothing new starts.
 */
export class TaskPool<T> {
  private readonly queue = new Fifo<T>();
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** Errors thrown by tasks (a task should settle its own failures; these are the unexpected ones). */
  readonly errors: unknown[] = [];

  constructor(private readonly limit: number, private readonly run: (item: T) => Promise<void>) {}

  push(item: T): void {
    if (this.stopped) return;
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.limit && this.queue.length > 0) {
      const item = this.queue.take() as T;
      this.running++;
      void this.run(item).catch((e: unknown) => {
        this.errors.push(e);
      }).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && (this.queue.length === 0 || this.stopped)) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  get size(): number {
    return this.queue.length + this.running;
  }

  /** Resolves when every queued task has run; rejects with the first task error, if any. */
  async idle(): Promise<void> {
    if (this.running > 0 || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    if (this.errors.length > 0) throw this.errors[0];
  }

  /** Starts nothing more; resolves when the tasks in flight have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.clear();
    if (this.running > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
