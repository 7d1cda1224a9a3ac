import type { ServerResponse } from 'node:http';
import { type ConsoleArea, csrfOf, userOf } from './context.js';
import { DashboardFeed, snapshotFor } from './dashboard-data.js';
import { renderProject, viewOf } from './dashboard-view.js';
import { html } from './html.js';
import { page } from './layout.js';
import { SECURITY_HEADERS } from './security.js';

const HEARTBEAT_MS = 15_000;

/** GET / (the dashboard), GET /api/status (its JSON), GET /events (its live updates). */
export const registerDashboardRoutes: ConsoleArea = (app, ctx) => {
  const feed = new DashboardFeed(ctx);
  const streams = new Set<ServerResponse>();
  // preClose, not onClose: close() waits for open requests before onClose runs, and an event
  // stream stays open until ended here; a browser left on the dashboard would hang the shutdown.
  app.addHook('preClose', async () => {
    feed.stop();
    for (const s of streams) s.end();
  });

  app.get('/', async (request, reply) => {
    const user = userOf(request);
    const views = snapshotFor(user, await feed.current()).projects.map(viewOf);
    const body = html`
    <h1>Dashboard</h1>
    <p id="live-status" class="live" role="status">Live updates connecting…</p>
    <div class="projects">${views.length === 0 ? html`<p>No projects for this account.</p>` : views.map((v, i) => renderProject(v, i))}</div>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Dashboard', user, csrf: csrfOf(request), body, scripts: ['/static/dashboard.js'] }));
  });

  app.get('/api/status', async (request) => ({ projects: snapshotFor(userOf(request), await feed.current()).projects.map(viewOf) }));

  app.get('/events', { exposeHeadRoute: false }, (request, reply) => {
    const user = userOf(request);
    const sessionId = request.console.sessionId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    streams.add(res);
    let last = '';
    let ended = false;
    const send = async (): Promise<void> => {
      // The stream does not keep a session alive, and ends with it (idle timeout, logout).
      if (!ctx.sessions.get(sessionId, false)) return end();
      const data = JSON.stringify({ projects: snapshotFor(user, await feed.current()).projects.map(viewOf) });
      if (data !== last && !ended) {
        last = data;
        res.write(`event: snapshot\ndata: ${data}\n\n`);
      }
    };
    const unsubscribe = feed.subscribe(() => void send());
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const end = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(heartbeat);
      streams.delete(res);
      res.end();
    };
    request.raw.on('close', end);
    res.on('close', end);
    ctx.log.info({ method: 'GET', route: '/events', status: 200, account: user.name }, 'console request');
    void send();
  });
};
