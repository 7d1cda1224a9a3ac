import { z } from 'zod';
import { StoreError } from './secure-json-file.js';
import { type ProjectStats, type StoreData, emptyStats, patientEntrySchema, projectStatsSchema } from './store-schema.js';

/**
 * The records of the crosswalk's journal: one JSON line each, appended after the snapshot. Every
 * record is idempotent (replaying it twice gives the same state), so a snapshot that already
 * includes some of them (a compaction cut short) needs no special case.
 */

/** The first line: the journal follows the snapshot that includes every record up to `after`. */
const headerSchema = z.object({ journal: z.literal(1), after: z.number().int().min(0) });

const seq = z.number().int().min(1);

const projectRecordSchema = z.object({
  s: seq,
  t: z.literal('project'),
  name: z.string().min(1),
  prefix: z.string().min(1),
  dateShiftDays: z.number().int(),
  uidSecret: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});

const patientRecordSchema = z.object({
  s: seq,
  t: z.literal('patient'),
  project: z.string().min(1),
  /** The crosswalk index of the identity, as in the snapshot (see lookupKeyOf). */
  key: z.string().regex(/^[0-9a-f]{64}$/),
  entry: patientEntrySchema,
  /** The project's next free number once this patient has its own. */
  next: z.number().int().min(2),
});

const statsRecordSchema = z.object({ s: seq, t: z.literal('stats'), project: z.string().min(1), stats: projectStatsSchema });

const recordSchema = z.discriminatedUnion('t', [projectRecordSchema, patientRecordSchema, statsRecordSchema]);

export type JournalRecord = z.infer<typeof recordSchema>;
/** A record before the journal gives it its sequence number. */
type WithoutSeq<T> = T extends unknown ? Omit<T, 's'> : never;
export type JournalBody = WithoutSeq<JournalRecord>;

export const encodeHeader = (after: number): Buffer => Buffer.from(`${JSON.stringify({ journal: 1, after })}\n`, 'utf8');
export const encodeRecord = (record: JournalRecord): string => `${JSON.stringify(record)}\n`;

export interface ParsedJournal {
  /** The snapshot sequence the journal follows. */
  readonly after: number;
  readonly records: readonly JournalRecord[];
  /** Bytes up to the end of the last complete line: anything after is a torn, never-acknowledged append. */
  readonly validLength: number;
  readonly torn: boolean;
}

const corrupt = (path: string, line: number, what: string): StoreError =>
  // Names the file and line, never the content: the journal holds names and IDs.
  new StoreError(`${path} is corrupt at line ${line}: ${what}. Restore the store and its journal from backup; they are never reset automatically.`);

/**
 * Parses a journal. A final line without its newline is an append cut short by a crash: it was
 * never acknowledged, so it is dropped. Any other bad line refuses the store.
 */
export function parseJournal(path: string, bytes: Buffer, snapshotSeq: number): ParsedJournal {
  const validLength = bytes.lastIndexOf(0x0a) + 1;
  const torn = validLength < bytes.length;
  if (validLength === 0) {
    // Not even a whole header: the file was never acknowledged to anyone (it is created by rename).
    return { after: snapshotSeq, records: [], validLength: 0, torn };
  }
  const lines = bytes.subarray(0, validLength - 1).toString('utf8').split('\n');
  const parseLine = (i: number): unknown => {
    try {
      return JSON.parse(lines[i] ?? '');
    } catch {
      throw corrupt(path, i + 1, 'not valid JSON');
    }
  };
  const header = headerSchema.safeParse(parseLine(0));
  if (!header.success) throw corrupt(path, 1, 'not a journal header');
  const records: JournalRecord[] = [];
  let last = header.data.after;
  for (let i = 1; i < lines.length; i++) {
    const parsed = recordSchema.safeParse(parseLine(i));
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') || '(record)';
      throw corrupt(path, i + 1, `not a valid record at '${where}'`);
    }
    if (parsed.data.s <= last) throw corrupt(path, i + 1, 'sequence number out of order');
    last = parsed.data.s;
    records.push(parsed.data);
  }
  return { after: header.data.after, records, validLength, torn };
}

const laterOf = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a > b ? a : b);

/** Counters only grow: taking the larger makes a stats record idempotent and order-free. */
function mergeStats(into: ProjectStats, from: ProjectStats): void {
  into.received = Math.max(into.received, from.received);
  into.delivered = Math.max(into.delivered, from.delivered);
  into.quarantined = Math.max(into.quarantined, from.quarantined);
  into.failed = Math.max(into.failed, from.failed);
  into.forwarded = Math.max(into.forwarded, from.forwarded);
  into.lastActivity = laterOf(into.lastActivity, from.lastActivity);
}

/**
 * Applies one record to the state (idempotently) and advances its sequence. Returns how many
 * entries it added, or null when it names a project the state does not hold.
 */
export function applyRecord(data: StoreData, record: JournalRecord): number | null {
  let added = 0;
  switch (record.t) {
    case 'project':
      if (!data.projects[record.name]) {
        data.projects[record.name] = {
          prefix: record.prefix, dateShiftDays: record.dateShiftDays, uidSecret: record.uidSecret, nextIndex: 1,
          createdAt: record.createdAt, patients: {}, stats: emptyStats(), forwardQueue: {},
        };
        added = 1;
      }
      break;
    case 'patient': {
      const project = data.projects[record.project];
      if (!project) return null;
      if (!project.patients[record.key]) added = 1;
      project.patients[record.key] = record.entry;
      project.nextIndex = Math.max(project.nextIndex, record.next);
      break;
    }
    case 'stats': {
      const project = data.projects[record.project];
      if (!project) return null;
      mergeStats(project.stats, record.stats);
      break;
    }
    default: {
      const never: never = record;
      throw new Error(`unknown journal record ${JSON.stringify(never)}`);
    }
  }
  data.journalSeq = Math.max(data.journalSeq, record.s);
  return added;
}

/**
 * Replays a parsed journal onto its snapshot: the records the snapshot does not include yet.
 * Returns the number of entries added.
 */
export function replayJournal(path: string, data: StoreData, journal: ParsedJournal): number {
  if (journal.after > data.journalSeq) {
    // The journal follows a newer snapshot than this one: records in between are missing.
    throw new StoreError(`${path} follows a newer snapshot than the store file holds (a store file restored without its journal?). Restore both from the same backup; they are never reset automatically.`);
  }
  let added = 0;
  journal.records.forEach((record, i) => {
    if (record.s <= data.journalSeq) return;
    const n = applyRecord(data, record);
    if (n === null) throw corrupt(path, i + 2, 'names a project the store does not hold');
    added += n;
  });
  return added;
}
