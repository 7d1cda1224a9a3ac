import { lstat, mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { UsageError } from '../config/usage-error.js';
import { type ResolvedProjectConfig, inboxSettings, outboxSettings } from '../config/schema.js';
import { type InputId, ephemeralInputId } from '../log/log-key.js';
import type { Logger } from '../log/logger.js';
import { InboxWatcher } from '../sources/inbox-watcher.js';
import { WorkArea } from '../sources/work-area.js';
import { expandZip, isZip, ZipRefused } from '../sources/zip-archive.js';
import type { ProjectStore } from '../store/project-store.js';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { type ProcessingSpec, openProject } from './project-context.js';
import { projectOf } from './project.js';
import { type InstanceProcessor, type InstanceWorkers, inThisThread } from './instance-workers.js';
import type { Outcome } from './outcome.js';
import { type StoreCalls, safeReason } from './process-instance.js';
import { settleInput } from './settle-aside.js';
import { Fifo } from './fifo.js';
import { TaskPool } from './task-pool.js';
import { CStoreForwarder } from '../sinks/cstore-forwarder.js';
import { ForwardLedger, forwardLedgerDir } from '../sinks/forward-ledger.js';
import type { RemoteInbox, RemoteOutbox } from '../cloud/remote-folder.js';
import { CloudInbox } from '../sources/cloud-inbox.js';
import { createRemoteOutboxSink } from '../sinks/cloud-outbox-sink.js';
import { SinkDrainer } from '../sinks/sink-drainer.js';
import { clearSpool, cloudSinkLedgerDir, cloudStateDir } from './project-folders.js';
import { DeferredBoard, type DeferredSummary, Deferrals } from './deferrals.js';
import { TransientError, errorCode, isTransient } from './transient.js';
import { type Clock, duaExpired, duaHold, holdWhenExpired, systemClock } from './data-use-agreement.js';
import type { DeliveryLedger } from '../qa/delivery-ledger.js';

/**
 * What the quarantine review delivers with: the spec and store calls as processing runs them, and
 * the delivery ledger's hook (passed along in the review desk, which spreads this object).
 */
export interface ReviewProcessing {
  readonly spec: ProcessingSpec;
  readonly calls: StoreCalls;
  readonly onDelivered?: (outcome: { readonly outputPath: string }) => Promise<void>;
  /** Told once a review action has settled a held input: the store's counters move it out of quarantined. */
  readonly onReviewed?: (to: 'delivered' | 'failed' | 'discarded') => void;
}

/** What sample inspection (src/qa/) needs of a project's settling. */
export interface QaHooks {
  readonly ledger: DeliveryLedger;
  /** Where outputs are kept for inspection when the outbox is a cloud folder's spool. */
  readonly retained: string;
  /** The retrieval request (its batch id) an input of this study came from, while it runs. */
  readonly requestOf?: (sourceStudyUid: string) => string | undefined;
}

/** A unit of work: a file still in the inbox (to claim first) or one already claimed. */
type Job = { readonly inbox: string } | { readonly claimed: string };

const DEFAULT_STABILITY_MS = 2000;
/** A cloud outbox is retried for a week, backing off from 5 s to 10 min (Retry-After permitting). */
const CLOUD_RETRY = { retryForHours: 168, firstRetryDelayMs: 5_000, maxRetryDelayMs: 600_000 };
/** Claims (renames) per event-loop turn while claiming a drop, and the turn's time budget. */
const CLAIMS_PER_TURN = 64;
const CLAIM_TURN_MS = 10;
/** A synchronous rename slower than this means a slow file system: claims go asynchronous. */
const SLOW_RENAME_MS = 20;

/**
 * One project's agent: watches the inbox, claims stable files into the work area, and settles each
 * exactly once into outbox, quarantine or failed. Crash-safe: claims survive in the work area and
 * are resumed at start; outputs are named by new UIDs, so a redone claim replaces, never duplicates.
 */
export class ProjectRunner {
  /** Inbox files whose claim failed, with their attempts so far, and the timers that retry them. */
  private readonly claimRetries = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private readonly workArea: WorkArea;
  /** Stable inbox files waiting for their claim (see claimWaiting). */
  private readonly toClaim = new Fifo<string>();
  private claiming = false;
  /** Claims by synchronous rename, until one is slow (see claimWaiting). */
  private syncClaims: boolean;
  /** Processing: claimed files, at most `concurrency` in flight. */
  private readonly pool: TaskPool<{ readonly claimed: string }>;
  private watcher: InboxWatcher | undefined;
  private processor: InstanceProcessor | undefined;
  /** What the quarantine review delivers with (src/review/): this project's spec, as processing runs it, and the store's calls. */
  private processingForReview: ReviewProcessing | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepingFolders = false;
  /** The project's sinks beside its local outbox: C-STORE forwarding, a cloud outbox. */
  private readonly drainers: SinkDrainer[] = [];
  private cloud: CloudInbox | undefined;
  private readonly deferrals = new Deferrals();
  /** Until when a transient error pauses this project's processing (ms since the epoch). */
  private pausedUntil = 0;
  private readonly held: Job[] = [];
  private resumeTimer: NodeJS.Timeout | undefined;
  private lastDeferralWarning = 0;
  private readonly board: DeferredBoard;
  /** Sample inspection's record of deliveries, and where a spool's outputs are kept for it (see recordDeliveries). */
  private qa: QaHooks | undefined;

  /** `workers`: the agent's instance worker threads; without them instances are processed in this thread. */
  constructor(
    private readonly project: ResolvedProjectConfig, private readonly store: ProjectStore, private readonly log: Logger, cpus: number,
    private readonly workers?: InstanceWorkers,
    /** Keyed identifiers for inputs in log lines (default: a fresh key, not kept). */
    private readonly inputId: InputId = ephemeralInputId(),
    /** The project's cloud folders, made from its config by the agent (see src/cloud/). */
    private readonly remote: { readonly inbox?: RemoteInbox; readonly outbox?: RemoteOutbox } = {},
    /** The time, for the project record's data use agreement (tests cross its expiry with it). */
    private readonly clock: Clock = systemClock,
  ) {
    this.workArea = new WorkArea(project.work);
    this.board = new DeferredBoard(project.work, (e) => this.log.warn({ project: project.name, code: errorCode(e) }, 'cannot record deferred claims for status'));
    // 8 files in flight per CPU: most of a file's time is I/O waits (as for anonymize).
    // Claims are not limited by it: a drop is claimed whole as soon as it is stable (claimWaiting).
    this.syncClaims = !(project.watch?.usePolling ?? false);
    this.pool = new TaskPool(project.concurrency ?? 8 * cpus, (job) => this.runJob(job));
  }

  async start(): Promise<{ recovered: number }> {
    const p = this.project;
    await mkdir(p.inbox, { recursive: true });
    await this.workArea.init();
    // Claims are renames: across file systems they would fail (EXDEV) for every file, forever.
    const [inbox, work] = await Promise.all([stat(p.inbox), stat(this.workArea.dir)]);
    if (inbox.dev !== work.dev) {
      throw new UsageError(`project ${p.name}: the work area ${this.workArea.dir} is on another file system than the inbox ${p.inbox}; claims are renames, so set "work" to a folder on the inbox's file system`);
    }
    const spec = await openProject(this.store, projectOf(p));
    const calls = { pseudonymFor: (identity: PatientIdentity) => this.store.pseudonymFor(p.name, identity) };
    const ledgers: string[] = [];
    // Past the data use agreement's last day nothing leaves: inputs are held, queued outputs stay.
    const hold = duaHold(p.record, this.clock);
    const expired = duaExpired(p.record, this.clock());
    if (expired) this.log.warn({ project: p.name, reason: expired }, 'holding every input and every queued output');
    if (p.forward) {
      const ledger = forwardLedgerDir(p.outbox, p.name);
      await this.migrateLegacyForwardQueue(new ForwardLedger(ledger));
      this.drainers.push(new CStoreForwarder(p.name, p.forward, ledger, this.log, hold));
      ledgers.push(ledger);
    }
    if (p.remoteOutbox && this.remote.outbox) {
      const ledger = cloudSinkLedgerDir(p.outbox, p.remoteOutbox);
      const { transfers } = outboxSettings(p.remoteOutbox);
      this.drainers.push(new SinkDrainer(p.name, createRemoteOutboxSink(this.remote.outbox, transfers), CLOUD_RETRY, ledger, this.log, hold));
      ledgers.push(ledger);
      // Outputs written but not yet queued when the last run stopped: their claims are redone.
      await clearSpool(p.outbox);
    } else if (p.remoteOutbox) {
      throw new UsageError(`project ${p.name}: its cloud outbox was not set up`);
    }
    const processing = {
      ...spec, ...(ledgers.length > 0 ? { ledgers } : {}), ...(p.remoteOutbox ? { spool: true } : {}),
      ...(p.remoteOutbox && this.qa ? { qaRetain: this.qa.retained } : {}),
    };
    this.processor = holdWhenExpired(this.workers ? this.workers.register(processing, calls) : inThisThread(processing, calls), p.record, this.clock);
    const qa = this.qa;
    this.processingForReview = {
      spec: processing, calls, onReviewed: (to) => this.store.recordReviewed(p.name, to),
      ...(qa ? { onDelivered: (o: { readonly outputPath: string }) => qa.ledger.record(o) } : {}),
    };
    if (p.remoteInbox) {
      if (!this.remote.inbox) throw new UsageError(`project ${p.name}: its cloud inbox was not set up`);
      const o = inboxSettings(p.remoteInbox);
      this.cloud = new CloudInbox(this.remote.inbox, this.workArea, cloudStateDir(p.work), (claimed) => this.pool.push({ claimed }), this.log, p.name,
        { pollIntervalMs: o.pollIntervalMs, transfers: o.transfers, changeIntervalMs: o.changeIntervalMs });
      // Before the work area's recovery, which releases completed archive expansions (see start).
      await this.cloud.start();
      // Downloads are renamed into the work area: one file system, as for the inbox.
      const [state, work] = await Promise.all([stat(cloudStateDir(p.work)), stat(this.workArea.dir)]);
      if (state.dev !== work.dev) throw new UsageError(`project ${p.name}: ${cloudStateDir(p.work)} is on another file system than the work area ${this.workArea.dir}`);
    }
    const recovered = await this.workArea.recover();
    for (const claimed of recovered) this.pool.push({ claimed });
    this.watcher = new InboxWatcher({
      inbox: p.inbox, usePolling: p.watch?.usePolling ?? false, pollIntervalMs: p.watch?.pollIntervalMs ?? 1000,
      stabilityMs: p.watch?.stabilityMs ?? DEFAULT_STABILITY_MS,
    }, (path) => this.push({ inbox: path }), this.log);
    await this.watcher.start();
    // Last: a start that failed above leaves no timer or transfer running for a runner nobody stops.
    for (const d of this.drainers) d.start();
    this.cloud?.run();
    const every = Math.max(1000, p.watch?.stabilityMs ?? DEFAULT_STABILITY_MS);
    this.sweepTimer = setInterval(() => {
      if (this.sweepingFolders) return;
      this.sweepingFolders = true;
      void this.sweepEmptyFolders().finally(() => { this.sweepingFolders = false; });
    }, every);
    return { recovered: recovered.length };
  }

  /** Queues what an older store's forward queue still held into the ledger, once. */
  private async migrateLegacyForwardQueue(ledger: ForwardLedger): Promise<void> {
    const legacy = this.store.legacyForwardQueue(this.project.name);
    let queued = 0;
    for (const { sop, path, pending } of legacy) {
      if (!pending) continue; // refused for good already; counted in the log line below
      // An entry whose output never came to be was a crash window of the old order: its claim
      // is still in the work area and queues itself again when redone.
      if (await stat(path).then(() => true, () => false)) {
        await ledger.enqueue(sop, path);
        queued += 1;
      }
    }
    await this.store.dropLegacyForwardQueue(this.project.name);
    const refused = legacy.filter((e) => !e.pending).length;
    if (legacy.length > 0) {
      this.log.info({ project: this.project.name, queued, missing: legacy.length - refused - queued, refusedDropped: refused }, 'forward queue moved from the store to the ledger');
    }
  }

  /** Before start: delivered outputs are recorded in `qa.ledger` (with their retrieval request), and a spool's kept in `qa.retained`. */
  recordDeliveries(qa: QaHooks): void {
    this.qa = qa;
  }

  /** The folder incoming DICOM associations write into (the work area: claims are renames). */
  get incomingDir(): string {
    return this.workArea.dir;
  }

  /** Takes a file received by the Storage SCP as a claim; resolves once it is one. */
  async acceptIncoming(path: string): Promise<void> {
    const claimed = await this.workArea.claim(path);
    if (!claimed) throw new Error('received file vanished');
    this.log.info({ project: this.project.name, claim: basename(claimed), via: 'dicom' }, 'claimed');
    this.pool.push({ claimed });
  }

  /** Stops watching and claiming; files in flight finish, unclaimed ones stay in the inbox. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.retryTimers) clearTimeout(t);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.cloud?.stop();
    await this.watcher?.close();
    await this.pool.stop();
    await Promise.all(this.drainers.map((d) => d.stop()));
    // Claims still deferred stay in the work area and are retried at the next start; while the
    // agent is down, status should not say they are being retried.
    this.board.show(undefined);
    await this.board.flushed();
  }

  /** Holds `job` until a transient error's pause ends; true when it did (the project is paused). */
  private holdIfPaused(job: Job): boolean {
    if (Date.now() >= this.pausedUntil) return false;
    this.held.push(job);
    this.resumeTimer ??= setTimeout(() => {
      this.resumeTimer = undefined;
      if (this.stopping) return;
      for (const j of this.held.splice(0)) this.push(j);
    }, this.pausedUntil - Date.now());
    return true;
  }

  /** Starts claiming what is waiting, unless a claiming loop already runs. */
  private kickClaims(): void {
    if (this.claiming || this.stopping || this.toClaim.length === 0) return;
    this.claiming = true;
    setImmediate(() => {
      void this.claimWaiting().finally(() => {
        this.claiming = false;
        this.kickClaims(); // what arrived during the last await
      });
    });
  }

  /**
   * Claims the stable inbox files, yielding to the event loop every CLAIMS_PER_TURN claims or
   * CLAIM_TURN_MS. Claims are synchronous renames: a drop is then claimed whole at once and the
   * inbox folder empties at once. The watcher re-reads a folder, and lstats every entry left in it,
   * each time entries leave it; asynchronous renames waited in the thread pool's queue behind those
   * lstats, so a 1,000-file drop drained slowly and cost ~100,000 lstats. Where a rename is slow
   * (a network share, or `watch.usePolling`, which is meant for one) renames go back to the thread
   * pool, so that a slow or hung server never holds the event loop.
   */
  private async claimWaiting(): Promise<void> {
    let turnStart = performance.now();
    let inTurn = 0;
    while (this.toClaim.length > 0 && !this.stopping) {
      const inbox = this.toClaim.take() as string;
      // Paused by a transient error: the file waits unclaimed, with the others, for one timer,
      // so a full disk costs neither a claim nor a retry per file.
      if (this.holdIfPaused({ inbox })) continue;
      try {
        await this.claimOne(inbox);
      } catch (e) {
        // claimOne handles the claim's own errors; this is a bug, logged, and the file stays in the
        // inbox for the next start (the watcher has reported it already).
        this.log.error({ project: this.project.name, error: (e as Error).name, code: (e as NodeJS.ErrnoException).code }, 'unexpected error while claiming');
      }
      if (++inTurn >= CLAIMS_PER_TURN || performance.now() - turnStart > CLAIM_TURN_MS) {
        await new Promise((r) => setImmediate(r));
        turnStart = performance.now();
        inTurn = 0;
      }
    }
  }

  private async claimOne(inbox: string): Promise<void> {
    let claimed: string | undefined;
    try {
      if (this.syncClaims) {
        const started = performance.now();
        claimed = this.workArea.claimSync(inbox);
        if (performance.now() - started > SLOW_RENAME_MS) {
          this.syncClaims = false;
          this.log.warn({ project: this.project.name }, 'renames are slow on this file system (a network share?): claiming through the thread pool');
        }
      } else {
        claimed = await this.workArea.claim(inbox);
      }
    } catch (e) {
      // The watcher reports a file once: a claim that failed (EMFILE, ENOSPC, the work area
      // gone) is tried again with backoff, never forgotten.
      const attempt = (this.claimRetries.get(inbox) ?? 0) + 1;
      this.claimRetries.set(inbox, attempt);
      const delayMs = Math.min(60_000, 500 * 2 ** (attempt - 1));
      this.log.error({ project: this.project.name, input: this.inputId(relative(this.project.inbox, inbox)), code: (e as NodeJS.ErrnoException).code, retryInMs: delayMs }, 'cannot claim; will retry');
      this.later(delayMs, { inbox });
      return;
    }
    if (!claimed) return; // gone before we came
    this.claimRetries.delete(inbox);
    this.log.info({ project: this.project.name, input: this.inputId(relative(this.project.inbox, inbox)), claim: basename(claimed) }, 'claimed');
    this.pool.push({ claimed });
  }

  private async runJob(job: { readonly claimed: string }): Promise<void> {
    if (this.holdIfPaused(job)) return;
    const claimed = job.claimed;
    try {
      await this.handle(claimed);
      if (this.deferrals.settled(claimed)) this.board.show(this.deferrals.summary());
    } catch (e) {
      if (isTransient(e)) {
        // A full disk, a store that cannot be written: the claim stays and is tried again.
        const delayMs = this.deferrals.deferred(claimed, errorCode(e));
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delayMs);
        // One warning per 10 s at most (a full disk meets every file), the rest at debug level.
        const now = Date.now();
        const loud = now - this.lastDeferralWarning >= 10_000;
        if (loud) this.lastDeferralWarning = now;
        this.log[loud ? 'warn' : 'debug']({
          project: this.project.name, claim: basename(claimed), code: errorCode(e), retryInMs: delayMs, deferred: this.deferrals.summary()?.count ?? 1,
        }, 'deferred; will retry');
        this.board.show(this.deferrals.summary());
        this.runJob({ claimed }).catch(() => undefined); // held until the pause ends
        return;
      }
      if (this.deferrals.settled(claimed)) this.board.show(this.deferrals.summary());
      // Never lose a claim to an unexpected error: it goes to failed with what can be said safely.
      this.log.error({ project: this.project.name, claim: basename(claimed), code: (e as NodeJS.ErrnoException).code }, 'unexpected error');
      await this.settle(claimed, { kind: 'failed', reason: safeReason('internal error', e) }).catch(() => undefined);
    }
  }

  /** Pushes `job` again after `delayMs`, unless the runner stops first (the work stays on disk). */
  private later(delayMs: number, job: Job): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (!this.stopping) this.push(job);
    }, delayMs);
    this.retryTimers.add(timer);
  }

  /** Inbox files go to the claims, claimed ones to processing. */
  private push(job: Job): void {
    if (!('inbox' in job)) {
      this.pool.push(job);
      return;
    }
    if (this.stopping) return;
    this.toClaim.push(job.inbox);
    this.kickClaims();
  }

  /** Claims waiting out a transient error: how many, since when, and the latest code. */
  get deferredSummary(): DeferredSummary | undefined {
    return this.deferrals.summary();
  }

  private async handle(claimed: string): Promise<void> {
    const st = await lstat(claimed);
    if (st.isSymbolicLink()) {
      this.store.record(this.project.name, 'received');
      await this.settle(claimed, { kind: 'failed', reason: 'symbolic link: not followed' });
      return;
    }
    if (!st.isFile()) {
      // A socket, FIFO or device dropped in the inbox: never opened (a FIFO's open blocks).
      this.store.record(this.project.name, 'received');
      await this.settle(claimed, { kind: 'failed', reason: 'not a regular file (socket, FIFO or device): not read' });
      return;
    }
    if (await isZip(claimed)) {
      await this.expand(claimed);
      return;
    }
    // Archives are containers: their entries are counted, not the archive.
    this.store.record(this.project.name, 'received');
    await this.settle(claimed, await (this.processor as InstanceProcessor).process(claimed));
  }

  private async expand(archive: string): Promise<void> {
    const staging = this.workArea.stagingDirFor(archive);
    let entries: number;
    try {
      entries = await expandZip(archive, staging);
    } catch (e) {
      if (!(e instanceof ZipRefused)) throw e;
      this.store.record(this.project.name, 'received');
      await this.settle(archive, { kind: 'failed', reason: e.message });
      return;
    }
    await this.cloud?.beforeSettle(archive);
    await rm(archive); // its entries are in the complete staging folder now
    this.cloud?.afterSettle(archive);
    const claims = await this.workArea.releaseStaging(staging);
    this.log.info({ project: this.project.name, claim: basename(archive), entries }, 'archive expanded');
    for (const claimed of claims) this.pool.push({ claimed });
  }

  private async settle(claimed: string, outcome: Outcome): Promise<void> {
    const p = this.project;
    await this.cloud?.beforeSettle(claimed);
    // Before the input goes: a crash in between redoes it and records it again, never loses it.
    // A ledger that cannot be written is the moment's trouble (its disk): the claim waits, its output stands.
    if (outcome.kind === 'delivered' && this.qa) {
      await this.qa.ledger.record(outcome, outcome.sourceStudyUid ? this.qa.requestOf?.(outcome.sourceStudyUid) : undefined).catch((e: unknown) => {
        throw typeof (e as NodeJS.ErrnoException).code === 'string' ? new TransientError('cannot record the delivery for sample inspection', errorCode(e)) : e;
      });
    }
    await settleInput(claimed, outcome, p, 'move');
    const fields = { project: p.name, claim: basename(claimed), outcome: outcome.kind };
    if (outcome.kind === 'delivered') this.log.info({ ...fields, pseudonym: outcome.pseudonym, ...(outcome.cleanedBoxes === undefined ? {} : { cleanedBoxes: outcome.cleanedBoxes }) }, 'settled');
    else this.log.warn({ ...fields, reason: outcome.reason }, 'settled');
    this.cloud?.afterSettle(claimed);
    this.store.record(p.name, outcome.kind);
    for (const listener of this.settledListeners) listener(outcome);
  }

  private readonly settledListeners: Array<(o: Outcome) => void> = [];

  /** Tells `listener` of every settled input (PACS retrieval counts its studies with it). */
  /** The project's processing spec and store calls once started, for the quarantine review's releases. */
  get reviewProcessing(): ReviewProcessing | undefined {
    return this.processingForReview;
  }

  onSettled(listener: (o: Outcome) => void): void {
    this.settledListeners.push(listener);
  }

  /** Removes study folders a drop left empty, once they have been still for the stability time. */
  private async sweepEmptyFolders(): Promise<void> {
    const stabilityMs = this.project.watch?.stabilityMs ?? DEFAULT_STABILITY_MS;
    const visit = async (dir: string): Promise<boolean> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return false;
      }
      let empty = true;
      for (const e of entries) {
        if (e.isDirectory() && (await visit(join(dir, e.name)))) continue;
        empty = false;
      }
      if (!empty || dir === this.project.inbox) return false;
      const st = await stat(dir).catch(() => undefined);
      if (!st || Date.now() - st.mtimeMs < stabilityMs) return false; // may still be filling
      return rmdir(dir).then(() => true, () => false);
    };
    await visit(this.project.inbox);
  }
}
