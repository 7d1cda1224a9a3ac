import type { ResolvedConfig, ResolvedProjectConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { retainedDir } from './qa-paths.js';
import { pruneRetained } from './qa-retention.js';
import { qaSettingsOf } from './qa-settings.js';

const PRUNE_EVERY_MS = 6 * 3600_000;

/** A running project's part in sample inspection: its delivery ledger, and the pruning of what a spool kept. */
export interface ProjectQa {
  readonly ledger: DeliveryLedger;
  readonly retained: string;
  /** Flushes the ledger and stops pruning. */
  stop(): Promise<void>;
}

/**
 * Starts a project's sample inspection in the agent: its outputs are recorded per day (and per
 * retrieval request), and when its outbox is a cloud folder's spool, the outputs kept for
 * inspection are pruned after `qa.retainDays`, now and every six hours.
 */
export function startProjectQa(config: Pick<ResolvedConfig, 'store'>, project: ResolvedProjectConfig, log: Logger): ProjectQa {
  const retained = retainedDir(config.store, project.name);
  const ledger = new DeliveryLedger(config.store, project.name, project.outbox);
  const { retainDays } = qaSettingsOf(project.qa);
  let timer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> | undefined;
  if (project.remoteOutbox) {
    const prune = (): void => {
      pruning ??= pruneRetained(retained, retainDays)
        .then((removed) => { if (removed > 0) log.info({ project: project.name, removed, retainDays }, 'outputs kept for sample inspection pruned'); })
        .catch((e: unknown) => log.warn({ project: project.name, code: (e as NodeJS.ErrnoException).code ?? (e as Error).name }, 'cannot prune the outputs kept for sample inspection'))
        .finally(() => { pruning = undefined; });
    };
    prune();
    timer = setInterval(prune, PRUNE_EVERY_MS);
    timer.unref();
  }
  return {
    ledger, retained,
    async stop() {
      if (timer) clearInterval(timer);
      await pruning;
      await ledger.close();
    },
  };
}
