import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Adapter, Low } from 'lowdb';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { type CrosswalkKeyRef, type CrosswalkKeys, defaultKeyRef, deriveKeys, lookupKeyOf, sealIdentity } from './crosswalk-key.js';
import { keysForStore } from './crosswalk-unlock.js';
import { assertEntriesOpen, needsSealing, sealAll } from './crosswalk-sealing.js';
import { JournalFile } from './journal-file.js';
import { type ParsedJournal, applyRecord, encodeHeader, parseJournal, replayJournal } from './journal-records.js';
import { SecureJsonFile, StoreError } from './secure-json-file.js';
import { acquireStoreLock } from './store-lock.js';
import { StoreJournal } from './store-journal.js';
import { type ProjectState, type StoreData, emptyStore } from './store-schema.js';

export interface ProjectSetup {
  readonly name: string;
  readonly prefix: string;
  /** A fixed shift; when absent a new project draws one from `shiftRange`. */
  readonly dateShiftDays?: number;
  readonly shiftRange: readonly [number, number];
}

/** What the engine needs from the store for one project. */
export interface ProjectSecrets {
  readonly dateShiftDays: number;
  readonly uidSecret: Buffer;
}

export interface OpenOptions {
  /** Replaces the durable JSON file of the snapshot: tests inject one whose writes fail or pause. */
  readonly adapter?: Adapter<StoreData>;
  /** Replaces the journal's file (`<store>.journal`): tests inject one that counts, pauses or fails appends. */
  readonly journal?: JournalFile;
  /** Fewest journal records before a compaction (tests lower it to exercise compaction). */
  readonly compactionFloor?: number;
  /** The crosswalk key (config `crosswalkKey`); default: a key file beside the store, `<store>.key`. */
  readonly key?: CrosswalkKeyRef;
  /** Where an `env` key is read from (tests). */
  readonly env?: NodeJS.ProcessEnv;
}

export const DEFAULT_SHIFT_RANGE: readonly [number, number] = [-730, -30];
const PSEUDONYM_WIDTH = 3;

export const journalPathOf = (storePath: string): string => `${storePath}.journal`;

/** Entries a snapshot holds, the measure of what a compaction costs. */
const entriesOf = (data: StoreData): number =>
  Object.values(data.projects).reduce((n, p) => n + 1 + Object.keys(p.patients).length + Object.keys(p.forwardQueue).length, 0);

/** Reads the snapshot and the journal's bytes, and replays the one onto the other. */
async function readState(adapter: Adapter<StoreData>, journal: JournalFile): Promise<{ data: StoreData; parsed: ParsedJournal | null }> {
  const data = (await adapter.read()) ?? emptyStore();
  const bytes = await journal.read();
  if (bytes === null) {
    if (data.journalSeq > 0) {
      throw new StoreError(`${journal.path} is missing, but the store file says it had one. Restore both from the same backup; they are never reset automatically.`);
    }
    return { data, parsed: null };
  }
  const parsed = parseJournal(journal.path, bytes, data.journalSeq);
  replayJournal(journal.path, data, parsed);
  return { data, parsed };
}

/**
 * The project state: pseudonym crosswalk, date shifts, UID secrets. One writer process (a lock
 * file); every change is on disk (fsync) before the method that made it returns.
 *
 * The state is a lowdb snapshot (the JSON file) plus an append-only journal beside it: a new
 * project, a new patient or a stats flush is one journal line, so its cost does not grow with the
 * crosswalk (see StoreJournal). A journaled change (project, patient) reaches `db.data` only once
 * its line is on disk, so a snapshot written at any moment never carries an unsaved entry.
 */
