import type { FastifyReply, FastifyRequest } from 'fastify';
import { batchOutputs, listBatches } from '../qa/batches.js';
import { feedbackOf } from '../qa/feedback.js';
import { signOff } from '../qa/marks.js';
import type { BatchId } from '../qa/qa-paths.js';
import type { QaScope } from '../qa/qa-scope.js';
import { drawSample } from '../qa/sample-draw.js';
import { type ConsoleArea, csrfOf, userOf } from './context.js';
import { html } from './html.js';
import { addNavItem, page } from './layout.js';
import { type BatchPageState, type BatchRow, batchPage, projectBatches } from './qa-batch-page.js';
import { batchOfParam, notFound, qaHref, qaScopeFor, qaStatusOf, recordOf, refusalOf } from './qa-common.js';

/**
 * Sample inspection's batches: GET /qa (each visible project's batches with their sample state
 * and PHI-found flag), POST /qa/:project/:batch/draw, GET /qa/:project/:batch, POST
 * /qa/:project/:batch/sign-off, GET /qa/:project/feedback.json. Draws, marks and sign-offs are
 * done (and audited) by src/qa/ as `console:<account>`.
 */

type Params = { project: string; batch: string };
type Body = Record<string, unknown>;

/** Flashes after a redirect: fixed texts chosen by a key, carrying no data. */
const DONE: Readonly<Record<string, string>> = {
  drawn: 'Sample drawn and recorded with its seed.',
  marked: 'Every sample is marked: the batch can be signed off.',
  signed: 'The batch is signed off.',
};

async function rowsOf(scope: QaScope): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for (const summary of await listBatches(scope.storePath, scope.project)) {
    const record = await recordOf(scope, summary.id);
    rows.push({ summary, record, size: record?.batchSize ?? (await batchOutputs(scope.storePath, scope.project, summary.id)).length });
  }
  return rows;
}

function sendBatchPage(request: FastifyRequest, reply: FastifyReply, scope: QaScope, record: NonNullable<Awaited<ReturnType<typeof recordOf>>>, status: number, st: BatchPageState): FastifyReply {
  const body = batchPage(scope.project, record, csrfOf(request), st);
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store')
    .send(page({ title: `QA ${record.batch}`, user: userOf(request), csrf: csrfOf(request), body }));
}

export const registerQaRoutes: ConsoleArea = (app, ctx) => {
  addNavItem('/qa', 'QA');

  app.get('/qa', async (request, reply) => {
    const user = userOf(request);
    const csrf = csrfOf(request);
    const sections = [];
    for (const p of ctx.config.projects) {
      const scope = qaScopeFor(ctx, user, p.name);
      if (!scope) continue;
      sections.push(html`<section aria-labelledby="qa-${p.name}" class="qa-project"><h2 id="qa-${p.name}">${p.name}</h2>
        <p class="hint">A sample is ${scope.settings.percent} % of a batch, at least ${scope.settings.min}, at most ${scope.settings.max}.
          <a href="${qaHref(p.name)}/feedback.json" download>Download the project's feedback (JSON)</a></p>
        ${projectBatches(p.name, await rowsOf(scope), csrf)}</section>`);
    }
    const body = html`<h1>Sample inspection (QA)</h1>
      <p>Each day's deliveries and each retrieval request is a batch. Draw its sample, mark every sampled output clean or PHI found, then sign the batch off.</p>
      ${sections.length === 0 ? html`<p>No projects for this account.</p>` : sections}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'QA', user, csrf, body }));
  });

  app.get<{ Params: { project: string }; Querystring: { batch?: unknown } }>('/qa/:project/feedback.json', async (request, reply) => {
    const scope = qaScopeFor(ctx, userOf(request), request.params.project);
    if (!scope) return notFound(reply);
    const asked = request.query.batch;
    let batch: BatchId | undefined;
    if (asked !== undefined) {
      batch = typeof asked === 'string' ? batchOfParam(asked) : undefined;
      if (!batch) return reply.code(400).type('text/plain; charset=utf-8').send('A batch is day-YYYY-MM-DD or request-<12 hex digits>.');
    }
    const records = await feedbackOf(scope.storePath, scope.project, batch);
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="qa-feedback-${scope.project}${batch ? `-${batch}` : ''}.json"`)
      .send(`${JSON.stringify(records, null, 2)}\n`);
  });

  app.get<{ Params: Params; Querystring: { done?: unknown } }>('/qa/:project/:batch', async (request, reply) => {
    const scope = qaScopeFor(ctx, userOf(request), request.params.project);
    const batch = batchOfParam(request.params.batch);
    const record = scope && batch ? await recordOf(scope, batch) : undefined;
    if (!scope || !record) return notFound(reply);
    const done = request.query.done;
    const flash = typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done] : undefined;
    return sendBatchPage(request, reply, scope, record, 200, flash ? { flash } : {});
  });

  app.post<{ Params: Params }>('/qa/:project/:batch/draw', async (request, reply) => {
    const scope = qaScopeFor(ctx, userOf(request), request.params.project);
    const batch = batchOfParam(request.params.batch);
    if (!scope || !batch) return notFound(reply);
    const drawn = await refusalOf(() => drawSample(scope, batch, `console:${userOf(request).name}`));
    if ('error' in drawn) {
      const status = drawn.error.code === 'empty-batch' ? 404 : qaStatusOf(drawn.error);
      return reply.code(status).type('text/plain; charset=utf-8').send(status === 404 ? 'Not found' : drawn.error.message);
    }
    return reply.redirect(`${qaHref(scope.project, batch)}?done=drawn`, 303);
  });

  app.post<{ Params: Params; Body: Body }>('/qa/:project/:batch/sign-off', async (request, reply) => {
    const scope = qaScopeFor(ctx, userOf(request), request.params.project);
    const batch = batchOfParam(request.params.batch);
    const record = scope && batch ? await recordOf(scope, batch) : undefined;
    if (!scope || !batch || !record) return notFound(reply);
    const body: Body = request.body && typeof request.body === 'object' ? request.body : {};
    const comment = typeof body.comment === 'string' ? body.comment : '';
    if (comment.trim() === '') return sendBatchPage(request, reply, scope, record, 400, { alert: 'A comment is required to sign off (no identifiers).' });
    const signed = await refusalOf(() => signOff(scope, batch, `console:${userOf(request).name}`, comment));
    if ('error' in signed) {
      const e = signed.error;
      const alert = e.code === 'unmarked' ? `Not signed off: ${e.message}. Mark every sample first.` : `Not signed off: ${e.message}.`;
      return sendBatchPage(request, reply, scope, (await recordOf(scope, batch)) ?? record, qaStatusOf(e), { alert, comment });
    }
    return reply.redirect(`${qaHref(scope.project, batch)}?done=signed`, 303);
  });
};
