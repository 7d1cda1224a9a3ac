import { join } from 'node:path';
import type { Detector } from '../detect/detector.js';
import { duaExpired } from '../pipeline/data-use-agreement.js';
import type { LosslessSyntax } from '../pixels/encode-lossless.js';
import type { ProjectContext, StoreCalls } from '../pipeline/process-instance.js';
import { type ProcessingSpec, processingContext } from '../pipeline/project-context.js';
import { acquireStoreLock } from '../store/store-lock.js';
import { StoreError } from '../store/secure-json-file.js';
import { ReviewError } from './quarantine-items.js';

/**
 * What reviewing one project's quarantine needs: the project exactly as the agent runs it (the
 * ProcessingSpec its runner built: folders, the store's secrets, its sinks' ledgers, spool or
 * not), the store's pseudonym call, and the audit log. Outputs go down the pipeline's own path
 * (processInstance), so a release lands where the agent's outputs land and is forwarded by the
 * agent's running drainers, which poll their ledgers.
 */
export interface ReviewDesk {
  readonly spec: ProcessingSpec;
  readonly calls: StoreCalls;
  /** auditPathOf(config.store). */
  readonly auditPath: string;
  /** Clock (tests move it past an agreement's expiry). */
  readonly now?: () => Date;
  /** Told of each release once its output is written, before the item goes: the agent's delivery ledger (sample inspection, src/qa/). */
  readonly onDelivered?: (outcome: { readonly outputPath: string }) => Promise<void>;
  /** Told once an action has settled the item (released, discarded, sent back): the agent's counters. */
  readonly onReviewed?: (to: 'delivered' | 'failed' | 'discarded') => void;
}

/**
 * The project's processing context with the detection replaced: `detectors` instead of the
 * project's (none for a release as is: the review is the decision the detectors asked for;
 * 'project': the project's own, for an input held for another reason than its pixels),
 * cleaning as the project's cleanedSyntax says when `clean`, and optionally another outbox
 * without sinks (the header preview writes into a scratch folder and forwards nothing).
 */
export function reviewContext(desk: ReviewDesk, detectors: readonly Detector[] | 'project', options: { readonly clean?: boolean; readonly scratchOutbox?: string } = {}): ProjectContext {
  const { cleaning: projectCleaning, detectors: projectDetectors, ledgers, spool, ...rest } = processingContext(desk.spec, desk.calls);
  const syntax = desk.spec.project.pixels.cleanedSyntax;
  const cleaning: { readonly syntax?: LosslessSyntax } | undefined = detectors === 'project' ? projectCleaning
    : options.clean ? (syntax && syntax !== 'native' ? { syntax } : {}) : undefined;
  const sinks = options.scratchOutbox !== undefined ? { outbox: options.scratchOutbox } : { ...(ledgers ? { ledgers } : {}), ...(spool ? { spool } : {}) };
  return { ...rest, detectors: detectors === 'project' ? projectDetectors : detectors, ...(cleaning ? { cleaning } : {}), ...sinks };
}

/**
 * Why the project may not deliver now (its data use agreement has run out), or undefined. The
 * agent holds inputs by wrapping its processor (holdWhenExpired); a review delivers through
 * processInstance itself, so it asks here.
 */
export const deliveryRefusal = (desk: ReviewDesk): string | undefined => duaExpired(desk.spec.project.record, desk.now?.() ?? new Date());

/** Actions on one item, one at a time in this process: later callers wait and then find it gone. */
const inProcess = new Map<string, Promise<unknown>>();
/** A cross-process holder (another agent or a CLI) is waited for this long at most. */
const LOCK_WAIT_MS = 120_000;

/**
 * Runs `fn` holding the item's lock: in this process a queue per item, across processes a lock
 * file beside it (`<name>.review.lock`, the store's lock: taken over when its process is gone).
 * `fn` must look again for the item: an earlier holder may have settled it.
 */
export function withItemLock<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  const key = join(dir, name);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const release = await lockAcrossProcesses(join(dir, `${name}.review`));
    try {
      return await fn();
    } finally {
      await release();
    }
  });
  inProcess.set(key, run);
  void run.catch(() => undefined).finally(() => {
    if (inProcess.get(key) === run) inProcess.delete(key);
  });
  return run;
}

async function lockAcrossProcesses(path: string): Promise<() => Promise<void>> {
  const started = Date.now();
  for (;;) {
    try {
      return await acquireStoreLock(path);
    } catch (e) {
      if (!(e instanceof StoreError) || !/in use by process/.test(e.message)) throw e;
      if (Date.now() - started > LOCK_WAIT_MS) throw new ReviewError('gone', 'the item is being handled by another process', { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
