import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../log/logger.js';
import { startAgent } from '../pipeline/agent.js';

/** Longest wait for files in flight at SIGTERM; anything unfinished stays claimed for the next start. */
const STOP_GRACE_MS = 20_000;

export async function startCommand(configFile: string): Promise<void> {
  const log = createLogger();
  // A fault nobody awaited must not take down an agent with files in flight: it is logged (name
  // and code only, never a message that could quote a value) and the agent goes on. Every input
  // stays claimed until settled, so a restart loses nothing either.
  process.on('unhandledRejection', (reason: unknown) => {
    log.error({ error: (reason as Error | undefined)?.name, code: (reason as NodeJS.ErrnoException | undefined)?.code }, 'unhandled rejection (logged; the agent goes on)');
  });
  const config = await loadConfig(configFile);
  const agent = await startAgent(config, log);
  // The console (when configured) is loaded only then: a plain agent does not pay for the web server.
  const consoleServer = config.console ? await (await import('../console/server.js')).startConsole(config, log, { live: agent }).catch(async (e: unknown) => {
    await agent.stop();
    throw e;
  }) : undefined;
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
    (consoleServer?.close() ?? Promise.resolve()).then(() => agent.stop()).then(
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
