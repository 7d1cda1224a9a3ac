import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../log/logger.js';
import { startAgent } from '../pipeline/agent.js';

/** Longest wait for files in flight at SIGTERM; anything unfinished stays claimed for the next start. */
const STOP_GRACE_MS = 20_000;

export async function startCommand(configFile: string): Promise<void> {
  const log = createLogger();
  const config = await loadConfig(configFile);
  const agent = await startAgent(config, log);
  log.info({ projects: config.projects.map((p) => p.name) }, 'agent started');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      log.warn('files still in flight stay claimed; they resume at the next start');
      process.exit(0);
    }, STOP_GRACE_MS);
    timer.unref();
    agent.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ code: (e as NodeJS.ErrnoException).code }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