export class ProjectStore {
  /** Snapshot writes run one after another: two overlapping renames could otherwise land out of order. */
  private writing: Promise<void> = Promise.resolve();
  private statsTimer: NodeJS.Timeout | undefined;
  /** Projects whose counters changed since their last stats record. */
  private readonly statsDirty = new Set<string>();
  /** New patients whose entry is being written: every caller for one waits for the same write. */
  private readonly assigning = new Map<string, Promise<string>>();
  /** New projects being written: a second caller waits for the same write (one secret, one shift). */
  private readonly creating = new Map<string, Promise<void>>();
  /** Per project, the next number to give: ahead of `nextIndex` while assignments are being written. */
  private readonly reserved = new Map<string, number>();
  private entries: number;
  private readonly journal: StoreJournal;

  private constructor(
    private readonly db: Low<StoreData> & { data: StoreData },
    private keys: CrosswalkKeys,
    private readonly release: () => Promise<void>,
    file: JournalFile, journalSeq: number, journalRecords: number, floor: number | undefined,
  ) {
    this.entries = entriesOf(db.data);
    this.journal = new StoreJournal(file, {
      apply: (record) => {
        const added = applyRecord(this.db.data, record);
        this.entries += added ?? 0;
      },
      writeSnapshot: async (seq) => {
        this.db.data.journalSeq = Math.max(this.db.data.journalSeq, seq);
        await this.persist();
      },
      entries: () => this.entries,
    }, journalSeq, journalRecords, floor);
  }

