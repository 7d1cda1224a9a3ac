import { type QuarantineItem, ReviewError, listQuarantine, resolveItem } from '../review/quarantine-items.js';
import { frameInfoOf, renderFrame } from '../review/render-frame.js';
import { type ConsoleArea, canSee, csrfOf, userOf } from './context.js';
import { type SafeHtml, html } from './html.js';
import { addNavItem, page } from './layout.js';
import { VIEW_WIDTH, itemHref, itemPage, notFound, visible } from './quarantine-item-page.js';
import { boxesOfQuery } from './review-boxes.js';

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

/**
 * What the list says after an action redirected to it (`?done=<action>`): a flag from this fixed
 * set, carrying no data (not the item, not the project).
 */
const DONE: Readonly<Record<string, string>> = {
  release: 'Released: the item was delivered and left the quarantine.',
  clean: 'Cleaned and released: the item was delivered and left the quarantine.',
  discard: 'Discarded: the original was deleted.',
  fail: 'Sent back to failed: the original is in the project\'s failed folder.',
};

/** GET /quarantine (the held items of the account's projects), an item's viewer, and its frames as PNG. */
export const registerQuarantineRoutes: ConsoleArea = (app, ctx) => {
  addNavItem('/quarantine', 'Quarantine');

  app.get<{ Querystring: { done?: string } }>('/quarantine', async (request, reply) => {
    const user = userOf(request);
    const projects = ctx.config.projects.filter((p) => canSee(user, p.name));
    const sections = await Promise.all(projects.map(async (p) => html`<section aria-labelledby="q-${p.name}">
      <h2 id="q-${p.name}">${p.name}</h2>${itemsTable(p.name, await listQuarantine(p.quarantine))}</section>`));
    const done = typeof request.query.done === 'string' && Object.hasOwn(DONE, request.query.done) ? DONE[request.query.done] : undefined;
    const body = html`<h1>Quarantine</h1>${done ? html`<p role="status" class="flash">${done}</p>` : ''}${sections.length === 0 ? html`<p>No projects for this account.</p>` : sections}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Quarantine', user, csrf: csrfOf(request), body }));
  });

  app.get<{ Params: { project: string; id: string }; Querystring: { frame?: string } }>('/quarantine/:project/:id', async (request, reply) => {
    const project = visible(ctx, userOf(request), request.params.project);
    if (!project) return notFound(reply);
    let item: QuarantineItem;
    try {
      item = await resolveItem(project.quarantine, request.params.id);
    } catch (e) {
      if (e instanceof ReviewError) return notFound(reply, e);
      throw e;
    }
    const frame = Number.parseInt(request.query.frame ?? '0', 10) || 0;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(await itemPage(ctx, request, project, item, { frame }));
  });

  /**
   * A frame as PNG with the detector's boxes, or with `?boxes=x,y,w,h;…` (a reviewer's boxes of
   * this frame, whole pixels inside it, at most 64; empty: none) for the clean form's preview.
   */
  app.get<{ Params: { project: string; id: string; frame: string }; Querystring: { boxes?: unknown } }>('/quarantine/:project/:id/frame/:frame', async (request, reply) => {
    const project = visible(ctx, userOf(request), request.params.project);
    if (!project) return notFound(reply);
    try {
      if (!/^\d{1,7}$/.test(request.params.frame)) throw new ReviewError('bad-frame', 'a frame is a whole number from 0');
      const frame = Number(request.params.frame);
      const item = await resolveItem(project.quarantine, request.params.id);
      let boxes = item.boxes;
      const asked = request.query.boxes;
      if (asked !== undefined) {
        if (typeof asked !== 'string' || asked.length > 2048) throw new ReviewError('bad-boxes', 'boxes are x,y,w,h;… in whole pixels');
        const checked = boxesOfQuery(asked, frame, await frameInfoOf(item.path));
        if ('problem' in checked) throw new ReviewError('bad-boxes', checked.problem);
        boxes = checked.boxes;
      }
      const r = await renderFrame(item.path, boxes, { frame, maxWidth: VIEW_WIDTH });
      // The original's pixels: never cached on the way.
      return reply.type('image/png').header('cache-control', 'no-store').send(r.png);
    } catch (e) {
      if (e instanceof ReviewError) return notFound(reply, e);
      throw e;
    }
  });
};
