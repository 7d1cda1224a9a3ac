import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Cron } from 'croner';
import { asciiValue } from '../dicom/dataset.js';
import { type StoreDestination, StoreRefused } from '../net/dimse-listener.js';
import { findStudiesByAccession, getStudy, type GetDestination, moveStudy, PacsUnavailable, type PacsTarget } from '../net/dimse-query.js';
import { readDicomFile } from '../dicom/read-file.js';
import { Tags } from '../dicom/tag.js';
import { writeAtomically } from '../fs/atomic-write.js';
import type { Logger } from '../log/logger.js';
import type { Outcome } from '../pipeline/outcome.js';
import { isTransientReadError } from '../pipeline/transient.js';

/** What became of one accession number of a request. */
export interface AccessionReport {
  readonly accession: string;
  readonly found: boolean;
  readonly studies: number;
  readonly received: number;
  readonly delivered: number;
  readonly quarantined: number;
  readonly failed: number;
  readonly error?: string;
}

export interface RetrievalOptions {
  readonly project: string;
  readonly pacs: PacsTarget;
  /**
   * C-MOVE to `moveDestination` (this project's own AE title on the agent's listener), or C-GET
   * into `getDestination`.
   */
  readonly method: 'move' | 'get';
  readonly moveDestination?: string;
  readonly getDestination: GetDestination;
  readonly requestsDir: string;
  readonly schedule: string;
  /** How long to wait for a moved study's instances to be settled by the pipeline. */
  readonly settleTimeoutMs?: number;
}

/** Subscribes to the project's settled inputs. */
export type SettledFeed = (listener: (o: Outcome) => void) => void;

/** A line of a request that is not an exact accession number, named by its number only. */
export interface RefusedLine {
  readonly line: number;
  readonly reason: string;
}

/**
 * Why a value cannot be an exact accession number (SH: at most 16 characters, no backslash, no
 * control characters), or undefined when it can. Wildcards are refused: C-FIND would match them
 * against other patients' accession numbers (`*` is every study).
 */
function accessionProblem(value: string): string | undefined {
  if (/[*?]/.test(value)) return 'wildcard (* or ?): only exact accession numbers are retrieved';
  if (value.includes('\\')) return 'backslash: not allowed in an accession number';
  if (/[\x00-\x1f\x7f]/.test(value)) return 'control character';
  if (value.length > 16) return 'longer than 16 characters (SH)';
  return undefined;
}

/**
 * Accession numbers from a CSV or text file: the first column, one per line; a header, blank lines
 * and `#` comments are skipped. A value that is not an exact accession number is refused, by line.
 */
export function parseAccessions(text: string): { accessions: string[]; refused: RefusedLine[] } {
  const accessions: string[] = [];
  const refused: RefusedLine[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const first = (line.split(/[,;\t]/)[0] ?? '').replace(/^[ ]+|[ ]+$/g, '').replace(/^"(.*)"$/, '$1').replace(/^[ ]+|[ ]+$/g, '');
    if (first === '' || first.startsWith('#') || /^accession/i.test(first)) continue;
    const problem = accessionProblem(first);
    if (problem) refused.push({ line: i + 1, reason: problem });
    else if (!accessions.includes(first)) accessions.push(first);
  }
  return { accessions, refused };
}

const REQUEST_FILE = /\.(csv|txt)$/i;
export const IMMEDIATE_DIR = 'now';
export const reportPathFor = (requestPath: string): string => `${requestPath}.report.json`;

/**
 * Retrieves the studies of accession-number requests from a PACS: at the scheduled time every
 * request file in the requests folder, and at once any file in its `now/` folder. For each
 * accession: C-FIND at study level, C-MOVE of each study to the agent's own listener (the
 * received instances go through the project's pipeline), then a report beside the request. A
 * processed request is renamed `.done`; progress is kept in `<request>.progress.json`, so a
 * restart resumes a request where it stopped and never runs an accession twice.
 */
export class PacsRetrieval {
  private cron: Cron | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Set when the schedule fires; the next pass (maybe after one in progress) runs everything waiting. */
  private scheduleDue = false;
  /**
   * Per study being retrieved, how each of its instances (by original SOP Instance UID) settled:
   * an instance settled twice (a claim left by a stopped run, and its new copy) counts once.
   */
  private readonly settledByStudy = new Map<string, Map<string, Outcome['kind']>>();
  /** The id of the request running now (a hash of its file's name, as its log lines show it). */
  private currentRequest: string | undefined;

