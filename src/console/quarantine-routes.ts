import type { FastifyReply } from 'fastify';
import type { ResolvedProjectConfig } from '../config/schema.js';
import { previewHeader } from '../review/header-preview.js';
import { type QuarantineItem, ReviewError, listQuarantine, resolveItem } from '../review/quarantine-items.js';
import { type FrameInfo, frameInfoOf, renderFrame } from '../review/render-frame.js';
import type { ReviewDesk } from '../review/review-desk.js';
import { type ConsoleArea, type ConsoleContext, type ConsoleUser, canSee, csrfOf, userOf } from './context.js';
import { type SafeHtml, html } from './html.js';
import { addNavItem, page } from './layout.js';

/** The viewer's image width: large frames are scaled down on the server, boxes with them. */
const VIEW_WIDTH = 1024;

/** The image's size on the page: as served (at most VIEW_WIDTH wide), small frames shown at a whole multiple up to ~512 wide. */
function displaySize(f: FrameInfo): { width: number; height: number } {
  const scale = f.columns < 512 ? Math.max(1, Math.floor(512 / f.columns)) : Math.min(1, VIEW_WIDTH / f.columns);
  return { width: Math.round(f.columns * scale), height: Math.round(f.rows * scale) };
}

/** HTTP status for a review error: ids and frames that are not valid 400, items not there 404. */
const statusOf = (e: ReviewError): number => (e.code === 'bad-id' || e.code === 'bad-frame' ? 400 : e.code === 'unknown' || e.code === 'gone' ? 404 : 422);

const visible = (ctx: ConsoleContext, user: ConsoleUser, name: string): ResolvedProjectConfig | undefined =>
  canSee(user, name) ? ctx.config.projects.find((p) => p.name === name) : undefined;

/** The project as the running agent processes it, for the preview (undefined without an agent). */
function deskOf(ctx: ConsoleContext, project: string): ReviewDesk | undefined {
  const processing = ctx.live?.reviewProcessing?.(project);
  return processing ? { ...processing, auditPath: ctx.auditPath } : undefined;
}

function notFound(reply: FastifyReply, e?: ReviewError): FastifyReply {
  return reply.code(e ? statusOf(e) : 404).type('text/plain; charset=utf-8').send(e ? e.message.replace(/^\[review\] /, '') : 'Not found');
}

const itemHref = (project: string, item: Pick<QuarantineItem, 'id'>): string => `/quarantine/${encodeURIComponent(project)}/${item.id}`;

function itemsTable(project: string, items: readonly QuarantineItem[]): SafeHtml {
  if (items.length === 0) return html`<p>Nothing is held.</p>`;
  return html`<table>
    <caption>Held in ${project}</caption>
    <thead><tr><th scope="col">Item</th><th scope="col">Reason</th><th scope="col">Findings</th><th scope="col">Held since</th><th scope="col">Size</th></tr></thead>
    <tbody>${items.map((i) => html`<tr>
      <td><a href="${itemHref(project, i)}"><code>${i.id}</code></a></td>
      <td>${i.reason}</td>
      <td>${i.findings.map((f) => html`${f.detector}: ${f.rule}${f.boxes > 0 ? ` (${f.boxes} box${f.boxes === 1 ? '' : 'es'})` : ''}<br>`)}</td>
      <td>${i.settledAt}</td>
      <td>${Math.ceil(i.bytes / 1024)} KiB</td>
    </tr>`)}</tbody>
  </table>`;
}

/** A naturalized value as text: strings and numbers as they are, the rest (names, sequences) as JSON. */
const shown = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));

