import type { Dir } from 'node:fs';
import { link, mkdir, opendir, readFile, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { copyFileAtomically, syncDirectory, writeAtomically } from '../fs/atomic-write.js';

/**
 * A destination's durable forward queue, kept as a spool directory so that every operation costs
 * O(1) in the queue's length and nothing about queued instances is held in memory:
 *
 *   queue/<bucket>/<sop>[~<attempts>~<sinceMs>].dcm   an instance due from the bucket's time on
 *   failed/<sop>.dcm + <sop>.json                      refused for good, with reason and status
 *   state.json                                         the destination's own state (a few fields)
 *
 * A bucket is a minute (13 digits of `floor(ms / 60 s)`), so a drain lists at most one name per
 * minute queued and reads a batch from the oldest due bucket with a streaming directory read.
 * An entry is a hard link to the durable outbox file (a copy across file systems), made after the
 * file is complete and fsynced: a sender can never see an instance whose bytes are not on disk,
 * and emptying the outbox does not take the queued bytes away. Retry state lives in the entry's
 * name (a rename is atomic); the destination's outage state lives in state.json.
 */
export class ForwardLedger {
  constructor(readonly dir: string) {}

  get queueDir(): string {
    return join(this.dir, 'queue');
  }

  get failedDir(): string {
    return join(this.dir, 'failed');
  }

  /**
   * Queues the complete, durable file at `path` for forwarding; durable before it returns. The
   * same SOP Instance UID queued again in the same minute replaces the earlier entry (sending is
   * idempotent on it anyway).
   */
  async enqueue(sopInstanceUid: string, path: string, now = Date.now()): Promise<void> {
    assertUid(sopInstanceUid);
    const name = entryName({ sop: sopInstanceUid, attempts: 0, sinceMs: null });
    await this.place(join(this.queueDir, bucketOf(now)), name, (target) => linkOrCopy(path, target, join(this.dir, '.tmp')));
    // Queued again (a redone claim, a file dropped again): an earlier refusal no longer stands.
    await rm(join(this.failedDir, `${sopInstanceUid}.dcm`), { force: true });
    await rm(join(this.failedDir, `${sopInstanceUid}.json`), { force: true });
  }

  /**
   * Up to `limit` entries due at `now`, oldest bucket first. Reads at most the bucket names and one
   * batch of entries: a million queued instances cost no more memory than a hundred.
   */
  async due(limit: number, now = Date.now()): Promise<QueuedInstance[]> {
    const current = bucketOf(now);
    const buckets = (await readdir(this.queueDir).catch(ifMissing([] as string[]))).filter((b) => BUCKET.test(b) && b <= current).sort();
    const out: QueuedInstance[] = [];
    for (const bucket of buckets) {
      const dir = join(this.queueDir, bucket);
      let handle: Dir;
      try {
        handle = await opendir(dir);
      } catch (e) {
        if (isMissing(e)) continue;
        throw e;
      }
      let seen = 0;
      try {
        for (let d = await handle.read(); d && out.length < limit; d = await handle.read()) {
          seen += 1;
          const parsed = parseEntryName(d.name);
          if (parsed) out.push({ ...parsed, path: join(dir, d.name) });
        }
      } finally {
        await handle.close();
      }
      // An empty bucket from an earlier minute is removed (a racing enqueue into it makes it again).
      if (seen === 0 && bucket < current) await rmdir(dir).catch(() => undefined);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The instance reached the destination: its entry goes. */
  async sent(entry: QueuedInstance): Promise<void> {
    await unlink(entry.path).catch(ifMissing(undefined));
  }

  /** Tried again from `now + delayMs` on, with one more attempt counted. */
  async retryLater(entry: QueuedInstance, delayMs: number, now = Date.now()): Promise<void> {
    const name = entryName({ sop: entry.sop, attempts: entry.attempts + 1, sinceMs: entry.sinceMs ?? now });
    await this.place(join(this.queueDir, bucketOf(now + delayMs)), name, (target) => rename(entry.path, target)).catch(ifMissing(undefined));
  }

  /** Refused for good: kept under failed/ with the reason (no values: reasons name statuses and tags). */
  async fail(entry: QueuedInstance, reason: string, status: number | null, now = Date.now()): Promise<void> {
    await this.makeDurableDir(this.failedDir);
    const record: FailedRecord = { sop: entry.sop, reason, status, attempts: entry.attempts + 1, failedAt: new Date(now).toISOString() };
    // The instance first, its reason after: a crash between leaves a failed instance counted
    // (status counts .dcm files) without its reason, never a reason for an instance still queued.
    await rename(entry.path, join(this.failedDir, `${entry.sop}.dcm`)).catch(ifMissing(undefined));
    await writeAtomically(join(this.failedDir, `${entry.sop}.json`), [Buffer.from(`${JSON.stringify(record)}\n`)], 0o600);
  }

  async readState(): Promise<DestinationState> {
    return readStateFile(join(this.dir, 'state.json'));
  }

  async writeState(state: DestinationState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeAtomically(join(this.dir, 'state.json'), [Buffer.from(`${JSON.stringify(state)}\n`)], 0o600);
  }

  /** Counts for `status`: a streaming walk, so it costs time in the queue's length but no memory. */
  async counts(): Promise<{ pending: number; failed: number; lastFailure: string | null }> {
    let pending = 0;
    for (const bucket of await readdir(this.queueDir).catch(ifMissing([] as string[]))) {
      if (BUCKET.test(bucket)) pending += await countEntries(join(this.queueDir, bucket), (n) => parseEntryName(n) !== undefined);
    }
    let failed = 0;
    let newest: { at: string; reason: string } | undefined;
    const dir = await opendir(this.failedDir).catch(ifMissing(undefined));
    if (dir) {
      for await (const d of dir) {
        if (d.name.endsWith('.dcm')) failed += 1;
        if (!d.name.endsWith('.json')) continue;
        // Only the newest reason is kept in memory.
        const record = await readFile(join(this.failedDir, d.name), 'utf8').then((t) => failedRecordSchema.safeParse(JSON.parse(t)), () => undefined);
        if (record?.success && (!newest || record.data.failedAt > newest.at)) newest = { at: record.data.failedAt, reason: record.data.reason };
      }
    }
    return { pending, failed, lastFailure: newest?.reason ?? null };
  }

  /** Makes `dir` (and missing parents); the entries of the folders it made are fsynced in their parents. */
  private async makeDurableDir(dir: string): Promise<void> {
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (made === undefined) return;
    for (let d = dir; d !== dirname(made); d = dirname(d)) await syncDirectory(dirname(d));
  }

  /** Creates `name` in `dir` with `make`, making the bucket again if a drain removed it meanwhile. */
  private async place(dir: string, name: string, make: (target: string) => Promise<void>): Promise<void> {
    const target = join(dir, name);
    for (let attempt = 0; ; attempt++) {
      await this.makeDurableDir(dir);
      try {
        await make(target);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') {
          // The same instance again: the newer file replaces it (through a temporary name).
          const tmp = `${target}.${process.pid}.replace`;
          await rm(tmp, { force: true });
          await make(tmp);
          await rename(tmp, target);
          break;
        }
        // Only our own bucket can vanish (a drain removed it empty); the source missing is real.
        if (code !== 'ENOENT' || attempt >= 3 || !(await stat(dir).then(() => false, () => true))) throw e;
      }
    }
    await syncDirectory(dir);
  }
}

export interface QueuedInstance {
  readonly sop: string;
  readonly attempts: number;
  /** When the first failed attempt of this instance's current run of failures happened. */
  readonly sinceMs: number | null;
  readonly path: string;
}

const destinationStateSchema = z.object({
  /** Instances the destination confirmed (success or warning status). */
  forwarded: z.number().int().min(0),
  /** Consecutive attempts that reached no instance to the destination (refused, rejected, aborted). */
  failures: z.number().int().min(0),
  retryingSince: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type DestinationState = z.infer<typeof destinationStateSchema>;
export const initialDestinationState = (): DestinationState => ({ forwarded: 0, failures: 0, retryingSince: null, nextAttemptAt: null, lastError: null });

const failedRecordSchema = z.object({
  sop: z.string(), reason: z.string(), status: z.number().int().nullable(), attempts: z.number().int(), failedAt: z.string(),
});
type FailedRecord = z.infer<typeof failedRecordSchema>;

async function readStateFile(path: string): Promise<DestinationState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (isMissing(e)) return initialDestinationState();
    throw e;
  }
  const parsed = destinationStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`[forward] ${path} is not a forward-ledger state file`);
  return parsed.data;
}

const BUCKET_MS = 60_000;
const BUCKET = /^\d{13}$/;
const bucketOf = (ms: number): string => String(Math.floor(ms / BUCKET_MS)).padStart(13, '0');

/** SOP Instance UIDs are digits and dots, so they are safe file names and `~` cannot occur in them. */
const UID = /^[0-9]+(\.[0-9]+)*$/;
function assertUid(uid: string): void {
  if (!isQueueableUid(uid)) throw new Error('[forward] not a UID');
}

const ENTRY = /^([0-9]+(?:\.[0-9]+)*)(?:~(\d{1,9})~(\d{1,15}))?\.dcm$/;
function parseEntryName(name: string): Omit<QueuedInstance, 'path'> | undefined {
  const m = ENTRY.exec(name);
  if (!m?.[1] || m[1].length > 64) return undefined;
  return { sop: m[1], attempts: m[2] === undefined ? 0 : Number(m[2]), sinceMs: m[3] === undefined ? null : Number(m[3]) };
}

function entryName(e: Omit<QueuedInstance, 'path'>): string {
  return e.sinceMs === null ? `${e.sop}.dcm` : `${e.sop}~${e.attempts}~${e.sinceMs}.dcm`;
}

async function linkOrCopy(from: string, to: string, tmpDir: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // The ledger on another file system than the outbox: a complete, synced copy under its name.
    await copyFileAtomically(from, to, 0o600, tmpDir);
  }
}

async function countEntries(dir: string, accept: (name: string) => boolean): Promise<number> {
  const handle = await opendir(dir).catch(ifMissing(undefined));
  if (!handle) return 0;
  let n = 0;
  for await (const d of handle) if (accept(d.name)) n += 1;
  return n;
}

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
const ifMissing = <T>(value: T) => (e: unknown): T => {
  if (isMissing(e)) return value;
  throw e;
};

/**
 * Where a project's forward ledger lives: inside the outbox's own hidden folder, so its hard
 * links are on the outbox's file system, one per project (two projects may share an outbox, never
 * a queue: each forwards to its own destination). It holds de-identified instances only.
 */
export const forwardLedgerDir = (outbox: string, project: string): string => join(outbox, '.deid-forward', project);

/** Whether a SOP Instance UID can name a ledger entry (a valid UID: digits and dots, at most 64). */
export const isQueueableUid = (uid: string): boolean => UID.test(uid) && uid.length <= 64;
