import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { isIgnoredName } from '../sources/ignored-names.js';
import { ForwardLedger, forwardLedgerDir } from '../sinks/forward-ledger.js';
import { ProjectStore } from '../store/project-store.js';
import { type DeferredSummary, readDeferred } from '../pipeline/deferrals.js';
import { cloudSinkLedgerDir, cloudStateDir } from '../pipeline/project-folders.js';
import { CloudInbox } from '../sources/cloud-inbox.js';
import type { RemoteInboxConfig, RemoteOutboxConfig, ResolvedConfig } from '../config/schema.js';
import { formatRetrieval, type RetrievalStatus, retrievalStatus } from './retrieval-status.js';

const remoteLabel = (r: RemoteInboxConfig | RemoteOutboxConfig): string => ('folder' in r ? `folder ${r.folder.path}` : 'box' in r
  ? `box folder ${r.box.folderId}` : `graph drive ${r.graph.driveId} ${r.graph.path ?? `item ${r.graph.itemId ?? ''}`}`);

/** Files under `dir` (recursively) that the agent will take; 0 when the folder does not exist. */
async function countFiles(dir: string, skipIgnored: boolean): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    if (skipIgnored && isIgnoredName(e.name)) continue;
    n += e.isDirectory() ? await countFiles(join(dir, e.name), skipIgnored) : 1;
  }
  return n;
}

export interface ProjectStatus {
  readonly project: string;
  readonly received: number;
  readonly delivered: number;
  readonly quarantined: number;
  readonly failed: number;
  /**
   * Held inputs a reviewer discarded. A review action moves an input out of quarantined (into
   * delivered, failed or this), so received = delivered + quarantined + failed + discarded + pending.
   */
  readonly discarded: number;
  /** Claimed and not yet settled, plus files waiting in the inbox. */
  readonly pending: number;
  readonly lastActivity: string | null;
  /** Claims waiting out a transient error (a full disk, a store that cannot be written). */
  readonly deferred?: DeferredSummary;
  /** A cloud inbox and its change feed's position (Box stream position, Graph deltaLink). */
  readonly source?: { readonly folder: string; readonly position: string | null };
  /** The cloud outbox's upload queue (same fields as forward). */
  readonly upload?: NonNullable<ProjectStatus['forward']>;
  /** The C-STORE queue of a project that forwards. */
  readonly forward?: {
    readonly destination: string;
    readonly forwarded: number;
    readonly pending: number;
    readonly failed: number;
    readonly retryingSince: string | null;
    readonly lastError: string | null;
  };
  /** The project's PACS retrievals (a project with `retrieve`). */
  readonly retrievals?: RetrievalStatus;
}

/** Reads the store without the writer's lock, so it works while the agent runs. */
export async function projectStatuses(configFile: string): Promise<ProjectStatus[]> {
  return projectStatusesOf(await loadConfig(configFile, { secrets: false }));
}

/** The same for a loaded config (the console polls it). */
export async function projectStatusesOf(config: Pick<ResolvedConfig, 'store' | 'projects'>): Promise<ProjectStatus[]> {
  const data = await ProjectStore.readSnapshot(config.store);
  const out: ProjectStatus[] = [];
  for (const p of config.projects) {
    const state = data.projects[p.name];
    const stats = state?.stats;
    let forward: ProjectStatus['forward'];
    if (p.forward) {
      const ledger = new ForwardLedger(forwardLedgerDir(p.outbox, p.name));
      const [destination, counts] = await Promise.all([ledger.readState(), ledger.counts()]);
      forward = {
        destination: `${p.forward.calledAET}@${p.forward.host}:${p.forward.port}`, forwarded: destination.forwarded,
        pending: counts.pending, failed: counts.failed, retryingSince: destination.retryingSince,
        lastError: destination.lastError ?? counts.lastFailure,
      };
    }
    let upload: ProjectStatus['upload'];
    if (p.remoteOutbox) {
      const ledger = new ForwardLedger(cloudSinkLedgerDir(p.outbox, p.remoteOutbox));
      const [destination, counts] = await Promise.all([ledger.readState(), ledger.counts()]);
      upload = { destination: remoteLabel(p.remoteOutbox), forwarded: destination.forwarded, pending: counts.pending, failed: counts.failed,
        retryingSince: destination.retryingSince, lastError: destination.lastError ?? counts.lastFailure };
    }
    const source = p.remoteInbox ? { folder: remoteLabel(p.remoteInbox), position: (await CloudInbox.position(cloudStateDir(p.work))) ?? null } : undefined;
    // The work area's hidden files are the agent's own (temporaries, the deferred summary).
    const pending = (await countFiles(p.work, true)) + (await countFiles(p.inbox, true));
    const deferred = await readDeferred(p.work);
    const retrievals = p.retrieve ? await retrievalStatus(p.retrieve.requests) : undefined;
    out.push({
      project: p.name, received: stats?.received ?? 0, delivered: stats?.delivered ?? 0, quarantined: stats?.quarantined ?? 0,
      failed: stats?.failed ?? 0, discarded: stats?.discarded ?? 0, pending, lastActivity: stats?.lastActivity ?? null, ...(forward ? { forward } : {}),
      ...(upload ? { upload } : {}), ...(source ? { source } : {}),
      ...(deferred ? { deferred } : {}), ...(retrievals ? { retrievals } : {}),
    });
  }
  return out;
}

export function formatStatuses(rows: readonly ProjectStatus[]): string {
  // The discarded column only once a reviewer has discarded something: most projects never do.
  const discards = rows.some((r) => r.discarded > 0);
  const header = ['project', 'received', 'delivered', 'quarantined', 'failed', ...(discards ? ['discarded'] : []), 'pending', 'last activity'];
  const lines = rows.map((r) => [r.project, r.received, r.delivered, r.quarantined, r.failed, ...(discards ? [r.discarded] : []), r.pending, r.lastActivity ?? '-'].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const table = [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const waits = rows.filter((r) => r.deferred).map((r) => {
    const d = r.deferred as DeferredSummary;
    return `${r.project}: ${d.count} deferred since ${d.since} (${d.code}); retried with backoff, nothing is lost`;
  });
  const queue = (project: string, f: NonNullable<ProjectStatus['forward']>, done: string): string =>
    `${project} → ${f.destination}: ${done} ${f.forwarded}, pending ${f.pending}, failed ${f.failed}` +
      (f.retryingSince ? `, retrying since ${f.retryingSince}` : '') + (f.lastError ? `, last error: ${f.lastError}` : '');
  const queues = rows.flatMap((r) => [
    ...(r.source ? [`${r.project} ← ${r.source.folder}: change feed at ${r.source.position === null ? '(not started)' : shorten(r.source.position)}`] : []),
    ...(r.upload ? [queue(r.project, r.upload, 'uploaded')] : []),
    ...(r.forward ? [queue(r.project, r.forward, 'forwarded')] : []),
    ...(r.retrievals ? formatRetrieval(r.project, r.retrievals) : []),
  ]);
  return [...table, ...(waits.length > 0 ? ['', ...waits] : []), ...(queues.length > 0 ? ['', ...queues] : [])].join('\n') + '\n';
}

/** A position as status shows it: a deltaLink's token, not the whole URL. */
function shorten(position: string): string {
  const token = /[?&]token=([^&]+)/.exec(position)?.[1];
  const shown = token ?? position;
  return shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
}
