import { availableParallelism } from 'node:os';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { loadLogKey } from '../log/log-key.js';
import { ProjectStore } from '../store/project-store.js';
import { kernelCopyAvailable } from '../fs/kernel-copy.js';
import { InstanceWorkers } from './instance-workers.js';
import { ProjectRunner } from './project-runner.js';
import { PacsRetrieval } from '../sources/pacs-retrieval.js';
import { type IncomingAssociation, startStoreScp } from '../dicom/dimse-listener.js';

/**
 * The project an association feeds: the one whose `listen.calledAET` it calls; otherwise, when
 * it calls the agent's own AE title, the one listing its calling AE title. Else none (rejected).
 */
export function routeAssociation(config: ResolvedConfig, a: IncomingAssociation): string | undefined {
  const byCalled = config.projects.find((p) => p.listen?.calledAET === a.calledAET);
  if (byCalled) return byCalled.name;
  if (a.calledAET !== config.dicom?.aet) return undefined;
  // A listed caller; else the PACS a project retrieves from (its C-MOVE sub-operations).
  return config.projects.find((p) => p.listen?.callingAETs?.includes(a.callingAET))?.name
    ?? config.projects.find((p) => p.pacs?.calledAET === a.callingAET)?.name;
}

export interface RunningAgent {
  /** Stops watching, lets files in flight finish (unclaimed ones stay in their inbox), flushes the store. */
  stop(): Promise<void>;
}

/** Starts every project of a loaded config over one store (the store's single writer). */
export async function startAgent(config: ResolvedConfig, log: Logger): Promise<RunningAgent> {
  const store = await ProjectStore.open(config.store);
  const inputId = await loadLogKey(config.store);
  const workerCount = config.workers ?? availableParallelism();
  const workers = workerCount > 0 ? new InstanceWorkers(workerCount) : undefined;
  log.info({ workers: workerCount, kernelCopy: kernelCopyAvailable }, 'instance processing');
  // Without the addon everything still works, at about a third of the speed for large files.
  if (!kernelCopyAvailable) log.warn('kernel copy unavailable (native addon not built: npm run build:native); pixel data is copied in user space');
  const runners = new Map<string, ProjectRunner>();
  let listener: { close(): Promise<void> } | undefined;
  const retrievals: PacsRetrieval[] = [];
  try {
    for (const project of config.projects) {
      const runner = new ProjectRunner(project, store, log, availableParallelism(), workers, inputId);
      const { recovered } = await runner.start();
      runners.set(project.name, runner);
      log.info({ project: project.name, recovered }, 'project watching');
    }
    if (config.dicom) {
      const dicom = config.dicom;
      listener = await startStoreScp({
        port: dicom.port,
        route: (a) => {
          const project = routeAssociation(config, a);
          const runner = project ? runners.get(project) : undefined;
          if (runner) {
            log.info({ callingAET: a.callingAET, calledAET: a.calledAET, project }, 'association');
            return { dir: runner.incomingDir, accept: (path: string) => runner.acceptIncoming(path) };
          }
          // Our own AE title without a project behind the caller: C-ECHO only, storage refused.
          log.warn({ callingAET: a.callingAET, calledAET: a.calledAET }, a.calledAET === dicom.aet ? 'association for verification only: no project takes this caller' : 'association rejected: no project for it');
          return a.calledAET === dicom.aet ? 'verification-only' : undefined;
        },
        onError: (e) => log.warn({ code: (e as NodeJS.ErrnoException).code ?? e.name }, 'dicom listener error'),
      });
      log.info({ aet: dicom.aet, port: dicom.port }, 'dicom listener started');
    }
    for (const p of config.projects) {
      if (!p.pacs || !p.retrieve) continue;
      const runner = runners.get(p.name) as ProjectRunner;
      const callingAET = config.dicom?.aet ?? 'DEIDAGENT';
      const retrieval = new PacsRetrieval({
        project: p.name, pacs: { ...p.pacs, callingAET }, method: p.retrieve.method, moveDestination: p.listen?.calledAET ?? callingAET,
        getDestination: { dir: runner.incomingDir, accept: (path: string) => runner.acceptIncoming(path) },
        requestsDir: p.retrieve.requests, schedule: p.retrieve.schedule,
      }, (l) => runner.onSettled(l), log);
      await retrieval.start();
      retrievals.push(retrieval);
    }
  } catch (e) {
    await Promise.all(retrievals.map((r) => r.stop()));
    await listener?.close();
    await Promise.all([...runners.values()].map((r) => r.stop()));
    await workers?.close();
    await store.close();
    throw e;
  }
  return {
    async stop() {
      await Promise.all(retrievals.map((r) => r.stop()));
      await listener?.close();
      await Promise.all([...runners.values()].map((r) => r.stop()));
      await workers?.close();
      await store.close();
    },
  };
}
