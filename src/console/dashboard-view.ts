import type { DashboardProject } from './dashboard-data.js';
import { html, type SafeHtml } from './html.js';

/**
 * The dashboard's view of a project: figures, sentences and progress already worded, so that the
 * page rendered here and the served script that applies live updates show exactly the same.
 */
export interface ProjectView {
  readonly project: string;
  readonly figures: Readonly<Record<FigureKey, string>>;
  readonly notes: readonly string[];
  readonly progress: readonly ProgressView[];
  readonly reports: readonly ReportView[];
  /** Sample inspection found PHI in these batches: a flag linking to each. */
  readonly qaFlags: readonly QaFlagView[];
}
export interface QaFlagView { readonly label: string; readonly href: string }
export interface ProgressView { readonly key: 'drop' | 'retrieval'; readonly label: string; readonly value: number; readonly max: number }
export interface ReportView { readonly request: string; readonly finishedAt: string; readonly cells: readonly string[] }

export const FIGURES = [['received', 'Received'], ['delivered', 'Delivered'], ['quarantined', 'Quarantined'], ['failed', 'Failed'], ['pending', 'Pending'], ['lastActivity', 'Last activity']] as const;
type FigureKey = (typeof FIGURES)[number][0];
export const REPORT_COLUMNS = ['Request', 'Finished', 'Accessions', 'Found', 'Received', 'Delivered', 'Quarantined', 'Failed'] as const;

const queueNote = (name: string, q: NonNullable<DashboardProject['forward']>, done: string): string =>
  `${name} → ${q.destination}: ${done} ${q.forwarded}, pending ${q.pending}, failed ${q.failed}` +
  (q.retryingSince ? `, retrying since ${q.retryingSince}` : '') + (q.lastError ? `, last error: ${q.lastError}` : '');

/** `2026-12-02T13:07:48.830Z` as `2026-12-02 13:07:48 UTC`: the agent's clock is UTC, say so. */
const readableTime = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');

export function viewOf(p: DashboardProject): ProjectView {
  const notes: string[] = [];
  if (p.deferred) notes.push(`${p.deferred.count} deferred since ${p.deferred.since} (${p.deferred.code}); retried with backoff, nothing is lost`);
  if (p.source) notes.push(`Cloud inbox ${p.source.folder}: change feed ${p.source.position === null ? 'not started' : 'running'}`);
  if (p.upload) notes.push(queueNote('Upload queue', p.upload, 'uploaded'));
  if (p.forward) notes.push(queueNote('Forward queue', p.forward, 'forwarded'));
  if (p.retrievals) notes.push(`Retrievals: ${p.retrievals.waiting} waiting${p.retrievals.running ? ', 1 running' : ''}`);
  const progress: ProgressView[] = [];
  if (p.drop) progress.push({ key: 'drop', label: `Drop: ${p.drop.done} of ${p.drop.total} files settled`, value: p.drop.done, max: p.drop.total });
  const run = p.retrievals?.running;
  if (run) progress.push({ key: 'retrieval', label: `Retrieval ${run.request}: ${run.done} of ${run.total} accessions`, value: run.done, max: Math.max(1, run.total) });
  return {
    project: p.project,
    figures: { received: String(p.received), delivered: String(p.delivered), quarantined: String(p.quarantined), failed: String(p.failed),
      pending: String(p.pending), lastActivity: p.lastActivity ? readableTime(p.lastActivity) : '–' },
    notes, progress,
    qaFlags: (p.qaFlagged ?? []).map((b) => ({ label: `QA: PHI found in batch ${b}`, href: `/qa/${encodeURIComponent(p.project)}/${b}` })),
    reports: (p.retrievals?.reports ?? []).map((r) => ({ request: r.request, finishedAt: r.finishedAt,
      cells: [r.request, r.finishedAt, r.accessions, r.totals.found, r.totals.received, r.totals.delivered, r.totals.quarantined, r.totals.failed].map(String) })),
  };
}

/** One project's section; `data-*` attributes are where dashboard.js applies updates. */
export function renderProject(v: ProjectView, index: number): SafeHtml {
  const id = `project-${index}`;
  return html`
    <section class="project" data-project="${v.project}" aria-labelledby="${id}">
      <h2 id="${id}">${v.project}</h2>
      <dl class="figures">${FIGURES.map(([key, label]) => html`
        <div><dt>${label}</dt><dd data-field="${key}">${v.figures[key]}</dd></div>`)}
      </dl>
      <ul class="qa-flags" data-list="qa">${v.qaFlags.map((f) => html`<li><a href="${f.href}"><span aria-hidden="true">⚠ </span>${f.label}</a></li>`)}</ul>
      <div class="progress-list" data-list="progress">${v.progress.map((p, i) => renderProgress(p, `${id}-${p.key}-${i}`))}</div>
      <ul class="notes" data-list="notes">${v.notes.map((n) => html`<li>${n}</li>`)}</ul>
      <div data-list="reports"${v.reports.length === 0 ? html` hidden` : ''}>
        <table>
          <caption>Latest retrieval reports</caption>
          <thead><tr>${REPORT_COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
          <tbody>${v.reports.map((r) => html`<tr>${r.cells.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
        </table>
      </div>
    </section>`;
}

function renderProgress(p: ProgressView, id: string): SafeHtml {
  return html`<div class="progress"><label for="${id}">${p.label}</label> <progress id="${id}" max="${p.max}" value="${p.value}">${p.label}</progress></div>`;
}
