import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedProjectConfig } from '../config/schema.js';
import type { TextBox } from '../detect/detector.js';
import { previewHeader } from '../review/header-preview.js';
import { type QuarantineItem, ReviewError } from '../review/quarantine-items.js';
import { type FrameInfo, frameInfoOf } from '../review/render-frame.js';
import type { ReviewDesk } from '../review/review-desk.js';
import { type ConsoleContext, type ConsoleUser, canSee, csrfOf, userOf } from './context.js';
import { type SafeHtml, html } from './html.js';
import { page } from './layout.js';
import { type ActionFormsState, actionForms } from './quarantine-action-forms.js';
import { boxesOfRows, boxesQuery, rowsOfBoxes } from './review-boxes.js';

/**
 * An item's page (why it is held, the frame with its boxes, the header release would deliver,
 * and the action forms), shared by GET /quarantine/:project/:id and the action posts that show
 * it again with a refusal or a preview of the reviewer's boxes.
 */

/** The viewer's image width: large frames are scaled down on the server, boxes with them. */
export const VIEW_WIDTH = 1024;

/** The image's size on the page: as served (at most VIEW_WIDTH wide), small frames shown at a whole multiple up to ~512 wide. */
function displaySize(f: FrameInfo): { width: number; height: number } {
  const scale = f.columns < 512 ? Math.max(1, Math.floor(512 / f.columns)) : Math.min(1, VIEW_WIDTH / f.columns);
  return { width: Math.round(f.columns * scale), height: Math.round(f.rows * scale) };
}

const BAD_REQUEST: ReadonlySet<ReviewError['code']> = new Set(['bad-id', 'bad-frame', 'bad-boxes', 'no-comment', 'ambiguous']);

/**
 * HTTP status for a review error: what the request got wrong 400, items not there (or settled
 * meanwhile) 404, an image that cannot be rendered 422, what the project refuses now (an expired
 * agreement, text still found, a delivery that failed) 409.
 */
export const statusOf = (e: ReviewError): number =>
  BAD_REQUEST.has(e.code) ? 400 : e.code === 'unknown' || e.code === 'gone' ? 404 : e.code === 'unrenderable' ? 422 : 409;

export const visible = (ctx: ConsoleContext, user: ConsoleUser, name: string): ResolvedProjectConfig | undefined =>
  canSee(user, name) ? ctx.config.projects.find((p) => p.name === name) : undefined;

/** The project as the running agent processes it, for the preview and the actions (undefined without an agent). */
export function deskOf(ctx: ConsoleContext, project: string): ReviewDesk | undefined {
  const processing = ctx.live?.reviewProcessing?.(project);
  return processing ? { ...processing, auditPath: ctx.auditPath } : undefined;
}

/** A review error's message without its prefix (the messages never quote an input value). */
export const messageOf = (e: ReviewError): string => e.message.replace(/^\[review\] /, '');

export function notFound(reply: FastifyReply, e?: ReviewError): FastifyReply {
  return reply.code(e ? statusOf(e) : 404).type('text/plain; charset=utf-8').send(e ? messageOf(e) : 'Not found');
}

export const itemHref = (project: string, item: Pick<QuarantineItem, 'id'>): string => `/quarantine/${encodeURIComponent(project)}/${item.id}`;

/** A naturalized value as text: strings and numbers as they are, the rest (names, sequences) as JSON. */
const shown = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));

async function headerSection(desk: ReviewDesk | undefined, item: QuarantineItem): Promise<SafeHtml> {
  if (!desk) return html`<p>The header preview needs the running agent.</p>`;
  try {
    const p = await previewHeader(desk, item.id);
    return html`<p>Patient: <strong>${p.pseudonym}</strong>, transfer syntax <code>${p.transferSyntax}</code>. Pixel data not shown.</p>
        <table><caption>Header as released</caption><thead><tr><th scope="col">Attribute</th><th scope="col">Value</th></tr></thead>
        <tbody>${Object.entries(p.dataset).map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${shown(v)}</code></td></tr>`)}</tbody></table>`;
  } catch (e) {
    if (!(e instanceof ReviewError)) throw e;
    return html`<p class="error">${messageOf(e)}</p>`;
  }
}

export interface ItemPageOptions {
  readonly frame?: number;
  /** The action forms' state: the posted rows, comments and refusal (the detector's boxes otherwise). */
  readonly forms?: Partial<ActionFormsState>;
  /** The image shows the clean form's included rows instead of the detector's boxes. */
  readonly previewRows?: boolean;
}

/** The whole page of one held item, as HTML. */
export async function itemPage(ctx: ConsoleContext, request: FastifyRequest, project: ResolvedProjectConfig, item: QuarantineItem, o: ItemPageOptions = {}): Promise<string> {
  const user = userOf(request);
  const info = await frameInfoOf(item.path);
  const frames = info.frameCount;
  const frame = Math.min(Math.max(0, o.frame ?? 0), Math.max(0, frames - 1));
  const rows = o.forms?.rows ?? rowsOfBoxes(item.boxes, info);
  let shownBoxes: readonly TextBox[] = item.boxes;
  let src = `${itemHref(project.name, item)}/frame/${frame}`;
  if (o.previewRows) {
    const checked = boxesOfRows(rows, info);
    shownBoxes = 'boxes' in checked ? checked.boxes : [];
    src += `?boxes=${encodeURIComponent(boxesQuery(shownBoxes, frame))}`;
  }
  const base = itemHref(project.name, item);
  const nav = frames > 1 ? html`<nav aria-label="Frames"><p>Frame ${frame + 1} of ${frames}
      ${frame > 0 ? html`<a href="${base}?frame=${frame - 1}">Previous frame</a>` : ''}
      ${frame + 1 < frames ? html`<a href="${base}?frame=${frame + 1}">Next frame</a>` : ''}</p></nav>` : '';
  const boxes = shownBoxes.filter((b) => b.frame === frame).length;
  const size = displaySize(info);
  const whose = o.previewRows ? 'yours' : 'the detector\'s';
  const body = html`<h1>Held item <code>${item.id}</code></h1>
    <p><a href="/quarantine">Back to the quarantine</a></p>
    <section aria-labelledby="why"><h2 id="why">Why it is held</h2>
      <p>${item.reason} (held since ${item.settledAt})</p>
      <ul>${item.findings.map((f) => html`<li>${f.detector}: ${f.rule}: ${f.reason}</li>`)}</ul></section>
    <div class="review-grid"><section aria-labelledby="image" class="viewer"><h2 id="image">Image</h2>
      ${frames === 0 ? html`<p>No pixel data.</p>` : html`${nav}<div class="image-frame" id="image-frame"><img src="${src}" width="${size.width}" height="${size.height}" alt="Frame ${frame + 1} of the held image, ${boxes} text box${boxes === 1 ? '' : 'es'} outlined in red (${whose})" class="held-image" id="held-image" data-frame="${frame}" data-src="${base}/frame/${frame}" data-columns="${info.columns}" data-rows="${info.rows}"></div>`}</section>
    ${actionForms(base, csrfOf(request), info, frame, { rows, comments: o.forms?.comments, alert: o.forms?.alert })}</div>
    <section aria-labelledby="header"><h2 id="header">De-identified header</h2>${await headerSection(deskOf(ctx, project.name), item)}</section>`;
  return page({ title: `Held item ${item.id}`, user, csrf: csrfOf(request), body, scripts: ['/static/review-boxes.js'] });
}
