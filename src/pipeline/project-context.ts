import { mkdir } from 'node:fs/promises';
import { createBurnedInRuleDetector } from '../detect/burned-in-rules.js';
import { createPixelTextDetector } from '../detect/pixel-text-detector.js';
import { resolveProfile } from '../deid/profile.js';
import { clearTemporaries } from '../fs/atomic-write.js';
import { DEFAULT_SHIFT_RANGE, type ProjectSecrets, type ProjectStore } from '../store/project-store.js';
import type { ProjectContext, StoreCalls } from './process-instance.js';
import { ForwardLedger } from '../sinks/forward-ledger.js';
import type { Project } from './project.js';

/**
 * What de-identifying one instance needs, as plain data: the project, and what the store keeps
 * of it. A worker thread is given it and builds its own context from it (the store stays in the
 * main thread).
 */
export interface ProcessingSpec {
  readonly project: Project;
  readonly secrets: ProjectSecrets;
  /** The ledger folders of the project's sinks (C-STORE, cloud folders): each output is queued in all. */
  readonly ledgers?: readonly string[];
  /** The outbox is the sinks' spool: outputs are removed once queued (see ProjectContext.spool). */
  readonly spool?: boolean;
  /** With a spool: the folder outputs are kept in for sample inspection (see ProjectContext.qaRetain). */
  readonly qaRetain?: string;
}

export function processingContext(spec: ProcessingSpec, calls: StoreCalls): ProjectContext {
  const p = spec.project;
  return {
    name: p.name, profile: resolveProfile(p.options, p.recipes), secrets: spec.secrets, outbox: p.outbox,
    detectors: [createBurnedInRuleDetector(p.burnedInRules), createPixelTextDetector(p.pixels)], ...calls,
    ...(p.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: p.maxInflatedBytes }),
    ...(spec.ledgers === undefined ? {} : { ledgers: spec.ledgers.map((dir) => new ForwardLedger(dir)) }),
    ...(spec.spool ? { spool: true } : {}),
    ...(spec.spool && spec.qaRetain ? { qaRetain: spec.qaRetain } : {}),
    ...(p.record ? { record: p.record } : {}),
    ...(p.pixels.onText === 'clean' ? { cleaning: p.pixels.cleanedSyntax && p.pixels.cleanedSyntax !== 'native' ? { syntax: p.pixels.cleanedSyntax } : {} } : {}),
  };
}

/**
 * Makes a project ready to settle inputs: its folders exist (quarantine and failed 0700), their
 * leftover temporaries are cleared (this process is their only writer), and the project is
 * opened in the store (created with a drawn shift the first time).
 */
export async function openProject(store: ProjectStore, p: Project): Promise<ProcessingSpec> {
  resolveProfile(p.options, p.recipes); // option conflicts are refused before anything is made
  await mkdir(p.outbox, { recursive: true });
  await mkdir(p.quarantine, { recursive: true, mode: 0o700 });
  await mkdir(p.failed, { recursive: true, mode: 0o700 });
  for (const root of [p.outbox, p.quarantine, p.failed]) await clearTemporaries(root);
  const secrets = await store.ensureProject({
    name: p.name, prefix: p.prefix, shiftRange: p.dateShiftRange ?? DEFAULT_SHIFT_RANGE,
    ...(p.dateShiftDays === undefined ? {} : { dateShiftDays: p.dateShiftDays }),
  });
  return { project: p, secrets };
}
