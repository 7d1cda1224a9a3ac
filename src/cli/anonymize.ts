import type { SecretRef } from '../config/schema.js';
import { resolveProfile } from '../deid/profile.js';
import type { Project } from '../pipeline/project.js';
import { availableParallelism } from 'node:os';
import { InstanceWorkers, inThisThread } from '../pipeline/instance-workers.js';
import { openProject } from '../pipeline/project-context.js';
import { TaskPool } from '../pipeline/task-pool.js';
import { InputOrderGate } from '../pipeline/input-order-gate.js';
import { settleInput } from '../pipeline/settle-aside.js';
import { ProjectStore } from '../store/project-store.js';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { collectInputs } from './collect-inputs.js';
import { type Clock, holdWhenExpired } from '../pipeline/data-use-agreement.js';
import { DeliveryLedger } from '../qa/delivery-ledger.js';

export interface AnonymizeRequest {
  readonly inputs: readonly string[];
  /** The project: `out` is its outbox. */
  readonly project: Project;
  readonly storePath: string;
  /** The crosswalk key; default: `<store>.key` beside the store. */
  readonly crosswalkKey?: SecretRef;
  /**
   * Files in flight at once (default: 8 per CPU). Runs are deterministic at any concurrency: new
   * patients are numbered in input order, and of several inputs that are one instance (same SOP
   * Instance UID) the first in input order is the output; the others are reported as duplicates.
   */
  readonly concurrency?: number;
  /** Worker threads for the CPU work (default: CPUs - 1, at least 1, at most `concurrency`; 0: this thread). */
  readonly workers?: number;
  /** The time, for the project record's data use agreement (default: the system's). */
  readonly clock?: Clock;
  /** Hears the inputs found while they are listed, then each input settled (numbers only: no names). */
  readonly onProgress?: (p: AnonymizeProgress) => void;
}

export interface AnonymizeProgress {
  readonly settled: number;
  readonly inputs: number;
  /** Inputs are still being listed: `inputs` may grow. */
  readonly listing: boolean;
  readonly delivered: number;
  readonly quarantined: number;
  readonly failed: number;
  /** Known at the end only: inputs that were an earlier input's instance (counted as delivered until then). */
  readonly duplicates: number;
}

export interface AnonymizeSummary {
  readonly inputs: number;
  readonly delivered: number;
  readonly quarantined: number;
  readonly failed: number;
  /** Inputs that were the same instance as an earlier input (its output stands; nothing else is written). */
  readonly duplicates: number;
  readonly patients: number;
}

/** One-shot run: every input is read in place and settled into out, quarantine or failed. */
export async function anonymize(req: AnonymizeRequest): Promise<AnonymizeSummary> {
  // Option conflicts are refused before anything is opened or written.
  resolveProfile(req.project.options, req.project.recipes);
  // Files overlap their I/O (reads, fsyncs) and CPU work; determinism comes from rules, below.
  // Every CPU busy: the main thread (reads, writes, the store) and CPUs - 1 worker threads (at
  // least one, which also keeps a hostile file's heap away from the run). Files in flight: 8 per
  // CPU, because most of a file's time is I/O waits (measured: 2 in flight run at half the speed
  // of 16 on 2 CPUs; see README, Performance).
  const cpus = availableParallelism();
  const concurrency = req.concurrency ?? 8 * cpus;
  const workerCount = Math.min(req.workers ?? Math.max(1, cpus - 1), concurrency);
  // Started first: their threads load the engine while the inputs are listed and the store opened.
  const workers = workerCount > 0 ? new InstanceWorkers(workerCount) : undefined;
  const counts = { delivered: 0, quarantined: 0, failed: 0, duplicates: 0 };
  const pseudonyms = new Set<string>();
  let files: string[];
  let settled = 0;
  const progress = (inputs: number, listing: boolean): void => req.onProgress?.({
    settled, inputs, listing, delivered: counts.delivered, quarantined: counts.quarantined, failed: counts.failed, duplicates: counts.duplicates,
  });
  try {
    progress(0, true);
    files = await collectInputs(req.inputs, (n) => progress(n, true));
    progress(files.length, false);
    // The store first: a run that cannot use it must leave nothing behind.
    const store = await ProjectStore.open(req.storePath, req.crosswalkKey ? { key: req.crosswalkKey } : {});
    try {
      const spec = await openProject(store, req.project);
      // Sample inspection draws from each day's deliveries, a one-shot run's as the agent's.
      const deliveries = new DeliveryLedger(req.storePath, req.project.name, req.project.outbox);
      const index = new Map(files.map((f, i) => [f, i]));
      const gate = new InputOrderGate();
      const calls = {
        // New patients are numbered in input order, whatever finishes first.
        pseudonymFor: async (identity: PatientIdentity, input: string) => {
          const i = index.get(input) ?? 0;
          await gate.turn(i);
          try {
            return await store.pseudonymFor(req.project.name, identity);
          } finally {
            gate.passed(i);
          }
        },
      };
      const processor = workers ? workers.register(spec, calls) : inThisThread(spec, calls);
      // Past the data use agreement's last day every input is held (quarantined with the reason).
      const gated = holdWhenExpired(processor, req.project.record, req.clock);
      /** Output path → the inputs that wrote it, in input order. */
      const writers = new Map<string, number[]>();
      const pool = new TaskPool<string>(concurrency, async (file) => {
        const outcome = await gated.process(file).finally(() => gate.passed(index.get(file) ?? 0));
        if (outcome.kind === 'delivered') {
          pseudonyms.add(outcome.pseudonym);
          writers.set(outcome.outputPath, [...(writers.get(outcome.outputPath) ?? []), index.get(file) ?? 0].sort((a, b) => a - b));
        }
        if (outcome.kind === 'delivered') await deliveries.record(outcome);
        await settleInput(file, outcome, req.project, 'copy');
        counts[outcome.kind]++;
        settled++;
        progress(files.length, false);
      });
      for (const file of files) pool.push(file);
      await pool.idle().finally(() => deliveries.close());
      // Several inputs were one instance: whichever wrote last is on disk. The first in input
      // order is the rule, so it is written again, alone; the others count as duplicates.
      for (const [outputPath, inputs] of writers) {
        if (inputs.length < 2) continue;
        const first = files[inputs[0] ?? 0] as string;
        const again = await processor.process(first);
        if (again.kind !== 'delivered' || again.outputPath !== outputPath) throw new Error('an input gave a different outcome when run again');
        counts.delivered -= inputs.length - 1;
        counts.duplicates += inputs.length - 1;
      }
      // The last report agrees with the summary.
      if (counts.duplicates > 0) progress(files.length, false);
    } finally {
      await store.close();
    }
  } finally {
    await workers?.close();
  }
  return { inputs: files.length, ...counts, patients: pseudonyms.size };
}
