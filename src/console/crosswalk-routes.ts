import type { FastifyReply, FastifyRequest } from 'fastify';
import { lookUpCrosswalk } from '../broker/crosswalk-lookup.js';
import { UsageError } from '../config/usage-error.js';
import { StoreError } from '../store/secure-json-file.js';
import type { OpenedCrosswalk } from '../store/crosswalk-reader.js';
import { type ConsoleArea, type ConsoleUser, canSee, csrfOf, userOf } from './context.js';
import { type SafeHtml, html } from './html.js';
import { addNavItem, page } from './layout.js';

/**
 * The honest broker's look-up in the console (broker accounts only): a form posted, never a
 * query string, so no identifier is ever in a URL, a browser history or a proxy's log. Each
 * look-up is audited (who, project, pseudonyms returned), as the CLI's is.
 */

const MAX_VALUE = 64;

interface LookupForm {
  readonly project?: unknown;
  readonly by?: unknown;
  readonly value?: unknown;
}

function form(user: ConsoleUser, csrf: string, projects: readonly string[], chosen?: { project: string; by: string }): SafeHtml {
  return html`<form method="post" action="/crosswalk" class="lookup">
    <input type="hidden" name="_csrf" value="${csrf}">
    <p><label for="xw-project">Project</label>
      <select id="xw-project" name="project" required>${projects.map((p) => html`<option value="${p}"${chosen?.project === p ? html` selected` : ''}>${p}</option>`)}</select></p>
    <fieldset><legend>Look up by</legend>
      <label><input type="radio" name="by" value="pseudonym"${chosen?.by !== 'patient-id' ? html` checked` : ''}> Pseudonym</label>
      <label><input type="radio" name="by" value="patient-id"${chosen?.by === 'patient-id' ? html` checked` : ''}> Original Patient ID</label>
    </fieldset>
    <p><label for="xw-value">Pseudonym or Patient ID</label>
      <input id="xw-value" name="value" type="text" required maxlength="${MAX_VALUE}" autocomplete="off" spellcheck="false"></p>
    <p class="hint">Every look-up is written to the audit log under your account (${user.name}).</p>
    <p><button type="submit">Look up</button></p>
  </form>`;
}

function result(opened: OpenedCrosswalk): SafeHtml {
  if (opened.rows.length === 0) return html`<p role="status">No match in ${opened.project}.</p>`;
  return html`<table>
    <caption>Crosswalk of ${opened.project} (date shift ${opened.dateShiftDays} days)</caption>
    <thead><tr><th scope="col">Pseudonym</th><th scope="col">Patient ID</th><th scope="col">Issuer</th><th scope="col">Name</th><th scope="col">Birth date</th><th scope="col">First seen</th></tr></thead>
    <tbody>${opened.rows.map((r) => html`<tr><td>${r.pseudonym}</td><td>${r.patientId}</td><td>${r.issuerOfPatientId}</td><td>${r.patientName}</td><td>${r.birthDate}</td><td>${r.firstSeen}</td></tr>`)}</tbody>
  </table>`;
}

/** GET /crosswalk (the form) and POST /crosswalk (a look-up): broker accounts only. */
export const registerCrosswalkRoutes: ConsoleArea = (app, ctx) => {
  addNavItem('/crosswalk', 'Crosswalk');
  const projectsOf = (user: ConsoleUser): string[] => ctx.config.projects.map((p) => p.name).filter((n) => canSee(user, n));

  const forbidden = (request: FastifyRequest, reply: FastifyReply, user: ConsoleUser): FastifyReply =>
    reply.code(403).type('text/html; charset=utf-8').send(page({
      title: 'Crosswalk', user, csrf: csrfOf(request),
      body: html`<h1>Crosswalk</h1><p>Re-identification is for the honest broker's accounts only.</p>`,
    }));

  app.get('/crosswalk', async (request, reply) => {
    const user = userOf(request);
    if (user.role !== 'broker') return forbidden(request, reply, user);
    const body = html`<h1>Crosswalk</h1>${form(user, csrfOf(request), projectsOf(user))}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Crosswalk', user, csrf: csrfOf(request), body }));
  });

  app.post<{ Body: LookupForm }>('/crosswalk', async (request, reply) => {
    const user = userOf(request);
    if (user.role !== 'broker') return forbidden(request, reply, user);
    const { project, by, value } = request.body ?? {};
    const projects = projectsOf(user);
    const problem = typeof project !== 'string' || !projects.includes(project) ? 'Choose one of your projects.'
      : by !== 'pseudonym' && by !== 'patient-id' ? 'Choose what to look up by.'
        : typeof value !== 'string' || value.trim() === '' || value.length > MAX_VALUE ? `Give a value of at most ${MAX_VALUE} characters.` : undefined;
    let outcome: SafeHtml;
    if (problem !== undefined || typeof project !== 'string' || typeof value !== 'string') {
      reply.code(400);
      outcome = html`<p role="alert">${problem ?? 'Invalid look-up.'}</p>`;
    } else {
      try {
        const query = by === 'pseudonym' ? { pseudonym: value.trim() } : { patientId: value.trim() };
        outcome = result(await lookUpCrosswalk(ctx.config, project, query, `console:${user.name}`));
      } catch (e) {
        // Store errors name files and keys' places, never identifiers; anything else by kind only.
        if (!(e instanceof StoreError || e instanceof UsageError)) throw e;
        reply.code(409);
        outcome = html`<p role="alert">${e.message}</p>`;
      }
    }
    const chosen = typeof project === 'string' && typeof by === 'string' ? { project, by } : undefined;
    const body = html`<h1>Crosswalk</h1>${form(user, csrfOf(request), projects, chosen)}<section aria-label="Result">${outcome}</section>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Crosswalk', user, csrf: csrfOf(request), body }));
  });
};
