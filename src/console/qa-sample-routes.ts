import type { FastifyReply, FastifyRequest } from 'fastify';
import { markSample, verdictsOf } from '../qa/marks.js';
import type { ImageRegion, MarkPlace, QaRecord, SampleItem } from '../qa/qa-record.js';
import type { QaScope } from '../qa/qa-scope.js';
import { sampleFacts, viewSample } from '../qa/sample-view.js';
import { ReviewError } from '../review/quarantine-items.js';
import { type ConsoleArea, csrfOf, userOf } from './context.js';
import { page } from './layout.js';
import { batchOfParam, notFound, qaHref, qaScopeFor, qaStatusOf, recordOf, refusalOf, sampleIndexOf } from './qa-common.js';
import { type MarkFormState, QA_VIEW_WIDTH, samplePage } from './qa-sample-page.js';

/**
 * A sampled output: GET /qa/:project/:batch/:n (its page), GET /qa/:project/:batch/:n/frame/:f
 * (a frame as PNG, never cached) and POST /qa/:project/:batch/:n/mark (clean or PHI found,
 * marked by src/qa/marks.ts as `console:<account>`, audited there). `n` is the index in the
 * sample from 1: no UID or path of the output is ever in a URL.
 */

type Params = { project: string; batch: string; n: string };
type Body = Record<string, unknown>;
const REGION_FIELDS = ['frame', 'x', 'y', 'w', 'h'] as const;

interface Resolved { readonly scope: QaScope; readonly record: QaRecord; readonly n: number; readonly item: SampleItem }

async function resolve(ctx: Parameters<ConsoleArea>[1], request: FastifyRequest<{ Params: Params }>): Promise<Resolved | undefined> {
  const scope = qaScopeFor(ctx, userOf(request), request.params.project);
  const batch = batchOfParam(request.params.batch);
  const record = scope && batch ? await recordOf(scope, batch) : undefined;
  const at = record ? sampleIndexOf(request.params.n, record) : undefined;
  return scope && record && at ? { scope, record, ...at } : undefined;
}

async function sendSamplePage(request: FastifyRequest, reply: FastifyReply, r: Resolved, status: number, o: { frame?: number; form?: MarkFormState; saved?: number }): Promise<FastifyReply> {
  const facts = await sampleFacts(r.scope, r.item);
  const frames = facts.kind === 'available' ? facts.frames : { frameCount: 0, columns: 0, rows: 0 };
  const frame = Math.min(Math.max(0, o.frame ?? 0), Math.max(0, frames.frameCount - 1));
  const body = samplePage({
    project: r.scope.project, record: r.record, n: r.n, frames, frame, csrf: csrfOf(request), form: o.form ?? {},
    ...(facts.kind === 'available' ? { attributes: facts.attributes } : { unavailable: facts.kind }), ...(o.saved ? { saved: o.saved } : {}),
  });
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store')
    .send(page({ title: `QA sample ${r.n} of ${r.record.batch}`, user: userOf(request), csrf: csrfOf(request), body }));
}

const field = (body: Body, name: string): string => (typeof body[name] === 'string' ? body[name] : '');

/** The posted region: none when all five are empty; whole numbers otherwise. */
function regionOf(body: Body): { region?: ImageRegion } | { problem: string } {
  const values = REGION_FIELDS.map((k) => field(body, `region_${k}`).trim());
  if (values.every((v) => v === '')) return {};
  if (!values.every((v) => /^\d{1,6}$/.test(v))) return { problem: 'An image region is five whole numbers (frame, x, y, width, height), or leave all five empty.' };
  const [frame, x, y, width, height] = values.map(Number) as [number, number, number, number, number];
  return { region: { frame, x, y, width, height } };
}

