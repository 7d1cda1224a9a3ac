import { createHash } from 'node:crypto';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomically } from '../fs/atomic-write.js';
import { userInfo } from 'node:os';
import { acquireStoreLock } from '../store/store-lock.js';
import { StoreError } from '../store/secure-json-file.js';

/**
 * The honest broker's and reviewers' audit trail: who did what, when, to which input (by its
 * hash) or which pseudonyms. An append-only JSON-lines file beside the store, mode 0600, each
 * line fsynced before the action it records is reported done, and hash-chained (`prev` is the
 * SHA-256 of the line before) so that an edited or deleted line shows in `verifyAudit`.
 *
 * It never holds an input value: callers pass actions, project names, input hashes and
 * pseudonyms. A reviewer's comment is their own words (documented: write no PHI in comments).
 */

export interface AuditEntry {
  /** `cli:<os user>` or `console:<account>`. */
  readonly who: string;
  /** A fixed verb, e.g. `crosswalk.lookup`, `quarantine.release`, `console.login`. */
  readonly action: string;
  readonly project?: string;
  /** The input's SHA-256 (hex), as in the quarantine sidecar. */
  readonly inputHash?: string;
  readonly pseudonyms?: readonly string[];
  readonly comment?: string;
  /** Small facts of the action: counts, outcomes, a batch id. Never an input value. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditRecord extends AuditEntry {
  readonly seq: number;
  readonly at: string;
  /** SHA-256 hex of the previous line (without its newline); 64 zeros for the first. */
  readonly prev: string;
}

export const auditPathOf = (storePath: string): string => `${storePath}.audit.jsonl`;
/**
 * The log's head: the sequence number and hash of its last line, rewritten after each append. A
 * chain alone cannot show its own last lines removed; the head can (a log shorter than its head).
 */
export const auditHeadPathOf = (auditPath: string): string => `${auditPath}.head`;

interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

async function readHead(path: string): Promise<AuditHead | undefined> {
  try {
    const head = JSON.parse(await readFile(auditHeadPathOf(path), 'utf8')) as Partial<AuditHead>;
    return typeof head.seq === 'number' && typeof head.hash === 'string' ? { seq: head.seq, hash: head.hash } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the log's last line is not the one its head names: lines removed (or replaced) at its end. */
const cutShort = (head: AuditHead | undefined, lastSeq: number, lastHash: string | undefined): boolean =>
  head !== undefined && (head.seq > lastSeq || (head.seq === lastSeq && head.hash !== lastHash));

/** The CLI's actor: the operating-system account that ran the command. */
export const cliActor = (): string => `cli:${userInfo().username}`;

const GENESIS = '0'.repeat(64);
const MAX_COMMENT = 2000;
const TAIL = 64 * 1024;
const hashLine = (line: string): string => createHash('sha256').update(line, 'utf8').digest('hex');

/** Control characters (a forged newline would split a line) and over-long comments are cut. */
const cleanText = (s: string, max: number): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ').slice(0, max);

/** A lock held for one append at a time, by whichever process (agent, CLI) is writing. */
async function lockAudit(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await acquireStoreLock(path);
    } catch (e) {
      if (attempt >= 500 || !(e instanceof StoreError) || !/in use by process/.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, 10 + (attempt % 7) * 3));
    }
  }
}

/**
 * Appends one entry (under the audit lock, so agent and CLI chain onto each other's lines). A
 * torn last line (an append a crash cut short, never reported done) is cut off first. Resolves
 * once the line is on disk.
 */
export async function appendAudit(path: string, entry: AuditEntry, now: () => Date = () => new Date()): Promise<AuditRecord> {
  const release = await lockAudit(path);
  try {
    const fh = await open(path, 'a+', 0o600);
    try {
      await fh.chmod(0o600);
      const { size } = await fh.stat();
      const start = Math.max(0, size - TAIL);
      const tail = Buffer.alloc(size - start);
      if (tail.length > 0) await fh.read(tail, 0, tail.length, start);
      const end = tail.lastIndexOf(0x0a) + 1;
      if (end < tail.length) await fh.truncate(start + end);
      const lines = tail.subarray(0, Math.max(0, end - 1)).toString('utf8').split('\n');
      const last = end > 0 ? lines.at(-1) ?? '' : '';
      const previous = last ? (JSON.parse(last) as AuditRecord) : undefined;
      const head = await readHead(path);
      if (cutShort(head, previous?.seq ?? 0, last ? hashLine(last) : undefined)) {
        // Lines were removed from the end since the last append: said in the log itself, before
        // the head moves on past them.
        const note: AuditRecord = {
          seq: (previous?.seq ?? 0) + 1, at: now().toISOString(), who: 'agent', action: 'audit.cut-short',
          detail: { headSeq: head?.seq ?? 0, lastSeq: previous?.seq ?? 0 }, prev: last ? hashLine(last) : GENESIS,
        };
        const line = JSON.stringify(note);
        await fh.write(`${line}\n`);
        await fh.sync();
        return await appendAfter(fh, path, entry, now, note, line);
      }
      return await appendAfter(fh, path, entry, now, previous, last);
    } finally {
      await fh.close();
    }
  } finally {
    await release();
  }
}

/** Writes the entry after `previous` (its line `last`), fsyncs it, then moves the head to it. */
async function appendAfter(fh: FileHandle, path: string, entry: AuditEntry, now: () => Date, previous: AuditRecord | undefined, last: string): Promise<AuditRecord> {
  const record: AuditRecord = {
    seq: (previous?.seq ?? 0) + 1,
    at: now().toISOString(),
    who: cleanText(entry.who, 200),
    action: cleanText(entry.action, 100),
    ...(entry.project !== undefined ? { project: entry.project } : {}),
    ...(entry.inputHash !== undefined ? { inputHash: entry.inputHash } : {}),
    ...(entry.pseudonyms !== undefined ? { pseudonyms: [...entry.pseudonyms] } : {}),
    ...(entry.comment !== undefined ? { comment: cleanText(entry.comment, MAX_COMMENT) } : {}),
    ...(entry.detail !== undefined ? { detail: { ...entry.detail } } : {}),
    prev: last ? hashLine(last) : GENESIS,
  };
  // 'a+' appends at the end whatever the position: one write, then fsync.
  const line = JSON.stringify(record);
  await fh.write(`${line}\n`);
  await fh.sync();
  // A crash before this leaves the head one line behind: not a cut (only a head ahead is).
  await writeAtomically(auditHeadPathOf(path), [Buffer.from(`${JSON.stringify({ seq: record.seq, hash: hashLine(line) })}\n`)], 0o600, dirname(path));
  return record;
}

export interface AuditReading {
  readonly records: readonly AuditRecord[];
  /** The 1-based line where the chain breaks (an edited, removed or inserted line), if it does. */
  readonly brokenAt?: number;
  /** Lines removed from the end: the head names a later (or another) last line than the log has. */
  readonly cutShort?: { readonly headSeq: number; readonly lastSeq: number };
}

/** Reads the whole trail and checks its chain. A missing file is an empty trail. */
export async function readAudit(path: string): Promise<AuditReading> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const records: AuditRecord[] = [];
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return { records, brokenAt: i + 1 };
    }
    if (record.prev !== prev || record.seq !== i + 1) return { records, brokenAt: i + 1 };
    records.push(record);
    prev = hashLine(line);
  }
  const head = await readHead(path);
  const lastSeq = records.at(-1)?.seq ?? 0;
  if (cutShort(head, lastSeq, lines.length > 0 ? prev : undefined)) return { records, cutShort: { headSeq: head?.seq ?? 0, lastSeq } };
  return { records };
}
