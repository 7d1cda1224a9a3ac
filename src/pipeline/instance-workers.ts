import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type FromWorker, type ThreadError, type ToWorker, fromThreadError, toThreadError } from './instance-messages.js';
import type { Outcome } from './outcome.js';
import { type ProjectContext, type StoreCalls, processInstance } from './process-instance.js';
import { type ProcessingSpec, processingContext } from './project-context.js';

/** De-identifies one input into its outcome; a bad input is an outcome, never a throw. */
export interface InstanceProcessor {
  process(path: string): Promise<Outcome>;
}

/** Processing in the calling thread (`workers: 0`). */
export function inThisThread(spec: ProcessingSpec, calls: StoreCalls): InstanceProcessor {
  const ctx: ProjectContext = processingContext(spec, calls);
  return { process: (path) => processInstance(path, ctx) };
}

/**
 * The worker's script. Built code runs `instance-worker.js` beside this file; tests run this
 * module from its TypeScript source, and a worker thread cannot load TypeScript, so they use
 * the build (`npm test` builds first).
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return join(dirname(here), 'instance-worker.js');
  const built = resolve(dirname(here), '..', '..', 'dist', 'src', 'pipeline', 'instance-worker.js');
  if (!existsSync(built)) throw new Error('instance workers need the build: run npm run build');
  return built;
}

interface Job {
  /** Dispatch order: suspects run again in it (a one-shot run's files wait for earlier ones). */
  readonly seq: number;
  readonly project: string;
  readonly path: string;
  readonly resolve: (o: Outcome) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Job>;
}

export interface InstanceWorkerOptions {
  /**
   * Each worker's JavaScript heap limit. A header that would need more (a hostile or broken file
   * with millions of elements) kills that worker, not the agent: its jobs fail with the reason
   * ERR_WORKER_OUT_OF_MEMORY and a new worker takes its place. A normal header needs well under
   * 1 MiB, but the default is 2 GiB: V8 weighs the file buffers passing through against this
   * limit, and at 512 MiB it collected garbage five times as long on the 0.5 MB benchmark files.
   */
  readonly maxHeapMiB?: number;
}

/**
 * A fixed set of worker threads that process instances for every registered project, so the
 * CPU work of parsing, rules and serialising runs beside the main thread. The main thread keeps
 * the store (single writer): workers ask it for pseudonyms by message (forward queueing is the
 * ledger's files, which workers write themselves).
 * Jobs go to the worker with the fewest in flight. When a worker dies with several jobs in flight
 * nobody knows which one killed it: each is run again alone on a worker of its own, so only the
 * one that kills it again fails. A worker that dies with one job fails that job (its
 * inputs settle as failed, with the reason) and is replaced.
 */
export class InstanceWorkers {
  private readonly slots: Slot[] = [];
  private readonly projects = new Map<string, { readonly spec: ProcessingSpec; readonly calls: StoreCalls }>();
  private nextId = 1;
  private closing = false;
  /** Jobs of a worker that died with several in flight, each to be run again alone. */
  private readonly suspects: Job[] = [];
  private runningSuspects = false;

  constructor(readonly size: number, private readonly options: InstanceWorkerOptions = {}) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('at least one worker');
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  register(spec: ProcessingSpec, calls: StoreCalls): InstanceProcessor {
    this.projects.set(spec.project.name, { spec, calls });
    for (const s of this.slots) this.announce(s, spec);
    return { process: (path) => this.dispatch(spec.project.name, path) };
  }

  /** Stops the threads; call once nothing is in flight (jobs still running fail). */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.suspects.splice(0)) job.reject(new Error('instance workers are closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private send(slot: Slot, m: ToWorker): void {
    slot.worker.postMessage(m);
  }

  /** Tells a worker of a project (the store calls stay here, in the main thread). */
  private announce(slot: Slot, spec: ProcessingSpec): void {
    this.send(slot, { type: 'project', spec });
  }

  private dispatch(project: string, path: string): Promise<Outcome> {
    if (this.closing) return Promise.reject(new Error('instance workers are closed'));
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<Outcome>((resolvePromise, reject) => {
      slot.pending.set(id, { seq: id, project, path, resolve: resolvePromise, reject });
      this.send(slot, { type: 'process', id, project, path });
    });
  }

  /** Runs each suspect alone on a fresh worker, one at a time (a killer may take a whole heap). */
  private async runSuspects(): Promise<void> {
    if (this.runningSuspects) return;
    this.runningSuspects = true;
    try {
      for (let job = this.suspects.shift(); job && !this.closing; job = this.suspects.shift()) {
        const slot = this.spawn(true);
        for (const { spec } of this.projects.values()) this.announce(slot, spec);
        const id = this.nextId++;
        const alone = job;
        await new Promise<void>((done) => {
          slot.pending.set(id, {
            ...alone, resolve: (o) => { alone.resolve(o); done(); }, reject: (e) => { alone.reject(e); done(); },
          });
          this.send(slot, { type: 'process', id, project: alone.project, path: alone.path });
        });
        await slot.worker.terminate();
      }
    } finally {
      this.runningSuspects = false;
    }
  }

  /** `isolated`: a worker for one suspect job, never replaced when it ends. */
  private spawn(isolated = false): Slot {
    const worker = new Worker(workerScript(), { resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMiB ?? 2048 } });
    const slot: Slot = { worker, pending: new Map() };
    slot.worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    let failed = false;
    const fail = (error: ThreadError): void => {
      if (failed) return;
      failed = true;
      const jobs = [...slot.pending.values()];
      slot.pending.clear();
      if (isolated || jobs.length <= 1 || this.closing) {
        for (const job of jobs) job.reject(fromThreadError(error, 'instance worker stopped'));
      } else {
        this.suspects.push(...jobs);
        // Oldest first, across workers that died at different times: a later file may be
        // waiting (anonymize's input-order gate) for an earlier one to pass.
        this.suspects.sort((a, b) => a.seq - b.seq);
        void this.runSuspects();
      }
      if (this.closing || isolated) return;
      const index = this.slots.indexOf(slot);
      const replacement = this.spawn();
      for (const { spec } of this.projects.values()) this.announce(replacement, spec);
      if (index >= 0) this.slots[index] = replacement;
    };
    slot.worker.on('error', (e) => fail({ ...toThreadError(e), name: 'WorkerCrashed' }));
    slot.worker.on('exit', (code) => fail({ name: 'WorkerExited', code: `exit ${code}` }));
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'outcome':
      case 'error': {
        const job = slot.pending.get(m.id);
        slot.pending.delete(m.id);
        if (m.type === 'outcome') job?.resolve(m.outcome);
        else job?.reject(fromThreadError(m.error, 'instance worker error'));
        break;
      }
      case 'pseudonymFor': {
        const answer = this.projects.get(m.project)?.calls.pseudonymFor(m.identity, m.input);
        void (answer ?? Promise.reject(new Error('unknown project'))).then(
          (pseudonym) => this.send(slot, { type: 'answer', id: m.id, ...(pseudonym === undefined ? {} : { pseudonym }) }),
          (e: unknown) => this.send(slot, { type: 'answer', id: m.id, error: toThreadError(e) }),
        );
        break;
      }
    }
  }
}
