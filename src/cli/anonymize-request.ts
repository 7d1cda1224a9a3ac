import { loadConfig } from '../config/load-config.js';
import type { AnonymizeRequest } from './anonymize.js';
import { parseOptionNames } from '../config/option-names.js';
import { UsageError } from '../config/usage-error.js';
import type { SecretRef } from '../config/schema.js';
import { DEFAULT_BURNED_IN_RULES } from '../detect/burned-in-rules.js';
import { DEFAULT_PIXEL_POLICY } from '../detect/pixel-text-detector.js';
import { type Project, projectOf } from '../pipeline/project.js';

export interface AnonymizeFlags {
  readonly config?: string;
  readonly out?: string;
  readonly quarantine?: string;
  readonly failed?: string;
  readonly prefix?: string;
  readonly store?: string;
  readonly project?: string;
  readonly shiftDays?: number;
  readonly option: string[];
  readonly concurrency?: number;
  readonly workers?: number;
  /** False with --no-progress. */
  readonly progress?: boolean;
}

/** Flags, or a config file's project (resolved as the agent resolves it) with flags overriding it, as one request. */
export async function anonymizeRequest(inputs: string[], f: AnonymizeFlags): Promise<AnonymizeRequest> {
  let base: Partial<Project> = {};
  let storePath: string | undefined;
  let crosswalkKey: SecretRef | undefined;
  if (f.config) {
    const config = await loadConfig(f.config, { secrets: false });
    const project = f.project ? config.projects.find((p) => p.name === f.project) : config.projects.length === 1 ? config.projects[0] : undefined;
    if (!project) {
      throw new UsageError(f.project ? `no project '${f.project}' in ${f.config}` : `${f.config} has several projects: name one with --project`);
    }
    const { outbox, ...resolved } = projectOf(project);
    // A cloud outbox is the agent's to fill (a sink with its ledger): a one-shot run needs --out.
    base = project.remoteOutbox ? resolved : { ...resolved, outbox };
    storePath = config.store;
    crosswalkKey = config.crosswalkKey;
  }
  const prefix = f.prefix ?? base.prefix;
  const project = {
    recipes: [], burnedInRules: DEFAULT_BURNED_IN_RULES, pixels: DEFAULT_PIXEL_POLICY,
    ...base,
    name: f.project ?? base.name ?? prefix?.replace(/[_-]+$/, ''),
    prefix,
    outbox: f.out ?? base.outbox,
    quarantine: f.quarantine ?? base.quarantine,
    failed: f.failed ?? base.failed,
    options: f.option.length > 0 ? parseOptionNames(f.option) : (base.options ?? []),
    ...(f.shiftDays === undefined ? {} : { dateShiftDays: f.shiftDays }),
  };
  // Another store than the config's has its own key beside it (the default).
  if (f.store) crosswalkKey = undefined;
  storePath = f.store ?? storePath;
  const missing = [
    ...(['outbox', 'quarantine', 'failed', 'prefix'] as const).filter((k) => !project[k]).map((k) => (k === 'outbox' ? '--out' : `--${k}`)),
    ...(storePath ? [] : ['--store']),
  ];
  if (missing.length > 0 || !storePath) throw new UsageError(`missing ${missing.join(', ')} (or give --config)`);
  return {
    inputs, project: project as Project, storePath,
    ...(crosswalkKey ? { crosswalkKey } : {}),
    ...(f.concurrency === undefined ? {} : { concurrency: f.concurrency }),
    ...(f.workers === undefined ? {} : { workers: f.workers }),
  };
}
