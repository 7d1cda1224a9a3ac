import { type AuditRecord, readAudit } from '../audit/audit-log.js';
import { type ConsoleArea, type ConsoleUser, csrfOf, userOf } from './context.js';
import { html } from './html.js';
import { addNavItem, page } from './layout.js';

const SHOWN = 500;

/**
 * Which audit lines an account may read: a broker all of them; a reviewer those of their own
 * projects and their own actions, but never the broker's crosswalk actions (that a patient was
 * re-identified is the broker's business).
 */
export function visibleTo(user: ConsoleUser, r: AuditRecord): boolean {
  if (user.role === 'broker') return true;
  if (r.action.startsWith('crosswalk.')) return false;
  return r.who === `console:${user.name}` || (r.project !== undefined && user.projects.includes(r.project));
}

const detailText = (d: AuditRecord['detail']): string => (d ? Object.entries(d).map(([k, v]) => `${k}: ${String(v)}`).join(', ') : '');

/** GET /audit: the newest lines of the audit log the account may read, and whether the chain holds. */
export const registerAuditRoutes: ConsoleArea = (app, ctx) => {
  addNavItem('/audit', 'Audit log');
  app.get('/audit', async (request, reply) => {
    const user = userOf(request);
    const { records, brokenAt, cutShort } = await readAudit(ctx.auditPath);
    const rows = records.filter((r) => visibleTo(user, r)).slice(-SHOWN).reverse();
    const body = html`<h1>Audit log</h1>
    <p role="status" class="${brokenAt === undefined && cutShort === undefined ? 'chain-ok' : 'chain-broken'}">${brokenAt !== undefined
      ? `The chain breaks at line ${brokenAt}: a line was edited, removed or inserted there. Entries after it are not shown.`
      : cutShort !== undefined
        ? `The log ends at entry ${cutShort.lastSeq}, but its head says ${cutShort.headSeq}: entries were removed from its end.`
        : `The chain holds: ${records.length} entries, none edited or removed.`}</p>
    ${rows.length === 0 ? html`<p>No entries for this account yet.</p>` : html`<table class="audit">
      <caption>Newest first (at most ${SHOWN})</caption>
      <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Project</th><th scope="col">Input</th><th scope="col">Pseudonyms</th><th scope="col">Comment</th><th scope="col">Detail</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr>
        <td>${r.seq}</td><td>${r.at}</td><td>${r.who}</td><td>${r.action}</td><td>${r.project ?? ''}</td>
        <td>${r.inputHash ? html`<code title="${r.inputHash}">${r.inputHash.slice(0, 12)}</code>` : ''}</td>
        <td>${(r.pseudonyms ?? []).join(', ')}</td><td>${r.comment ?? ''}</td><td>${detailText(r.detail)}</td>
      </tr>`)}</tbody>
    </table>`}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Audit log', user, csrf: csrfOf(request), body }));
  });
};
