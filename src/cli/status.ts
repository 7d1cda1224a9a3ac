import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { isIgnoredName } from '../sources/ignored-names.js';
import { ProjectStore } from '../store/project-store.js';

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
  /** Claimed and not yet settled, plus files waiting in the inbox. */
  readonly pending: number;
  readonly lastActivity: string | null;
  /** The C-STORE queue of a project that forwards. */
  readonly forward?: {
    readonly destination: string;
    readonly forwarded: number;
    readonly pending: number;
    readonly failed: number;
    readonly retryingSince: string | null;
    readonly lastError: string | null;
  };
}

/** Reads the store without the writer's lock, so it works while the agent runs. */
export async function projectStatuses(configFile: string): Promise<ProjectStatus[]> {
  const config = await loadConfig(configFile);
  const data = await ProjectStore.readSnapshot(config.store);
  const out: ProjectStatus[] = [];
  for (const p of config.projects) {
    const state = data.projects[p.name];
    const stats = state?.stats;
    const queue = Object.values(state?.forwardQueue ?? {});
    const pendingForwards = queue.filter((e) => e.state === 'pending');
    const since = pendingForwards.map((e) => e.retryingSince).filter((x): x is string => x !== null).sort()[0] ?? null;
    const lastError = pendingForwards.find((e) => e.lastError)?.lastError ?? queue.find((e) => e.lastError)?.lastError ?? null;
    const forward = p.forward ? {
      destination: `${p.forward.calledAET}@${p.forward.host}:${p.forward.port}`, forwarded: stats?.forwarded ?? 0,
      pending: pendingForwards.length, failed: queue.length - pendingForwards.length, retryingSince: since, lastError,
    } : undefined;
    const pending = (await countFiles(p.work, false)) + (await countFiles(p.inbox, true));
    out.push({
      project: p.name, received: stats?.received ?? 0, delivered: stats?.delivered ?? 0, quarantined: stats?.quarantined ?? 0,
      failed: stats?.failed ?? 0, pending, lastActivity: stats?.lastActivity ?? null, ...(forward ? { forward } : {}),
    });
  }
  return out;
}

export function formatStatuses(rows: readonly ProjectStatus[]): string {
  const header = ['project', 'received', 'delivered', 'quarantined', 'failed', 'pending', 'last activity'];
  const lines = rows.map((r) => [r.project, r.received, r.delivered, r.quarantined, r.failed, r.pending, r.lastActivity ?? '-'].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const table = [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const queues = rows.filter((r) => r.forward).map((r) => {
    const f = r.forward as NonNullable<ProjectStatus['forward']>;
    return `${r.project} → ${f.destination}: forwarded ${f.forwarded}, pending ${f.pending}, failed ${f.failed}` +
      (f.retryingSince ? `, retrying since ${f.retryingSince}` : '') + (f.lastError ? `, last error: ${f.lastError}` : '');
  });
  return [...table, ...(queues.length > 0 ? ['', ...queues] : [])].join('\n') + '\n';
}
