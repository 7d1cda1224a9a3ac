import { availableParallelism } from 'node:os';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { loadLogKey } from '../log/log-key.js';
import { ProjectStore } from '../store/project-store.js';
import { kernelCopyAvailable } from '../fs/kernel-copy.js';
import { InstanceWorkers } from './instance-workers.js';
import { ProjectRunner, type ReviewProcessing } from './project-runner.js';
import { admitRequestedStudies, PacsRetrieval, type RefusalReason } from '../sources/pacs-retrieval.js';
import { type IncomingAssociation, type StoreDestination, startStoreScp } from '../net/dimse-listener.js';
import { type CloudConnectOptions, CloudConnections } from '../cloud/cloud-folders.js';
import type { Outcome } from './outcome.js';
import type { StoreCalls } from './process-instance.js';
import type { ProcessingSpec } from './project-context.js';
import { type ProjectQa, startProjectQa } from '../qa/project-qa.js';

/** Where an association goes: a project, and whether it was pushed to it or is its retrieval's. */
export interface AssociationRoute {
  readonly project: string;
  /** 'retrieval': called on the project's move destination; only requested studies are admitted. */
  readonly purpose: 'push' | 'retrieval';
}

const sameAe = (x: string | undefined, y: string): boolean => x !== undefined && x.trim() === y.trim();

/**
 * The project an association feeds: the one whose `retrieve.moveDestinationAET` it calls (a PACS's
 * C-MOVE sub-operations for that project's retrieval), or whose `listen.calledAET` it calls;
 * otherwise, when it calls the agent's own AE title, the one listing its calling AE title. Else
 * none (rejected). Config validation makes each of these lead to at most one project. The PACS's
 * calling AE title is never a route: two projects may retrieve from one PACS.
 */
export function routeAssociation(config: ResolvedConfig, a: IncomingAssociation): AssociationRoute | undefined {
  const mover = config.projects.find((p) => p.retrieve?.method === 'move' && sameAe(p.retrieve.moveDestinationAET, a.calledAET));
  if (mover) return { project: mover.name, purpose: 'retrieval' };
  const byCalled = config.projects.find((p) => sameAe(p.listen?.calledAET, a.calledAET));
  if (byCalled) return { project: byCalled.name, purpose: 'push' };
  if (!sameAe(config.dicom?.aet, a.calledAET)) return undefined;
  const byCaller = config.projects.find((p) => p.listen?.callingAETs?.some((c) => sameAe(c, a.callingAET)));
  return byCaller ? { project: byCaller.name, purpose: 'push' } : undefined;
}

export interface RunningAgent {
  /** Stops watching, lets files in flight finish (unclaimed ones stay in their inbox), flushes the store. */
  stop(): Promise<void>;
  /** Tells `listener` of every input settled in any project (the console's live dashboard); returns the unsubscribe. */
  onSettled(listener: (project: string, kind: Outcome['kind']) => void): () => void;
  /** A started project's processing spec and store calls (the console's quarantine review delivers with them). */
  reviewProcessing(project: string): ReviewProcessing | undefined;
}

/** Starts every project of a loaded config over one store (the store's single writer). */
export async function startAgent(config: ResolvedConfig, log: Logger, cloudOptions: CloudConnectOptions = {}): Promise<RunningAgent> {
  const store = await ProjectStore.open(config.store, { key: config.crosswalkKey });
  const inputId = await loadLogKey(config.store);
  const workerCount = config.workers ?? availableParallelism();
  const workers = workerCount > 0 ? new InstanceWorkers(workerCount) : undefined;
  log.info({ workers: workerCount, kernelCopy: kernelCopyAvailable }, 'instance processing');
  // Without the addon everything still works, at about a third of the speed for large files.
  if (!kernelCopyAvailable) log.warn('kernel copy unavailable (native addon not built: npm run build:native); pixel data is copied in user space');
  const runners = new Map<string, ProjectRunner>();
  const settledListeners = new Set<(project: string, kind: Outcome['kind']) => void>();
  const cloud = new CloudConnections(config, { log, ...cloudOptions });
  let listener: { close(): Promise<void> } | undefined;
  const retrievals = new Map<string, PacsRetrieval>();
  const qas: ProjectQa[] = [];
  /** What a project's retrieval receives: only instances of the studies it is asking for. */
  const retrievalInput = (project: string, runner: ProjectRunner): StoreDestination => admitRequestedStudies(
    { dir: runner.incomingDir, accept: (path: string) => runner.acceptIncoming(path) },
    () => retrievals.get(project),
    (reason: RefusalReason) => log.warn({ project, reason }, 'retrieved instance refused'),
  );
  try {
    for (const project of config.projects) {
      const runner = new ProjectRunner(project, store, log, availableParallelism(), workers, inputId, cloud.foldersOf(project));
      const qa = startProjectQa(config, project, log);
      qas.push(qa);
      runner.recordDeliveries({ ledger: qa.ledger, retained: qa.retained, requestOf: (study) => retrievals.get(project.name)?.requestOf(study) });
      const { recovered } = await runner.start();
      runners.set(project.name, runner);
      runner.onSettled((o) => { for (const l of settledListeners) l(project.name, o.kind); });
      log.info({ project: project.name, recovered }, 'project watching');
    }
    if (config.dicom) {
      const dicom = config.dicom;
      listener = await startStoreScp({
        port: dicom.port,
        route: (a) => {
          const route = routeAssociation(config, a);
          const runner = route ? runners.get(route.project) : undefined;
          if (route && runner) {
            log.info({ callingAET: a.callingAET, calledAET: a.calledAET, project: route.project, purpose: route.purpose }, 'association');
            return route.purpose === 'retrieval'
              ? retrievalInput(route.project, runner)
              : { dir: runner.incomingDir, accept: (path: string) => runner.acceptIncoming(path) };
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
        project: p.name, pacs: { ...p.pacs, callingAET }, method: p.retrieve.method,
        ...(p.retrieve.moveDestinationAET ? { moveDestination: p.retrieve.moveDestinationAET } : {}),
        // A C-GET's instances come on our own association, but are checked the same way: a PACS
        // answering with studies not asked for does not feed the project.
        getDestination: retrievalInput(p.name, runner),
        requestsDir: p.retrieve.requests, schedule: p.retrieve.schedule,
      }, (l) => runner.onSettled(l), log);
      retrievals.set(p.name, retrieval);
      await retrieval.start();
    }
  } catch (e) {
    await Promise.all([...retrievals.values()].map((r) => r.stop()));
    await listener?.close();
    await Promise.all([...runners.values()].map((r) => r.stop()));
    await Promise.all(qas.map((q) => q.stop()));
    await workers?.close();
    await store.close();
    throw e;
  }
  return {
    reviewProcessing: (project) => runners.get(project)?.reviewProcessing,
    onSettled(listener) {
      settledListeners.add(listener);
      return () => { settledListeners.delete(listener); };
    },
    async stop() {
      await Promise.all([...retrievals.values()].map((r) => r.stop()));
      await listener?.close();
      await Promise.all([...runners.values()].map((r) => r.stop()));
      await Promise.all(qas.map((q) => q.stop()));
      await workers?.close();
      await store.close();
    },
  };
}
