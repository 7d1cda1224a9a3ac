import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
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
      await fh.write(`${JSON.stringify(record)}\n`);
      await fh.sync();
      return record;
    } finally {
      await fh.close();
    }
  } finally {
    await release();
  }
}

export interface AuditReading {
  readonly records: readonly AuditRecord[];
  /** The 1-based line where the chain breaks (an edited, removed or inserted line), if it does. */
  readonly brokenAt?: number;
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
  return { records };
}
