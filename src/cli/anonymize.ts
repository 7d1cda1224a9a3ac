import type { BurnedInRule } from '../detect/burned-in-rules.js';
import { resolveProfile, type SupportedOption } from '../deid/profile.js';
import type { Recipe } from '../deid/recipes.js';
import { availableParallelism } from 'node:os';
import { InstanceWorkers, inThisThread } from '../pipeline/instance-workers.js';
import { openProject } from '../pipeline/project-context.js';
import { TaskPool } from '../pipeline/task-pool.js';
import { InputOrderGate } from '../pipeline/input-order-gate.js';
import { assertNever } from '../pipeline/outcome.js';
import { settleAside } from '../pipeline/settle-aside.js';
import { ProjectStore } from '../store/project-store.js';
import type { PatientIdentity } from '../deid/patient-identity.js';
import { collectInputs } from './collect-inputs.js';

export interface AnonymizeRequest {
  readonly inputs: readonly string[];
  readonly out: string;
  readonly quarantine: string;
  readonly failed: string;
  readonly prefix: string;
  readonly project: string;
  readonly storePath: string;
  readonly shiftDays?: number;
  readonly shiftRange?: readonly [number, number];
  readonly options: readonly SupportedOption[];
  /** The project's own rules (from its config). */
  readonly recipes?: readonly Recipe[];
  /** The cap on a deflated data set's inflated size (from its config). */
  readonly maxInflatedBytes?: number;
  /** Replaces the default burned-in rules. */
  readonly burnedInRules?: readonly BurnedInRule[];
  /**
   * Files in flight at once (default: 8 per CPU). Runs are deterministic at any concurrency: new
   * patients are numbered in input order, and of several inputs that are one instance (same SOP
   * Instance UID) the first in input order is the output; the others are reported as duplicates.
   */
  readonly concurrency?: number;
  /** Worker threads for the CPU work (default: CPUs - 1, at least 1, at most `concurrency`; 0: this thread). */
  readonly workers?: number;
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
  resolveProfile(req.options);
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
  try {
    files = await collectInputs(req.inputs);
    // The store first: a run that cannot use it must leave nothing behind.
    const store = await ProjectStore.open(req.storePath);
    try {
      const spec = await openProject(store, {
        name: req.project, prefix: req.prefix, outbox: req.out, quarantine: req.quarantine, failed: req.failed, options: req.options,
        ...(req.shiftDays === undefined ? {} : { dateShiftDays: req.shiftDays }),
        ...(req.shiftRange === undefined ? {} : { dateShiftRange: req.shiftRange }),
        ...(req.burnedInRules === undefined ? {} : { burnedInRules: req.burnedInRules }),
        ...(req.recipes === undefined ? {} : { recipes: req.recipes }),
        ...(req.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: req.maxInflatedBytes }),
      });
      const index = new Map(files.map((f, i) => [f, i]));
      const gate = new InputOrderGate();
      const calls = {
        // New patients are numbered in input order, whatever finishes first.
        pseudonymFor: async (identity: PatientIdentity, input: string) => {
          const i = index.get(input) ?? 0;
          await gate.turn(i);
          try {
            return await store.pseudonymFor(req.project, identity);
          } finally {
            gate.passed(i);
          }
        },
      };
      const processor = workers ? workers.register(spec, calls) : inThisThread(spec, calls);
      /** Output path → the inputs that wrote it, in input order. */
      const writers = new Map<string, number[]>();
      const pool = new TaskPool<string>(concurrency, async (file) => {
        const outcome = await processor.process(file).finally(() => gate.passed(index.get(file) ?? 0));
        switch (outcome.kind) {
          case 'delivered':
            pseudonyms.add(outcome.pseudonym);
            writers.set(outcome.outputPath, [...(writers.get(outcome.outputPath) ?? []), index.get(file) ?? 0].sort((a, b) => a - b));
            break;
          case 'quarantined':
            await settleAside(file, req.quarantine, outcome, req.project, 'copy');
            break;
          case 'failed':
            await settleAside(file, req.failed, outcome, req.project, 'copy');
            break;
          default:
            assertNever(outcome);
        }
        counts[outcome.kind]++;
      });
      for (const file of files) pool.push(file);
      await pool.idle();
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
    } finally {
      await store.close();
    }
  } finally {
    await workers?.close();
  }
  return { inputs: files.length, ...counts, patients: pseudonyms.size };
}
