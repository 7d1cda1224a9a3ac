import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedProjectConfig } from '../config/schema.js';
import type { TextBox } from '../detect/detector.js';
import { type QuarantineItem, ReviewError, resolveItem } from '../review/quarantine-items.js';
import { cleanAndReleaseItem, discardItem, releaseItem, sendBackToFailed } from '../review/quarantine-actions.js';
import { frameInfoOf } from '../review/render-frame.js';
import { type ConsoleArea, type ConsoleContext, csrfOf, userOf } from './context.js';
import { html } from './html.js';
import { page } from './layout.js';
import { MAX_COMMENT, type ReviewAction, isAction } from './quarantine-action-forms.js';
import { deskOf, itemPage, messageOf, statusOf, visible } from './quarantine-item-page.js';
import { type BoxRow, boxesOfRows, rowsOfBoxes, rowsOfForm, sameBoxes } from './review-boxes.js';
import { REVIEW_BOXES_JS } from './review-boxes-script.js';
import { addStaticAsset } from './static-assets.js';

/**
 * POST /quarantine/:project/:id/(release|clean|discard|fail): the reviewer's decisions, done by
 * src/review/quarantine-actions.ts as `console:<account>`. A refusal (no comment, bad boxes, the
 * item settled meanwhile, an expired agreement, text still found) shows the item's page again
 * with the message in the form that was posted; success redirects (303) to the quarantine list
 * with a flag saying which action was done, and nothing else.
 */

type Body = Record<string, unknown>;

/** Why an action cannot be done now, in the reviewer's words (never an input value). */
function explain(e: ReviewError): string {
  switch (e.code) {
    case 'unknown':
    case 'gone':
      return 'This item is no longer held: it was already settled (released, discarded or sent back), perhaps by another reviewer.';
    case 'dua-expired':
      return `Not delivered: ${messageOf(e)}. Renew the project's data use agreement first.`;
    case 'held':
      return `Not delivered, the item stays held: ${messageOf(e)}.`;
    default:
      return `Not done: ${messageOf(e)}.`;
  }
}

/** A page for an item that is not (or no longer) there. */
function gonePage(request: FastifyRequest, message: string): string {
  return page({
    title: 'Item not held', user: userOf(request), csrf: csrfOf(request),
    body: html`<h1>Item not held</h1><p role="alert" class="error">${message}</p><p><a href="/quarantine">Back to the quarantine</a></p>`,
  });
}

interface Posted {
  readonly action: ReviewAction;
  readonly comment: string;
  readonly rows: readonly BoxRow[] | undefined;
}

async function act(ctx: ConsoleContext, request: FastifyRequest, project: ResolvedProjectConfig, item: QuarantineItem, posted: Posted, body: Body): Promise<{ problem?: string; status?: number; error?: ReviewError }> {
  const desk = deskOf(ctx, project.name);
  if (!desk) return { problem: 'The actions need the running agent (deid-agent start).', status: 503 };
  const req = { who: `console:${userOf(request).name}`, comment: posted.comment };
  try {
    switch (posted.action) {
      case 'release':
        await releaseItem(desk, item.id, req);
        break;
      case 'discard':
        if (body.confirm !== 'yes') return { problem: 'Tick "I understand the original is deleted" to discard.' };
        await discardItem(desk, item.id, req);
        break;
      case 'fail':
        await sendBackToFailed(desk, item.id, req);
        break;
      case 'clean': {
        const info = await frameInfoOf(item.path);
        const checked = boxesOfRows(posted.rows ?? [], info);
        if ('problem' in checked) return { problem: checked.problem };
        if (checked.boxes.length === 0) return { problem: 'Include at least one box to clean (or release as is).' };
        // The detector's boxes kept as they were: the library cleans its own (the audit says not adjusted).
        const unchanged = sameBoxes(checked.boxes, boxesOfDetector(item, info));
        await cleanAndReleaseItem(desk, item.id, unchanged ? req : { ...req, boxes: checked.boxes });
        break;
      }
    }
    return {};
  } catch (e) {
    if (e instanceof ReviewError) return { error: e };
    throw e;
  }
}

function boxesOfDetector(item: QuarantineItem, info: { frameCount: number; columns: number; rows: number }): TextBox[] {
  const checked = boxesOfRows(rowsOfBoxes(item.boxes, info), info);
  return 'boxes' in checked ? checked.boxes : [];
}

export const registerQuarantineActionRoutes: ConsoleArea = (app, ctx) => {
  addStaticAsset('review-boxes.js', { type: 'text/javascript; charset=utf-8', body: REVIEW_BOXES_JS });

  app.post<{ Params: { project: string; id: string; action: string }; Body: Body }>('/quarantine/:project/:id/:action', async (request, reply) => {
    const { action } = request.params;
    const project = visible(ctx, userOf(request), request.params.project);
    if (!project || !isAction(action)) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    const body: Body = request.body && typeof request.body === 'object' ? request.body : {};
    let item: QuarantineItem;
    try {
      item = await resolveItem(project.quarantine, request.params.id);
    } catch (e) {
      if (!(e instanceof ReviewError)) throw e;
      return reply.code(statusOf(e)).type('text/html; charset=utf-8').send(gonePage(request, explain(e)));
    }
    const comment = typeof body.comment === 'string' ? body.comment : '';
    const rows = action === 'clean' ? rowsOfForm(body) : undefined;
    const frame = typeof body.frame === 'string' ? Number.parseInt(body.frame, 10) || 0 : 0;
    const again = (status: number, message?: string): Promise<FastifyReply> => itemPage(ctx, request, project, item, {
      frame, previewRows: action === 'clean',
      forms: { ...(rows ? { rows } : {}), comments: { [action]: comment }, ...(message ? { alert: { action, message } } : {}) },
    }).then((text) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(text));

    if (action === 'clean' && rows === undefined) return again(400, 'Too many boxes in the form.');
    if (action === 'clean' && body.intent === 'preview') {
      const checked = boxesOfRows(rows ?? [], await frameInfoOf(item.path));
      return again('problem' in checked ? 400 : 200, 'problem' in checked ? checked.problem : undefined);
    }
    if (comment.trim() === '') return again(400, 'A comment is required: say why (no identifiers).');
    if (comment.length > MAX_COMMENT) return again(400, `A comment has at most ${MAX_COMMENT} characters.`);
    const result = await act(ctx, request, project, item, { action, comment, rows }, body);
    if (result.error && (result.error.code === 'gone' || result.error.code === 'unknown')) {
      return reply.code(404).type('text/html; charset=utf-8').send(gonePage(request, explain(result.error)));
    }
    if (result.error) return again(statusOf(result.error), explain(result.error));
    if (result.problem) return again(result.status ?? 400, result.problem);
    return reply.redirect(`/quarantine?done=${action}`, 303);
  });
};
