import { mkdir } from 'node:fs/promises';
import { type BurnedInRule, createBurnedInRuleDetector, DEFAULT_BURNED_IN_RULES } from '../detect/burned-in-rules.js';
import { resolveProfile, type SupportedOption } from '../deid/profile.js';
import type { Recipe } from '../deid/recipes.js';
import { clearTemporaries } from '../fs/atomic-write.js';
import { DEFAULT_SHIFT_RANGE, type ProjectSecrets, type ProjectStore } from '../store/project-store.js';
import type { ProjectContext, StoreCalls } from './process-instance.js';
import { ForwardLedger } from '../sinks/forward-ledger.js';

/** What a one-shot run and the watch agent alike need to know of a project. */
export interface ProjectSettings {
  readonly name: string;
  readonly prefix: string;
  readonly outbox: string;
  readonly quarantine: string;
  readonly failed: string;
  readonly dateShiftDays?: number;
  readonly dateShiftRange?: readonly [number, number];
  readonly options: readonly SupportedOption[];
  readonly recipes?: readonly Recipe[];
  readonly burnedInRules?: readonly BurnedInRule[];
  /** The cap on a deflated data set's inflated size, in bytes. */
  readonly maxInflatedBytes?: number;
}

/**
 * What de-identifying one instance needs to know of a project, as plain data: a worker thread
 * is given it and builds its own context from it (the store stays in the main thread).
 */
export interface ProcessingSpec {
  readonly name: string;
  readonly options: readonly SupportedOption[];
  readonly recipes: readonly Recipe[];
  readonly maxInflatedBytes?: number;
  readonly secrets: ProjectSecrets;
  readonly outbox: string;
  readonly burnedInRules: readonly BurnedInRule[];
  /** The ledger folders of the project's sinks (C-STORE, cloud folders): each output is queued in all. */
  readonly ledgers?: readonly string[];
  /** The outbox is the sinks' spool: outputs are removed once queued (see ProjectContext.spool). */
  readonly spool?: boolean;
}

export function processingContext(spec: ProcessingSpec, calls: StoreCalls): ProjectContext {
  return {
    name: spec.name, profile: resolveProfile(spec.options, spec.recipes), secrets: spec.secrets, outbox: spec.outbox,
    detectors: [createBurnedInRuleDetector(spec.burnedInRules)], ...calls,
    ...(spec.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: spec.maxInflatedBytes }),
    ...(spec.ledgers === undefined ? {} : { ledgers: spec.ledgers.map((dir) => new ForwardLedger(dir)) }),
    ...(spec.spool ? { spool: true } : {}),
  };
}

/**
 * Makes a project ready to settle inputs: its folders exist (quarantine and failed 0700), their
 * leftover temporaries are cleared (this process is their only writer), and the project is
 * opened in the store (created with a drawn shift the first time).
 */
export async function openProject(store: ProjectStore, s: ProjectSettings): Promise<ProcessingSpec> {
  resolveProfile(s.options); // option conflicts are refused before anything is made
  await mkdir(s.outbox, { recursive: true });
  await mkdir(s.quarantine, { recursive: true, mode: 0o700 });
  await mkdir(s.failed, { recursive: true, mode: 0o700 });
  for (const root of [s.outbox, s.quarantine, s.failed]) await clearTemporaries(root);
  const secrets = await store.ensureProject({
    name: s.name, prefix: s.prefix, shiftRange: s.dateShiftRange ?? DEFAULT_SHIFT_RANGE,
    ...(s.dateShiftDays === undefined ? {} : { dateShiftDays: s.dateShiftDays }),
  });
  return {
    name: s.name, options: s.options, recipes: s.recipes ?? [], secrets,
    outbox: s.outbox, burnedInRules: s.burnedInRules ?? DEFAULT_BURNED_IN_RULES,
    ...(s.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: s.maxInflatedBytes }),
  };
}
