import type { BurnedInRule } from '../detect/burned-in-rules.js';
import { resolveProfile, type SupportedOption } from '../deid/profile.js';
import { openProjectContext } from '../pipeline/project-context.js';
import { processInstance } from '../pipeline/process-instance.js';
import { TaskPool } from '../pipeline/task-pool.js';
import { assertNever } from '../pipeline/outcome.js';
import { settleAside } from '../pipeline/settle-aside.js';
import { ProjectStore } from '../store/project-store.js';
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
  /** Replaces the default burned-in rules. */
  readonly burnedInRules?: readonly BurnedInRule[];
  /**
   * Files in flight at once. Default 1: inputs that are one instance (same SOP Instance UID) in
   * different encodings then land on their output in input order, so re-runs are byte-identical.
   */
  readonly concurrency?: number;
}

export interface AnonymizeSummary {
  readonly inputs: number;
  readonly delivered: number;
  readonly quarantined: number;
  readonly failed: number;
  readonly patients: number;
}

/** One-shot run: every input is read in place and settled into out, quarantine or failed. */
export async function anonymize(req: AnonymizeRequest): Promise<AnonymizeSummary> {
  // Option conflicts are refused before anything is opened or written.
  resolveProfile(req.options);
  const files = await collectInputs(req.inputs);
  // The store first: a run that cannot use it must leave nothing behind.
  const store = await ProjectStore.open(req.storePath);
  const counts = { delivered: 0, quarantined: 0, failed: 0 };
  const pseudonyms = new Set<string>();
  try {
    const ctx = await openProjectContext(store, {
      name: req.project, prefix: req.prefix, outbox: req.out, quarantine: req.quarantine, failed: req.failed, options: req.options,
      ...(req.shiftDays === undefined ? {} : { dateShiftDays: req.shiftDays }),
      ...(req.shiftRange === undefined ? {} : { dateShiftRange: req.shiftRange }),
      ...(req.burnedInRules === undefined ? {} : { burnedInRules: req.burnedInRules }),
    });
    // With concurrency > 1 files overlap their I/O (reads, fsyncs); pseudonyms are still
    // assigned one at a time by the store, in the order patients are first met.
    const pool = new TaskPool<string>(req.concurrency ?? 1, async (file) => {
      const outcome = await processInstance(file, ctx);
      switch (outcome.kind) {
        case 'delivered':
          pseudonyms.add(outcome.pseudonym);
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
  } finally {
    await store.close();
  }
  return { inputs: files.length, ...counts, patients: pseudonyms.size };
}
