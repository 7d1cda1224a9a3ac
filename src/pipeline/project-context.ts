import { mkdir } from 'node:fs/promises';
import { type BurnedInRule, createBurnedInRuleDetector, DEFAULT_BURNED_IN_RULES } from '../detect/burned-in-rules.js';
import { resolveProfile, type SupportedOption } from '../deid/profile.js';
import { clearTemporaries } from '../fs/atomic-write.js';
import { DEFAULT_SHIFT_RANGE, type ProjectStore } from '../store/project-store.js';
import type { ProjectContext } from './process-instance.js';

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
  readonly burnedInRules?: readonly BurnedInRule[];
}

/**
 * Makes a project ready to settle inputs: its folders exist (quarantine and failed 0700), their
 * leftover temporaries are cleared (this process is their only writer), and the project is
 * opened in the store (created with a drawn shift the first time).
 */
export async function openProjectContext(store: ProjectStore, s: ProjectSettings): Promise<ProjectContext> {
  const profile = resolveProfile(s.options);
  await mkdir(s.outbox, { recursive: true });
  await mkdir(s.quarantine, { recursive: true, mode: 0o700 });
  await mkdir(s.failed, { recursive: true, mode: 0o700 });
  for (const root of [s.outbox, s.quarantine, s.failed]) await clearTemporaries(root);
  const secrets = await store.ensureProject({
    name: s.name, prefix: s.prefix, shiftRange: s.dateShiftRange ?? DEFAULT_SHIFT_RANGE,
    ...(s.dateShiftDays === undefined ? {} : { dateShiftDays: s.dateShiftDays }),
  });
  return {
    name: s.name, profile, secrets, store, outbox: s.outbox,
    detectors: [createBurnedInRuleDetector(s.burnedInRules ?? DEFAULT_BURNED_IN_RULES)],
  };
}
