import { parseRecipes } from '../deid/recipes.js';
import { loadConfig } from '../config/load-config.js';
import type { BurnedInRule } from '../detect/burned-in-rules.js';
import type { AnonymizeRequest } from './anonymize.js';
import { parseOptionNames } from '../config/option-names.js';
import { UsageError } from '../config/usage-error.js';

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
}

/** Flags, or a config file's project with flags overriding it, resolved into one request. */
export async function anonymizeRequest(inputs: string[], f: AnonymizeFlags): Promise<AnonymizeRequest> {
  let base: Partial<AnonymizeRequest> & { burnedInRules?: readonly BurnedInRule[] } = {};
  if (f.config) {
    const config = await loadConfig(f.config, { secrets: false });
    const project = f.project ? config.projects.find((p) => p.name === f.project) : config.projects.length === 1 ? config.projects[0] : undefined;
    if (!project) {
      throw new UsageError(f.project ? `no project '${f.project}' in ${f.config}` : `${f.config} has several projects: name one with --project`);
    }
    base = {
      // A cloud outbox is the agent's to fill (a sink with its ledger): a one-shot run needs --out.
      ...(project.remoteOutbox ? {} : { out: project.outbox }), quarantine: project.quarantine, failed: project.failed, prefix: project.prefix,
      project: project.name, storePath: config.store, options: parseOptionNames(project.options ?? []), recipes: parseRecipes(project.rules ?? []),
      ...(project.maxInflatedMiB === undefined ? {} : { maxInflatedBytes: project.maxInflatedMiB * 1024 * 1024 }),
      ...(project.dateShiftDays === undefined ? {} : { shiftDays: project.dateShiftDays }),
      ...(project.dateShiftRange === undefined ? {} : { shiftRange: project.dateShiftRange }),
      ...(project.burnedInRules === undefined ? {} : { burnedInRules: project.burnedInRules }),
    };
  }
  const prefix = f.prefix ?? base.prefix;
  const req = {
    ...base,
    inputs,
    out: f.out ?? base.out,
    quarantine: f.quarantine ?? base.quarantine,
    failed: f.failed ?? base.failed,
    prefix,
    storePath: f.store ?? base.storePath,
    project: f.project ?? base.project ?? prefix?.replace(/[_-]+$/, ''),
    options: f.option.length > 0 ? parseOptionNames(f.option) : (base.options ?? []),
    ...(f.shiftDays === undefined ? {} : { shiftDays: f.shiftDays }),
    ...(f.concurrency === undefined ? {} : { concurrency: f.concurrency }),
    ...(f.workers === undefined ? {} : { workers: f.workers }),
  };
  const missing = (['out', 'quarantine', 'failed', 'prefix', 'storePath'] as const).filter((k) => !req[k]);
  if (missing.length > 0) {
    const flag = (k: string): string => `--${k === 'storePath' ? 'store' : k}`;
    throw new UsageError(`missing ${missing.map(flag).join(', ')} (or give --config)`);
  }
  return req as AnonymizeRequest;
}