  /** Persists the whole snapshot; resolves when it (or a later state) is on disk. */
  private persist(): Promise<void> {
    const next = this.writing.then(() => this.db.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  /**
   * Opens the store at `path` (taking the writer's lock): the snapshot, with the journal's records
   * replayed. A torn last journal line (an append a crash cut short, never acknowledged) is cut
   * off; any other bad line refuses the store. See OpenOptions for the injection seams.
   */
  static async open(path: string, options: OpenOptions = {}): Promise<ProjectStore> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const release = await acquireStoreLock(path);
    const file = options.journal ?? new JournalFile(journalPathOf(path));
    try {
      const adapter = options.adapter ?? new SecureJsonFile(path);
      const { data, parsed } = await readState(adapter, file);
      const keys = deriveKeys(await keysForStore(data, options.key ?? defaultKeyRef(path), { promote: true, env: options.env }));
      const lastSeq = Math.max(data.journalSeq, parsed?.records.at(-1)?.s ?? 0);
      let replayed = parsed?.records.length ?? 0;
      // A store that records no key check yet (new: its snapshot not written) may hold sealed
      // entries in its journal: they must open with this key.
      assertEntriesOpen(data, keys);
      data.keyCheck ??= keys.check;
      if (needsSealing(data, parsed)) {
        // A plaintext (format 1) store: seal every entry, write the snapshot, then replace the
        // journal (which may hold plaintext lines). A crash in between leaves a sealed snapshot
        // that includes the whole old journal, which the next open replaces.
        sealAll(data, keys, keys);
        data.journalSeq = lastSeq;
        await adapter.write(data);
        await file.replace(encodeHeader(lastSeq));
        replayed = 0;
      } else if (parsed && parsed.validLength > 0) {
        await file.openForAppend(parsed.validLength);
      } else {
        // No journal yet, or one without a whole header: start one.
        await file.replace(encodeHeader(data.journalSeq));
      }
      const db = new Low<StoreData>(adapter, data) as Low<StoreData> & { data: StoreData };
      return new ProjectStore(db, keys, release, file, lastSeq, replayed, options.compactionFloor);
    } catch (e) {
      await file.close();
      await release();
      throw e;
    }
  }

  /**
   * Reads a store without taking the writer's lock (for status): the snapshot and its journal. A
   * torn last line is an append in progress and is left out.
   */
  static async readSnapshot(path: string): Promise<StoreData> {
    const adapter = new SecureJsonFile(path);
    const journal = new JournalFile(journalPathOf(path));
    for (let attempt = 0; ; attempt++) {
      try {
        return (await readState(adapter, journal)).data;
      } catch (e) {
        // A compaction between our two reads shows as a journal newer than the snapshot we read,
        // or (for an instant) as no journal: read both again.
        if (attempt >= 4 || !(e instanceof StoreError) || !/follows a newer snapshot|is missing/.test(e.message)) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  get data(): Readonly<StoreData> {
    return this.db.data;
  }

  /** Creates the project on first use; afterwards its prefix and shift may not change. */
  async ensureProject(setup: ProjectSetup): Promise<ProjectSecrets> {
    const pending = this.creating.get(setup.name);
    if (pending) {
      await pending;
      return this.ensureProject(setup);
    }
    const project = this.db.data.projects[setup.name];
    if (project) {
      if (project.prefix !== setup.prefix) {
        throw new StoreError(`project '${setup.name}' has prefix '${project.prefix}' in the store, not '${setup.prefix}'; a project's prefix cannot change`);
      }
      if (setup.dateShiftDays !== undefined && setup.dateShiftDays !== project.dateShiftDays) {
        throw new StoreError(`project '${setup.name}' already shifts dates by a stored amount that differs from the one given; a project's shift cannot change`);
      }
    } else {
      const [lo, hi] = setup.shiftRange;
      if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi) || (lo === 0 && hi === 0)) {
        throw new StoreError(`date-shift range [${lo}, ${hi}] is not a range of whole days other than 0`);
      }
      let shift = setup.dateShiftDays;
      while (shift === undefined || (setup.dateShiftDays === undefined && shift === 0)) shift = randomInt(lo, hi + 1);
      const creation = this.journal.append({
        t: 'project', name: setup.name, prefix: setup.prefix, dateShiftDays: shift,
        uidSecret: randomBytes(32).toString('hex'), createdAt: new Date().toISOString(),
      }).finally(() => this.creating.delete(setup.name));
      this.creating.set(setup.name, creation);
      await creation;
    }
    const created = this.project(setup.name);
    return { dateShiftDays: created.dateShiftDays, uidSecret: Buffer.from(created.uidSecret, 'hex') };
  }

  private project(name: string): ProjectState {
    const p = this.db.data.projects[name];
    if (!p) throw new StoreError(`unknown project '${name}'`);
    return p;
  }

  /**
   * The patient's pseudonym, assigned and durably stored on first sight. No caller gets a new
   * pseudonym before its crosswalk entry is on disk: a second caller for the same new patient waits
   * for the same write. A write that fails takes the assignment back (entry and number), so nothing
   * unsaved stays in memory, and every waiting caller gets the error.
   */
  async pseudonymFor(projectName: string, identity: PatientIdentity): Promise<string> {
    const project = this.project(projectName);
    const identityHash = createHash('sha256').update(identity.key).digest('hex');
    const key = lookupKeyOf(this.keys, projectName, identityHash);
    const pending = this.assigning.get(`${projectName}\0${key}`);
    if (pending) return pending;
    const known = project.patients[key];
    if (known) return known.pseudonym;
    const assignment = this.assign(projectName, key, identityHash, identity).finally(() => this.assigning.delete(`${projectName}\0${key}`));
    this.assigning.set(`${projectName}\0${key}`, assignment);
    return assignment;
  }

  private async assign(projectName: string, key: string, identityHash: string, identity: PatientIdentity): Promise<string> {
    const project = this.project(projectName);
    const index = Math.max(project.nextIndex, this.reserved.get(projectName) ?? 1);
    this.reserved.set(projectName, index + 1);
    const pseudonym = `${project.prefix}${String(index).padStart(PSEUDONYM_WIDTH, '0')}`;
    const entry = {
      pseudonym, firstSeen: new Date().toISOString(),
      sealed: sealIdentity(this.keys, projectName, pseudonym, {
        patientId: identity.patientId, issuerOfPatientId: identity.issuerOfPatientId,
        patientName: identity.patientName, birthDate: identity.birthDate, identityHash,
      }),
    };
    // The entry reaches the state only once its line is durable. If the write fails, the number is
    // given back, before any later write starts (and then only if no later number was given): the
    // journal takes no more lines until a compaction has excluded the failed ones.
    await this.journal.append({ t: 'patient', project: projectName, key, entry, next: index + 1 }, () => {
      if (this.reserved.get(projectName) === index + 1) this.reserved.set(projectName, index);
    });
    return pseudonym;
  }

  /**
   * The forward queue of a store written before forwarding moved to a ledger of its own, for the
   * forwarder to queue its pending instances there once (see `dropLegacyForwardQueue`).
   */
  legacyForwardQueue(projectName: string): Array<{ sop: string; path: string; pending: boolean }> {
    return Object.entries(this.project(projectName).forwardQueue).map(([sop, e]) => ({ sop, path: e.path, pending: e.state === 'pending' }));
  }

  /** Empties a migrated legacy queue: a whole-snapshot write, once per old store. */
  async dropLegacyForwardQueue(projectName: string): Promise<void> {
    const project = this.project(projectName);
    if (Object.keys(project.forwardQueue).length === 0) return;
    project.forwardQueue = {};
    await this.persist();
  }

  /** Counts an input as received or settled; written within a second, and at close. */
  record(projectName: string, event: 'received' | 'delivered' | 'quarantined' | 'failed' | 'discarded'): void {
    const stats = this.project(projectName).stats;
    stats[event] += 1;
    stats.lastActivity = new Date().toISOString();
    this.statsDirty.add(projectName);
    this.statsTimer ??= setTimeout(() => {
      this.statsTimer = undefined;
      void this.flushStats().catch(() => undefined); // retried by the next change or at close
    }, 1000);
  }

  /**
   * A held input a reviewer settled: counted out of quarantined and into `to`, so that received =
   * delivered + quarantined + failed + discarded + pending stays true (quarantined is what is held now).
   */
  recordReviewed(projectName: string, to: 'delivered' | 'failed' | 'discarded'): void {
    const stats = this.project(projectName).stats;
    stats.quarantined = Math.max(0, stats.quarantined - 1);
    this.record(projectName, to);
  }

  /** One short journal record per project whose counters changed: O(1), whatever the crosswalk's size. */
  private async flushStats(): Promise<void> {
    const names = [...this.statsDirty];
    this.statsDirty.clear();
    await Promise.all(names.map(async (name) => {
      try {
        await this.journal.append({ t: 'stats', project: name, stats: { ...this.project(name).stats } });
      } catch (e) {
        this.statsDirty.add(name);
        throw e;
      }
    }));
  }

  /**
   * Re-seals the whole crosswalk with a new key and re-indexes it (the look-up hash is keyed too),
   * then writes the snapshot and empties the journal: afterwards no file of the store needs the
   * old key. Only for a store opened for this alone (`crosswalk rotate-key`): nothing may be
   * assigning meanwhile. A failure before the snapshot is written leaves the old key valid.
   */
  async rotateKey(newMaster: Buffer): Promise<void> {
    if (this.assigning.size > 0 || this.creating.size > 0) throw new StoreError('cannot rotate the crosswalk key while patients are being assigned');
    const next = deriveKeys(newMaster);
    const copy = structuredClone(this.db.data);
    sealAll(copy, this.keys, next);
    const previous = this.db.data;
    this.db.data = copy;
    try {
      await this.journal.compact();
    } catch (e) {
      this.db.data = previous;
      throw e;
    }
    this.keys = next;
  }

  /**
   * Flushes the counters and folds the journal into the snapshot, so that a store closed cleanly
   * is one self-contained JSON file (and an empty journal); then releases the lock.
   */
  async close(): Promise<void> {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    try {
      await this.flushStats();
      await this.journal.compact();
    } finally {
      await this.journal.close();
      await this.release();
    }
  }
}