  constructor(private readonly o: RetrievalOptions, onSettled: SettledFeed, private readonly log: Logger) {
    onSettled((outcome) => {
      const settled = outcome.sourceStudyUid ? this.settledByStudy.get(outcome.sourceStudyUid) : undefined;
      settled?.set(outcome.sourceInstanceUid ?? `unknown-${settled.size}`, outcome.kind);
    });
  }

  /**
   * Whether a study is one this retrieval is asking the PACS for right now (from its C-MOVE or
   * C-GET until its instances are settled). Instances of any other study arriving for this
   * project's retrieval are refused: see `admitRequestedStudies`.
   */
  expects(studyInstanceUid: string): boolean {
    return this.settledByStudy.has(studyInstanceUid);
  }

  /** The QA batch of an instance of this study: the running request's (`request-<id>`), while it is asked for. */
  requestOf(studyInstanceUid: string): string | undefined {
    return this.currentRequest && this.settledByStudy.has(studyInstanceUid) ? `request-${this.currentRequest}` : undefined;
  }

  /** Whether a study is being retrieved at all right now. */
  get active(): boolean {
    return this.settledByStudy.size > 0;
  }

  async start(): Promise<void> {
    await mkdir(join(this.o.requestsDir, IMMEDIATE_DIR), { recursive: true });
    this.cron = new Cron(this.o.schedule, () => {
      this.scheduleDue = true;
      this.trigger();
    });
    this.poll = setInterval(() => this.trigger(), 1000);
    this.trigger(); // resume or run what is already waiting in now/
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cron?.stop();
    if (this.poll) clearInterval(this.poll);
    await this.running;
  }

  /** Starts a pass unless one runs; a schedule that fired meanwhile is kept for the next pass. */
  private trigger(): void {
    if (this.running || this.stopped) return;
    const scheduled = this.scheduleDue;
    this.scheduleDue = false;
    this.running = this.runWaiting(!scheduled)
      .catch((e: unknown) => this.log.warn({ project: this.o.project, code: (e as NodeJS.ErrnoException).code ?? (e as Error).name }, 'retrieval pass failed'))
      .finally(() => { this.running = undefined; });
  }

