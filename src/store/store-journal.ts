import type { JournalFile } from './journal-file.js';
import { type JournalBody, type JournalRecord, encodeHeader, encodeRecord } from './journal-records.js';

/** What the journal needs from the store that owns it. */
export interface JournalHost {
  /** Applies a record that is durable to the in-memory state (synchronously, in sequence order). */
  apply(record: JournalRecord): void;
  /** Writes the snapshot of the in-memory state, marked as including every record up to `seq`. */
  writeSnapshot(seq: number): Promise<void>;
  /** Entries in the state: a compaction is due once the journal has as many records as the last snapshot had entries. */
  entries(): number;
}

interface Waiting {
  readonly body: JournalBody;
  readonly undo: (() => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Below this many records a compaction is never worth it: opening replays them in milliseconds. */
export const DEFAULT_COMPACTION_FLOOR = 4096;

/**
 * The append-only journal beside the snapshot. A change is one line; it is acknowledged only once
 * written and fdatasync'ed. Appends that arrive while one is being written wait and go together
 * in the next write (group commit: one write and one fdatasync for all of them), so the cost of a
 * new patient is one short line, whatever the crosswalk's size.
 *
 * Compaction (snapshot, then a new empty journal) runs once the journal holds more records than
 * the snapshot holds entries (and at least `floor`): its O(n) cost comes at most once per n
 * appends, O(1) amortised. After a failed append the file's tail is unknown (the bytes may or may
 * not be there), so nothing more is appended to it: the next write compacts first.
 */
export class StoreJournal {
  private waiting: Waiting[] = [];
  private compactions: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private running = false;
  private broken = false;
  /** Records in the journal file now, including those the snapshot already includes. */
  private records: number;
  /** After a routine compaction fails, the next try waits for this many records (no retry storm). */
  private retryAt = 0;
  /** Entries the last snapshot held: the journal may grow as long before the next compaction. */
  private snapshotEntries: number;

  constructor(
    private readonly file: JournalFile,
    private readonly host: JournalHost,
    /** The highest sequence number given so far (in the file or the snapshot). */
    private seq: number,
    records: number,
    private readonly floor = DEFAULT_COMPACTION_FLOOR,
  ) {
    this.records = records;
    this.snapshotEntries = host.entries();
  }

  /** Records in the journal file (for tests and the bench). */
  get length(): number {
    return this.records;
  }

  /**
   * Appends a record; resolves once it is durable and applied. If the write fails, `undo` runs
   * (for the batch's records in reverse order, before any later write starts) and it rejects.
   */
  append(body: JournalBody, undo?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ body, undo, resolve, reject });
      this.kick();
    });
  }

  /** Folds the journal into the snapshot now (at close). */
  compact(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.compactions.push({ resolve, reject });
      this.kick();
    });
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private due(): boolean {
    return this.records >= Math.max(this.floor, this.snapshotEntries, this.retryAt);
  }

  private async compactNow(): Promise<void> {
    // Every record written so far is either applied or failed: the snapshot includes the first
    // and, by its sequence, excludes the second from any replay.
    const entries = this.host.entries();
    await this.host.writeSnapshot(this.seq);
    this.snapshotEntries = entries;
    await this.file.replace(encodeHeader(this.seq));
    this.records = 0;
    this.retryAt = 0;
    this.broken = false;
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.length > 0 || this.compactions.length > 0) await this.step();
    } finally {
      // Cleared in the same turn as the last check for work, so an append made after it starts a new run.
      this.running = false;
    }
  }

  /** One turn: a compaction if asked, due or needed after a failure; then one batch of appends. */
  private async step(): Promise<void> {
    const asked = this.compactions.splice(0);
    if (asked.length > 0 || this.broken || (this.waiting.length > 0 && this.due())) {
      try {
        await this.compactNow();
        for (const c of asked) c.resolve();
      } catch (e) {
        for (const c of asked) c.reject(e);
        // A journal with an unknown tail takes no more appends until a compaction replaced it.
        if (this.broken) return this.fail(this.waiting.splice(0), e);
        this.retryAt = this.records + this.floor;
      }
    }
    const batch = this.waiting.splice(0);
    if (batch.length === 0) return;
    const records = batch.map((w) => ({ ...w.body, s: ++this.seq }) as JournalRecord);
    try {
      await this.file.append(Buffer.from(records.map(encodeRecord).join(''), 'utf8'));
    } catch (e) {
      this.broken = true;
      return this.fail(batch, e);
    }
    this.records += records.length;
    for (const r of records) this.host.apply(r);
    for (const w of batch) w.resolve();
  }

  private fail(batch: readonly Waiting[], e: unknown): void {
    for (let i = batch.length - 1; i >= 0; i--) batch[i]?.undo?.();
    for (const w of batch) w.reject(e);
  }
}
