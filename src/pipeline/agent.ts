import { availableParallelism } from 'node:os';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { ProjectStore } from '../store/project-store.js';
import { ProjectRunner } from './project-runner.js';

export interface RunningAgent {
  /** Stops watching, lets files in flight finish (unclaimed ones stay in their inbox), flushes the store. */
  stop(): Promise<void>;
}

/** Starts every project of a loaded config over one store (the store's single writer). */
export async function startAgent(config: ResolvedConfig, log: Logger): Promise<RunningAgent> {
  const store = await ProjectStore.open(config.store);
  const runners: ProjectRunner[] = [];
  try {
    for (const project of config.projects) {
      const runner = new ProjectRunner(project, store, log, availableParallelism());
      const { recovered } = await runner.start();
      runners.push(runner);
      log.info({ project: project.name, recovered }, 'project watching');
    }
  } catch (e) {
    await Promise.all(runners.map((r) => r.stop()));
    await store.close();
    throw e;
  }
  return {
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      await store.close();
    },
  };
}