/** GET /quarantine (the held items of the account's projects), an item's viewer, and its frames as PNG. */
export const registerQuarantineRoutes: ConsoleArea = (app, ctx) => {
  addNavItem('/quarantine', 'Quarantine');

  app.get('/quarantine', async (request, reply) => {
    const user = userOf(request);
    const projects = ctx.config.projects.filter((p) => canSee(user, p.name));
    const sections = await Promise.all(projects.map(async (p) => html`<section aria-labelledby="q-${p.name}">
      <h2 id="q-${p.name}">${p.name}</h2>${itemsTable(p.name, await listQuarantine(p.quarantine))}</section>`));
    const body = html`<h1>Quarantine</h1>${sections.length === 0 ? html`<p>No projects for this account.</p>` : sections}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Quarantine', user, csrf: csrfOf(request), body }));
  });

  app.get<{ Params: { project: string; id: string }; Querystring: { frame?: string } }>('/quarantine/:project/:id', async (request, reply) => {
    const user = userOf(request);
    const project = visible(ctx, user, request.params.project);
    if (!project) return notFound(reply);
    let item: QuarantineItem;
    try {
      item = await resolveItem(project.quarantine, request.params.id);
    } catch (e) {
      if (e instanceof ReviewError) return notFound(reply, e);
      throw e;
    }
    const info = await frameInfoOf(item.path);
    const frames = info.frameCount;
    const frame = Math.min(Math.max(0, Number.parseInt(request.query.frame ?? '0', 10) || 0), Math.max(0, frames - 1));
    const desk = deskOf(ctx, project.name);
    let preview: SafeHtml;
    if (!desk) {
      preview = html`<p>The header preview needs the running agent.</p>`;
    } else {
      try {
        const p = await previewHeader(desk, item.id);
        preview = html`<p>Patient: <strong>${p.pseudonym}</strong>, transfer syntax <code>${p.transferSyntax}</code>. Pixel data not shown.</p>
        <table><caption>Header as released</caption><thead><tr><th scope="col">Attribute</th><th scope="col">Value</th></tr></thead>
        <tbody>${Object.entries(p.dataset).map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${shown(v)}</code></td></tr>`)}</tbody></table>`;
      } catch (e) {
        if (!(e instanceof ReviewError)) throw e;
        preview = html`<p class="error">${e.message.replace(/^\[review\] /, '')}</p>`;
      }
    }
    const base = itemHref(project.name, item);
    const nav = frames > 1 ? html`<nav aria-label="Frames"><p>Frame ${frame + 1} of ${frames}
      ${frame > 0 ? html`<a href="${base}?frame=${frame - 1}">Previous frame</a>` : ''}
      ${frame + 1 < frames ? html`<a href="${base}?frame=${frame + 1}">Next frame</a>` : ''}</p></nav>` : '';
    const boxes = item.boxes.filter((b) => b.frame === frame).length;
    const body = html`<h1>Held item <code>${item.id}</code></h1>
    <p><a href="/quarantine">Back to the quarantine</a></p>
    <section aria-labelledby="why"><h2 id="why">Why it is held</h2>
      <p>${item.reason} (held since ${item.settledAt})</p>
      <ul>${item.findings.map((f) => html`<li>${f.detector}: ${f.rule}: ${f.reason}</li>`)}</ul></section>
    <section aria-labelledby="image"><h2 id="image">Image</h2>
      ${frames === 0 ? html`<p>No pixel data.</p>` : html`${nav}<img src="${base}/frame/${frame}" width="${displaySize(info).width}" height="${displaySize(info).height}" alt="Frame ${frame + 1} of the held image, ${boxes} text box${boxes === 1 ? '' : 'es'} outlined in red" class="held-image">`}</section>
    <section aria-labelledby="header"><h2 id="header">De-identified header</h2>${preview}</section>`;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(page({ title: `Held item ${item.id}`, user, csrf: csrfOf(request), body }));
  });

  app.get<{ Params: { project: string; id: string; frame: string } }>('/quarantine/:project/:id/frame/:frame', async (request, reply) => {
    const project = visible(ctx, userOf(request), request.params.project);
    if (!project) return notFound(reply);
    try {
      if (!/^\d{1,7}$/.test(request.params.frame)) throw new ReviewError('bad-frame', 'a frame is a whole number from 0');
      const item = await resolveItem(project.quarantine, request.params.id);
      const r = await renderFrame(item.path, item.boxes, { frame: Number(request.params.frame), maxWidth: VIEW_WIDTH });
      // The original's pixels: never cached on the way.
      return reply.type('image/png').header('cache-control', 'no-store').send(r.png);
    } catch (e) {
      if (e instanceof ReviewError) return notFound(reply, e);
      throw e;
    }
  });
};