/** The next unmarked sample after `n` (wrapping), or undefined when every one is marked. */
function nextUnmarked(record: QaRecord, n: number): number | undefined {
  const marked = verdictsOf(record);
  for (let k = 1; k <= record.sample.length; k++) {
    const i = (n - 1 + k) % record.sample.length;
    const item = record.sample[i];
    if (item && !marked.has(item.sop)) return i + 1;
  }
  return undefined;
}

export const registerQaSampleRoutes: ConsoleArea = (app, ctx) => {
  app.get<{ Params: Params; Querystring: { frame?: unknown; saved?: unknown } }>('/qa/:project/:batch/:n', async (request, reply) => {
    const r = await resolve(ctx, request);
    if (!r) return notFound(reply);
    const q = request.query;
    const frame = typeof q.frame === 'string' && /^\d{1,6}$/.test(q.frame) ? Number(q.frame) : 0;
    const saved = typeof q.saved === 'string' && /^\d{1,5}$/.test(q.saved) ? Number(q.saved) : undefined;
    return sendSamplePage(request, reply, r, 200, { frame, ...(saved ? { saved } : {}) });
  });

  app.get<{ Params: Params & { frame: string } }>('/qa/:project/:batch/:n/frame/:frame', async (request, reply) => {
    const r = await resolve(ctx, request);
    if (!r) return notFound(reply);
    if (!/^\d{1,6}$/.test(request.params.frame)) return reply.code(400).type('text/plain; charset=utf-8').send('A frame is a whole number from 0.');
    try {
      const view = await viewSample(r.scope, r.item, { frame: Number(request.params.frame), maxWidth: QA_VIEW_WIDTH });
      if (view.kind !== 'available' || !('png' in view.image)) return notFound(reply);
      // A delivered output's pixels: never cached on the way.
      return reply.type('image/png').header('cache-control', 'no-store').send(view.image.png);
    } catch (e) {
      if (e instanceof ReviewError) return reply.code(e.code === 'bad-frame' ? 400 : 404).type('text/plain; charset=utf-8').send('No such frame.');
      throw e;
    }
  });

  app.post<{ Params: Params; Body: Body }>('/qa/:project/:batch/:n/mark', async (request, reply) => {
    const r = await resolve(ctx, request);
    if (!r) return notFound(reply);
    const body: Body = request.body && typeof request.body === 'object' ? request.body : {};
    const verdict = field(body, 'verdict');
    const attribute = field(body, 'attribute');
    const note = field(body, 'note');
    const form: MarkFormState = {
      verdict, attribute, note,
      region: Object.fromEntries(REGION_FIELDS.map((k) => [k, field(body, `region_${k}`)])) as MarkFormState['region'],
    };
    const again = (status: number, alert: string): Promise<FastifyReply> => sendSamplePage(request, reply, r, status, { form: { ...form, alert } });
    if (verdict !== 'clean' && verdict !== 'phi-found') return again(400, 'Choose a verdict: clean or PHI found.');
    let place: MarkPlace = { note };
    if (verdict === 'phi-found') {
      const region = regionOf(body);
      if ('problem' in region) return again(400, region.problem);
      if (attribute === '' && !region.region) return again(400, 'PHI found: choose the attribute, or give the image region, where you saw it.');
      if (note.trim() === '') return again(400, 'PHI found needs a note: say what you saw (no identifiers).');
      place = { note, ...(attribute !== '' ? { attribute } : {}), ...(region.region ? { region: region.region } : {}) };
    }
    const marked = await refusalOf(() => markSample(r.scope, r.record.batch, r.item.sop, verdict, place, `console:${userOf(request).name}`));
    if ('error' in marked) return again(qaStatusOf(marked.error), `Not marked: ${marked.error.message}.`);
    const record = (await recordOf(r.scope, r.record.batch)) ?? r.record;
    const next = nextUnmarked(record, r.n);
    return reply.redirect(next ? `${qaHref(r.scope.project, record.batch, next)}?saved=${r.n}` : `${qaHref(r.scope.project, record.batch)}?done=marked`, 303);
  });
};