  private async requestFiles(dir: string): Promise<string[]> {
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => REQUEST_FILE.test(n) && !n.startsWith('.')).sort().map((n) => join(dir, n));
  }

  private async runWaiting(immediateOnly: boolean): Promise<void> {
    const immediate = await this.requestFiles(join(this.o.requestsDir, IMMEDIATE_DIR));
    const scheduled = await this.requestFiles(this.o.requestsDir);
    // Between scheduled runs, only requests already started (a restart mid-request) resume.
    const resumable: string[] = [];
    for (const f of scheduled) if (await readFile(`${f}.progress.json`).then(() => true, () => false)) resumable.push(f);
    for (const f of [...immediate, ...(immediateOnly ? resumable : scheduled)]) {
      if (this.stopped) return;
      await this.runRequest(f);
    }
  }

  private async runRequest(requestPath: string): Promise<void> {
    const { accessions, refused } = parseAccessions(await readFile(requestPath, 'utf8'));
    const progressPath = `${requestPath}.progress.json`;
    const progress: { startedAt: string; done: AccessionReport[] } = await readFile(progressPath, 'utf8')
      .then((t) => JSON.parse(t) as { startedAt: string; done: AccessionReport[] }, () => ({ startedAt: new Date().toISOString(), done: [] }));
    const id = createHash('sha256').update(basename(requestPath)).digest('hex').slice(0, 12);
    this.log.info({ project: this.o.project, request: id, accessions: accessions.length, refused: refused.length, resumed: progress.done.length }, 'retrieval started');
    this.currentRequest = id;
    for (const accession of accessions) {
      if (this.stopped) return;
      if (progress.done.some((r) => r.accession === accession)) continue;
      let report: AccessionReport;
      try {
        report = await this.retrieveAccession(accession);
      } catch (e) {
        if (e instanceof PacsUnavailable) {
          // The PACS is down: leave the rest for the next pass (progress is kept).
          this.log.warn({ project: this.o.project, request: id, reason: e.message }, 'retrieval paused: PACS unavailable');
          return;
        }
        report = { accession, found: false, studies: 0, received: 0, delivered: 0, quarantined: 0, failed: 0, error: (e as Error).message };
      }
      // Stopped while it was being received: not done. It runs again at the next start (what
      // arrived already is settled, and deterministic outputs keep a second copy from duplicating).
      if (this.stopped) return;
      progress.done.push(report);
      await writeAtomically(progressPath, [Buffer.from(JSON.stringify(progress))], 0o600);
    }
    const totals = progress.done.reduce((t, r) => ({
      found: t.found + (r.found ? 1 : 0), notFound: t.notFound + (r.found ? 0 : 1), received: t.received + r.received,
      delivered: t.delivered + r.delivered, quarantined: t.quarantined + r.quarantined, failed: t.failed + r.failed,
    }), { found: 0, notFound: 0, received: 0, delivered: 0, quarantined: 0, failed: 0 });
    const report = {
      project: this.o.project, request: basename(requestPath), startedAt: progress.startedAt, finishedAt: new Date().toISOString(),
      totals, accessions: progress.done, refused,
    };
    await writeAtomically(reportPathFor(requestPath), [Buffer.from(`${JSON.stringify(report, null, 2)}\n`)], 0o600);
    await rename(requestPath, `${requestPath}.done`);
    await rename(progressPath, `${requestPath}.done.progress.json`).catch(() => undefined);
    this.log.info({ project: this.o.project, request: id, ...totals }, 'retrieval finished');
  }

  private async retrieveAccession(accession: string): Promise<AccessionReport> {
    const studies = await findStudiesByAccession(this.o.pacs, accession);
    if (studies.length === 0) return { accession, found: false, studies: 0, received: 0, delivered: 0, quarantined: 0, failed: 0 };
    let received = 0;
    const counts = { delivered: 0, quarantined: 0, failed: 0 };
    let error: string | undefined;
    for (const study of studies) {
      const settled = new Map<string, Outcome['kind']>();
      this.settledByStudy.set(study, settled);
      try {
        // Config validation requires a destination of the project's own for C-MOVE.
        if (this.o.method === 'move' && !this.o.moveDestination) throw new Error('no move destination AE title for this project');
        const r = this.o.method === 'get'
          ? await getStudy(this.o.pacs, study, this.o.getDestination)
          : await moveStudy(this.o.pacs, study, this.o.moveDestination as string);
        received += r.completed + r.warnings;
        if (r.failed > 0 || (r.status !== 0 && (r.status & 0xf000) !== 0xb000)) error = `C-${this.o.method.toUpperCase()} status 0x${r.status.toString(16)}, ${r.failed} sub-operation(s) failed`;
        // Every instance received is settled by the pipeline; wait for that before reporting.
        const end = Date.now() + (this.o.settleTimeoutMs ?? 600_000);
        while (settled.size < r.completed + r.warnings && Date.now() < end && !this.stopped) {
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        this.settledByStudy.delete(study);
      }
      for (const kind of settled.values()) counts[kind] += 1;
      if (this.stopped) break;
    }
    return { accession, found: true, studies: studies.length, received, ...counts, ...(error ? { error } : {}) };
  }
}

/** Why `admitRequestedStudies` turned an instance away; no values, fit for a log line. */
export type RefusalReason = 'no retrieval running' | 'study not requested by the running retrieval' | 'Study Instance UID unreadable';

/**
 * Defence in depth for instances received for a retrieval (on the project's move destination, or
 * by C-GET): only those of a study the project's running retrieval asked for go on to `inner`.
 * Any other (a PACS or an operator sending to that AE title, a PACS answering with more than was
 * asked, a stray after the retrieval ended) is refused before the C-STORE is answered: the
 * sender is told (0124H, not authorized), the file is removed, and it never enters this or any
 * project's pipeline, so it is no input of the agent and needs no outbox/quarantine/failed entry.
 * `running` gives the project's retrieval, undefined before it has started.
 */
export function admitRequestedStudies(
  inner: StoreDestination, running: () => Pick<PacsRetrieval, 'expects' | 'active'> | undefined, onRefused: (reason: RefusalReason) => void,
): StoreDestination {
  const refuse = (reason: RefusalReason): never => {
    onRefused(reason);
    throw new StoreRefused(reason);
  };
  return {
    dir: inner.dir,
    async accept(path: string): Promise<void> {
      const retrieval = running();
      // Read up to the pixel data only: the study is known from the header.
      const study = await readDicomFile(path, { holdWholeBelow: 0 }).then((f) => asciiValue(f.dataset, Tags.StudyInstanceUID), async (e: unknown) => {
        // The moment's trouble (EMFILE, EIO), not the instance's: out of resources (A700), which
        // the sender retries. The unchecked file never stays to be taken as a claim.
        if (isTransientReadError(e)) {
          await rm(path, { force: true });
          throw e;
        }
        return undefined;
      });
      if (!study) refuse('Study Instance UID unreadable');
      else if (!retrieval?.active) refuse('no retrieval running');
      else if (!retrieval.expects(study)) refuse('study not requested by the running retrieval');
      await inner.accept(path);
    },
  };
}
