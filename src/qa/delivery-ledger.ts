import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { syncDirectory } from '../fs/atomic-write.js';
import { writeAll } from '../fs/file-io.js';
import { deliveriesDir, localDay, requestsDir } from './qa-paths.js';

/**
 * One delivered output, as the per-day delivery ledger keeps it. Only de-identified values and our
 * own ids: the output's new SOP Instance UID, its path in the outbox (pseudonym and new UIDs),
 * and the retrieval request's id (a hash of the request file's name, as its log lines show it).
 */
export interface DeliveryLine {
  /** When it settled as delivered (ISO 8601). */
  readonly at: string;
  /** The de-identified SOP Instance UID. */
  readonly sop: string;
  /** The output's path relative to the project's local outbox (or its spool), with `/`. */
  readonly path: string;
  /** The retrieval request it came from (`request-<id>` is its batch). */
  readonly request?: string;
}

/** What a delivered outcome tells the ledger. */
export interface Delivered {
  readonly outputPath: string;
}

interface Pending {
  readonly file: string;
  readonly line: string;
  readonly done: () => void;
  readonly fail: (e: unknown) => void;
}

/**
 * The per-project, per-day list of delivered outputs that QA batches are drawn from. Appends are
 * group-committed, as the store's journal is: every line recorded while one write is on disk
 * goes out in the next write, with one fdatasync per file touched, so a drop of a thousand files
 * costs a few dozen syncs, not a thousand. `record` resolves once its line is durable; callers
 * record before the input is settled, so a crash in between redoes the input and records it
 * again (readers keep one line per SOP Instance UID), and a delivery is never missing.
 */
export class DeliveryLedger {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly handles = new Map<string, FileHandle>();
  private closed = false;

  constructor(private readonly storePath: string, private readonly project: string, private readonly outbox: string, private readonly now: () => Date = () => new Date()) {}

  /** Records one delivered output; `request` when its input came from a retrieval request. */
  record(outcome: Delivered, request?: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the delivery ledger is closed'));
    const at = this.now();
    const rel = relative(this.outbox, outcome.outputPath).split(sep).join('/');
    const sop = rel.split('/').pop()?.replace(/\.dcm$/, '') ?? '';
    const line: DeliveryLine = { at: at.toISOString(), sop, path: rel, ...(request ? { request } : {}) };
    const text = `${JSON.stringify(line)}\n`;
    const files = [join(deliveriesDir(this.storePath, this.project), `${localDay(at)}.jsonl`)];
    if (request) files.push(join(requestsDir(this.storePath, this.project), `${request}.jsonl`));
    return Promise.all(files.map((file) => new Promise<void>((done, fail) => {
      this.pending.push({ file, line: text, done, fail });
      this.kick();
    }))).then(() => undefined);
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.kick();
    });
  }

  private async flush(): Promise<void> {
    // One turn of the event loop gathers the lines of every file settling right now.
    await new Promise((r) => setImmediate(r));
    const batch = this.pending;
    this.pending = [];
    const byFile = new Map<string, Pending[]>();
    for (const p of batch) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
    await Promise.all([...byFile].map(async ([file, lines]) => {
      try {
        const fh = await this.handleOf(file);
        await writeAll(fh, [Buffer.from(lines.map((l) => l.line).join(''))]);
        await fh.datasync();
        for (const l of lines) l.done();
      } catch (e) {
        for (const l of lines) l.fail(e);
      }
    }));
    await this.closeIdle(new Set(byFile.keys()));
  }

  private async handleOf(file: string): Promise<FileHandle> {
    const known = this.handles.get(file);
    if (known) return known;
    const dir = join(file, '..');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let fh: FileHandle;
    try {
      fh = await open(file, 'ax', 0o600);
      // A new file's name is durable too (once per file: a day's or a request's first line).
      await syncDirectory(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      fh = await open(file, 'a', 0o600);
    }
    this.handles.set(file, fh);
    return fh;
  }

  /** Files no line went to in the last write are closed: yesterday's, a finished request's. */
  private async closeIdle(used: ReadonlySet<string>): Promise<void> {
    for (const [file, h] of [...this.handles]) {
      if (used.has(file)) continue;
      this.handles.delete(file);
      await h.close();
    }
  }

  /** Waits for every recorded line to be on disk and closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    for (const h of this.handles.values()) await h.close();
    this.handles.clear();
  }
}
