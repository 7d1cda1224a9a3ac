import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IMMEDIATE_DIR, parseAccessions } from '../sources/pacs-retrieval.js';

/**
 * A project's PACS retrievals as its requests folder shows them (works while the agent runs):
 * requests waiting, the one running with its progress, and the latest reports' totals. A request
 * is named by the same 12-hex id the agent's log uses (its file name's hash: an operator may have
 * put a name or an accession number in a file name); accession numbers are never shown.
 */
export interface RetrievalStatus {
  readonly waiting: number;
  readonly running?: { readonly request: string; readonly startedAt: string; readonly done: number; readonly total: number };
  readonly reports: readonly RetrievalReportSummary[];
}

export interface RetrievalReportSummary {
  readonly request: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly accessions: number;
  readonly refused: number;
  readonly totals: { readonly found: number; readonly notFound: number; readonly received: number; readonly delivered: number; readonly quarantined: number; readonly failed: number };
}

const REQUEST = /\.(csv|txt)$/i;
const REPORTS_SHOWN = 5;
export const requestId = (path: string): string => createHash('sha256').update(basename(path)).digest('hex').slice(0, 12);

const names = (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);

export async function retrievalStatus(requestsDir: string): Promise<RetrievalStatus> {
  let waiting = 0;
  let running: RetrievalStatus['running'];
  const reports: Array<RetrievalReportSummary & { readonly path: string }> = [];
  for (const dir of [join(requestsDir, IMMEDIATE_DIR), requestsDir]) {
    const entries = await names(dir);
    for (const n of entries) {
      if (n.startsWith('.')) continue;
      const path = join(dir, n);
      if (REQUEST.test(n)) {
        const progress = await readFile(`${path}.progress.json`, 'utf8').then((t) => JSON.parse(t) as { startedAt: string; done: unknown[] }, () => undefined);
        if (progress && !running) {
          const total = await readFile(path, 'utf8').then((t) => parseAccessions(t).accessions.length, () => progress.done.length);
          running = { request: requestId(path), startedAt: progress.startedAt, done: progress.done.length, total: Math.max(total, progress.done.length) };
        } else waiting += 1;
      } else if (n.endsWith('.report.json')) {
        const r = await readFile(path, 'utf8').then((t) => JSON.parse(t) as { startedAt: string; finishedAt: string; accessions: unknown[]; refused: unknown[]; totals: RetrievalReportSummary['totals'] }, () => undefined);
        if (r) {
          reports.push({ path, request: requestId(path.slice(0, -'.report.json'.length)), startedAt: r.startedAt, finishedAt: r.finishedAt,
            accessions: r.accessions.length, refused: r.refused.length, totals: r.totals });
        }
      }
    }
  }
  reports.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
  return { waiting, ...(running ? { running } : {}), reports: reports.slice(0, REPORTS_SHOWN).map(({ path: _path, ...r }) => r) };
}

export function formatRetrieval(project: string, r: RetrievalStatus): string[] {
  const lines = [`${project} retrievals: ${r.waiting} waiting${r.running ? `, running ${r.running.request} (${r.running.done}/${r.running.total} accessions)` : ''}`];
  for (const x of r.reports) {
    const t = x.totals;
    lines.push(`  ${x.request} finished ${x.finishedAt}: ${x.accessions} accession(s), ${t.found} found, ${t.received} received, ${t.delivered} delivered, ${t.quarantined} quarantined, ${t.failed} failed`);
  }
  return lines;
}
