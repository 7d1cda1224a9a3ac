import type { ResolvedConfig } from '../config/schema.js';
import { UsageError } from '../config/usage-error.js';
import { type QaSettings, qaSettingsOf } from './qa-settings.js';
import { retainedDir } from './qa-paths.js';

/** One project's sample inspection: where its files are and how its samples are sized. */
export interface QaScope {
  readonly storePath: string;
  readonly project: string;
  /** The project's local outbox, or its spool when the outbox is a cloud folder. */
  readonly outbox: string;
  /** Where outputs a spool let go are kept for inspection. */
  readonly retained: string;
  readonly settings: QaSettings;
}

/** The scope of a configured project; a project the config does not have is a usage error. */
export function qaScopeOf(config: ResolvedConfig, project: string): QaScope {
  const p = config.projects.find((x) => x.name === project);
  if (!p) throw new UsageError(`no project named ${project} in the config`);
  return { storePath: config.store, project, outbox: p.outbox, retained: retainedDir(config.store, project), settings: qaSettingsOf(p.qa) };
}
