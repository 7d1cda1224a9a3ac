import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Adapter, Low } from 'lowdb';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { SecureJsonFile, StoreError } from './secure-json-file.js';
import { acquireStoreLock } from './store-lock.js';
import { type ForwardEntry, type ProjectState, type StoreData, emptyStats, emptyStore } from './store-schema.js';

/** What one attempt did for one queued instance. */
export type ForwardOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'failed'; readonly reason: string; readonly status: number | null }
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs: number };

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

export const DEFAULT_SHIFT_RANGE: readonly [number, number] = [-730, -30];
const PSEUDONYM_WIDTH = 3;

/**
 * The project state: pseudonym crosswalk, date shifts, UID secrets. One writer process (a lock
 * file); every change is on disk (fsync) before the method that made it returns.
 */
export class ProjectStore {
  /** Writes run one after another: two overlapping renames could otherwise land out of order. */
  private writing: Promise<void> = Promise.resolve();
  private statsTimer: NodeJS.Timeout | undefined;
  /** New patients whose entry is being written: every caller for one waits for the same write. */
  private readonly assigning = new Map<string, Promise<string>>();

  private constructor(private readonly db: Low<StoreData>, private readonly release: () => Promise<void>) {}

  /** Persists the current state; resolves when it (or a later state) is on disk. */
  private persist(): Promise<void> {
    const next = this.writing.then(() => this.db.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  /**
   * Opens the store at `path` (taking the writer's lock). `adapter` replaces the durable JSON file
   * for the same path: tests inject one whose writes fail or pause.
   */
  static async open(path: string, options: { readonly adapter?: Adapter<StoreData> } = {}): Promise<ProjectStore> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const release = await acquireStoreLock(path);
    try {
      const db = new Low<StoreData>(options.adapter ?? new SecureJsonFile(path), emptyStore());
      await db.read();
      return new ProjectStore(db, release);
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** Reads a store without taking the writer's lock (for status). */
  static async readSnapshot(path: string): Promise<StoreData> {
    return (await new SecureJsonFile(path).read()) ?? emptyStore();
  }

  get data(): Readonly<StoreData> {
    return this.db.data;
  }

  /** Creates the project on first use; afterwards its prefix and shift may not change. */
  async ensureProject(setup: ProjectSetup): Promise<ProjectSecrets> {
    let project = this.db.data.projects[setup.name];
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
      project = {
        prefix: setup.prefix, dateShiftDays: shift, uidSecret: randomBytes(32).toString('hex'),
        nextIndex: 1, createdAt: new Date().toISOString(), patients: {}, stats: emptyStats(), forwardQueue: {},
      };
      this.db.data.projects[setup.name] = project;
      await this.persist();
    }
    return { dateShiftDays: project.dateShiftDays, uidSecret: Buffer.from(project.uidSecret, 'hex') };
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
    const key = createHash('sha256').update(identity.key).digest('hex');
    const pending = this.assigning.get(`${projectName}\0${key}`);
    if (pending) return pending;
    const known = project.patients[key];
    if (known) return known.pseudonym;
    const assignment = this.assign(projectName, key, identity).finally(() => this.assigning.delete(`${projectName}\0${key}`));
    this.assigning.set(`${projectName}\0${key}`, assignment);
    return assignment;
  }

  private async assign(projectName: string, key: string, identity: PatientIdentity): Promise<string> {
    const project = this.project(projectName);
    const index = project.nextIndex;
    const pseudonym = `${project.prefix}${String(index).padStart(PSEUDONYM_WIDTH, '0')}`;
    project.patients[key] = {
      pseudonym, patientId: identity.patientId, issuerOfPatientId: identity.issuerOfPatientId,
      patientName: identity.patientName, birthDate: identity.birthDate, firstSeen: new Date().toISOString(),
    };
    project.nextIndex += 1;
    try {
      await this.persist();
    } catch (e) {
      // Writes run one at a time and this runs before the next one starts, so the entry is taken
      // back before any later write could carry it. The number is reused only if none came after.
      delete project.patients[key];
      if (project.nextIndex === index + 1) project.nextIndex = index;
      throw e;
    }
    return pseudonym;
  }

  /** Queues an instance for forwarding; on disk before it returns (before the output is written). */
  async enqueueForward(projectName: string, sopInstanceUid: string, path: string): Promise<void> {
    const now = new Date().toISOString();
    this.project(projectName).forwardQueue[sopInstanceUid] = {
      path, enqueuedAt: now, attempts: 0, nextAttemptAt: now, retryingSince: null, lastError: null, state: 'pending', status: null,
    };
    await this.persist();
  }

  /** Pending instances whose next attempt is due, oldest first. */
  dueForwards(projectName: string, now: Date, limit: number): Array<[string, ForwardEntry]> {
    return Object.entries(this.project(projectName).forwardQueue)
      .filter(([, e]) => e.state === 'pending' && Date.parse(e.nextAttemptAt) <= now.getTime())
      .sort(([, a], [, b]) => a.enqueuedAt.localeCompare(b.enqueuedAt))
      .slice(0, limit);
  }

  /** Applies the results of one forwarding attempt and persists them together. */
  async settleForwards(projectName: string, results: ReadonlyArray<{ sop: string; outcome: ForwardOutcome }>): Promise<void> {
    const project = this.project(projectName);
    const now = new Date();
    for (const { sop, outcome } of results) {
      const entry = project.forwardQueue[sop];
      if (!entry) continue;
      switch (outcome.kind) {
        case 'sent':
          delete project.forwardQueue[sop];
          project.stats.forwarded += 1;
          break;
        case 'failed':
          Object.assign(entry, { state: 'failed', lastError: outcome.reason, status: outcome.status, attempts: entry.attempts + 1 });
          break;
        case 'retry':
          Object.assign(entry, {
            attempts: entry.attempts + 1, lastError: outcome.reason, retryingSince: entry.retryingSince ?? now.toISOString(),
            nextAttemptAt: new Date(now.getTime() + outcome.delayMs).toISOString(),
          });
          break;
        default: {
          const never: never = outcome;
          throw new Error(`unknown forward outcome ${JSON.stringify(never)}`);
        }
      }
    }
    project.stats.lastActivity = now.toISOString();
    await this.persist();
  }

  /** Counts an input as received or settled; written within a second, and at close. */
  record(projectName: string, event: 'received' | 'delivered' | 'quarantined' | 'failed'): void {
    const stats = this.project(projectName).stats;
    stats[event] += 1;
    stats.lastActivity = new Date().toISOString();
    this.statsTimer ??= setTimeout(() => {
      this.statsTimer = undefined;
      void this.persist().catch(() => undefined); // retried by the next change or at close
    }, 1000);
  }

  async close(): Promise<void> {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    try {
      await this.persist();
    } finally {
      await this.release();
    }
  }
}
