import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPathOf, readAudit } from '../../src/audit/audit-log.js';
import { ALICE, BOB, ConsoleClient, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

interface Snapshot { projects: Array<{ project: string; figures: Record<string, string>; progress: Array<{ key: string; value: number; max: number }> }> }

/** Reads server-sent events from a fetch body until `until` accepts a snapshot (or the deadline). */
async function readSnapshots(res: Response, until: (s: Snapshot, all: Snapshot[]) => boolean, timeoutMs = 20_000): Promise<{ snapshots: Snapshot[]; raw: string }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const snapshots: Snapshot[] = [];
  let raw = '';
  let buffer = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      raw += text;
      buffer += text;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^event: snapshot\ndata: (.*)$/m.exec(event)?.[1];
        if (data === undefined) continue;
        const s = JSON.parse(data) as Snapshot;
        snapshots.push(s);
        if (until(s, snapshots)) return { snapshots, raw };
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return { snapshots, raw };
}

describe('review console over HTTP (a real agent, 127.0.0.1)', () => {
  let f: ConsoleFixture;
  beforeAll(async () => { f = await startConsoleFixture(); });
  afterAll(async () => { await f.close(); });

  it('without a session: pages redirect to the login page, the API and the event stream answer 401, and nothing else shows', async () => {
    const c = new ConsoleClient(f.url);
    for (const path of ['/', '/quarantine/0123456789ab', '/no-such-page?patient=Doe']) {
      const res = await c.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe('/login');
      expect(await res.text()).toBe('');
    }
    for (const path of ['/api/status', '/api/anything', '/events']) {
      const res = await c.request(path);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toEqual({ error: 'login required' });
    }
    expect((await c.request('/logout', { method: 'POST', headers: { origin: f.url } })).status).toBe(401);
    const login = await c.request('/login');
    expect(login.status).toBe(200);
    const page = await login.text();
    expect(page).toMatch(/<label for="name">Account<\/label>/);
    expect(page).toMatch(/<label for="password">Password<\/label>/);
    expect(page).not.toMatch(/<script|style=/);
    expect(login.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(login.headers.get('x-content-type-options')).toBe('nosniff');
    expect(login.headers.get('referrer-policy')).toBe('no-referrer');
    expect(login.headers.get('cache-control')).toBe('no-store');
  });

  it('sets an HttpOnly, SameSite=Strict session cookie on Path=/, not Secure on plain loopback HTTP, and a new id at login', async () => {
    const c = new ConsoleClient(f.url);
    const form = await c.request('/login');
    const anonymous = form.headers.getSetCookie()[0] ?? '';
    expect(anonymous).toMatch(/^deid_console=[A-Za-z0-9_-]{43};/);
    expect(anonymous).toMatch(/; HttpOnly/);
    expect(anonymous).toMatch(/; SameSite=Strict/);
    expect(anonymous).toMatch(/; Path=\//);
    expect(anonymous).not.toMatch(/Secure/);
    const anonymousCookie = c.cookieHeader;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const res = await c.post('/login', { _csrf: csrf, name: ALICE.name, password: ALICE.password });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const loggedIn = res.headers.getSetCookie()[0] ?? '';
    expect(loggedIn).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/);
    expect(c.cookieHeader).not.toBe(anonymousCookie);
    // The pre-login id is dead: fixation gains nothing.
    const old = new ConsoleClient(f.url);
    expect((await old.request('/api/status', { headers: { cookie: anonymousCookie } })).status).toBe(401);
    expect((await c.request('/api/status')).status).toBe(200);
  });

  it('refuses a wrong password and an unknown account alike, audits both without the typed name or password', async () => {
    const c = new ConsoleClient(f.url);
    const wrong = await c.login(ALICE.name, 'not the password');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/Wrong account name or password/);
    expect((await c.request('/api/status')).status).toBe(401);
    const unknown = await c.login('Doe^Jane', 'MRN12345');
    expect(unknown.status).toBe(401);
    const audit = await readAudit(auditPathOf(f.config.store));
    expect(audit.brokenAt).toBeUndefined();
    const failed = audit.records.filter((r) => r.action === 'console.login-failed');
    expect(failed.map((r) => r.who)).toEqual(['console:alice', 'console:(unknown account)']);
    const text = readFileSync(auditPathOf(f.config.store), 'utf8');
    for (const secret of ['Doe', 'MRN12345', 'not the password', ALICE.password]) expect(text).not.toContain(secret);
    expect(audit.records.some((r) => r.action === 'console.login' && r.who === 'console:alice')).toBe(true);
  });

  it('refuses a POST without the CSRF token, with a wrong one, or from another origin (403), and takes the header form', async () => {
    const c = new ConsoleClient(f.url);
    expect((await c.login(BOB.name, BOB.password)).status).toBe(303);
    const token = await c.csrf();
    expect((await c.post('/logout', {})).status).toBe(403);
    expect((await c.post('/logout', { _csrf: 'x'.repeat(token.length) })).status).toBe(403);
    expect((await c.post('/logout', { _csrf: token }, { origin: 'http://evil.example' })).status).toBe(403);
    // Origin: null (what Chromium sends under Referrer-Policy: no-referrer): Sec-Fetch-Site decides.
    expect((await c.post('/logout', { _csrf: token }, { origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await c.post('/logout', { _csrf: token }, { origin: 'null' })).status).toBe(403);
    // The login form itself needs its token too.
    expect((await new ConsoleClient(f.url).post('/login', { name: BOB.name, password: BOB.password })).status).toBe(403);
    expect((await c.request('/api/status')).status).toBe(200);
    const out = await c.request('/logout', { method: 'POST', headers: { origin: f.url, 'x-csrf-token': token } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await c.request('/api/status')).status).toBe(401);
  });

  it('shows a reviewer only their projects; a broker sees all', async () => {
    const alice = new ConsoleClient(f.url);
    await alice.login(ALICE.name, ALICE.password);
    const a = (await (await alice.request('/api/status')).json()) as Snapshot;
    expect(a.projects.map((p) => p.project)).toEqual(['DEMO']);
    const page = await (await alice.request('/')).text();
    expect(page).toContain('data-project="DEMO"');
    expect(page).not.toContain('OTHER');
    const bob = new ConsoleClient(f.url);
    await bob.login(BOB.name, BOB.password);
    const b = (await (await bob.request('/api/status')).json()) as Snapshot;
    expect(b.projects.map((p) => p.project)).toEqual(['DEMO', 'OTHER']);
  });

  it('streams a snapshot at once and another when the agent settles a file (server-sent events)', async () => {
    const c = new ConsoleClient(f.url);
    await c.login(ALICE.name, ALICE.password);
    const res = await c.request('/events');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    let dropped = false;
    const { snapshots } = await readSnapshots(res, (s) => {
      const demo = s.projects[0];
      if (!dropped) {
        dropped = true;
        f.drop('DEMO', 1);
      }
      return demo?.figures.delivered === '1';
    });
    expect(snapshots[0]?.projects[0]?.figures).toMatchObject({ received: '0', delivered: '0' });
    expect(snapshots.at(-1)?.projects[0]?.figures).toMatchObject({ received: '1', delivered: '1', pending: '0' });
    expect(snapshots.every((s) => s.projects.length === 1)).toBe(true);
  });

  it('logs method, route pattern, status and account, never a query value', async () => {
    const c = new ConsoleClient(f.url);
    await c.login(ALICE.name, ALICE.password);
    await c.request('/api/status?patient=Doe%5EJane&mrn=MRN12345');
    await new ConsoleClient(f.url).request('/static/console.css?x=SECRETVALUE');
    const logs = f.logs();
    expect(logs).toMatch(/"method":"GET","route":"\/api\/status","status":200,"account":"alice"/);
    for (const v of ['Doe', 'MRN12345', 'SECRETVALUE', 'patient=']) expect(logs).not.toContain(v);
  });

  it('rate-limits failed logins per account: after 5 failures, 429 with Retry-After, even for the right password', async () => {
    const c = new ConsoleClient(f.url);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.login(BOB.name, `wrong ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const blocked = await c.login(BOB.name, BOB.password);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(await blocked.text()).toMatch(/Too many failed attempts/);
    expect((await c.request('/api/status')).status).toBe(401);
    // Another account from the same address is not locked out by bob's failures...
    expect((await new ConsoleClient(f.url).login(ALICE.name, ALICE.password)).status).toBe(303);
  });

  // Last: it blocks 127.0.0.1 for the rest of this server's life.
  it('rate-limits failed logins per address: 20 failures over any names, then 429 for every account', async () => {
    const c = new ConsoleClient(f.url);
    const before = (await readAudit(auditPathOf(f.config.store))).records.filter((r) => r.action === 'console.login-failed').length;
    let status = 0;
    let tries = 0;
    for (; tries < 25 && status !== 429; tries++) status = (await c.login(`guess${tries}`, 'x')).status;
    const failed = (await readAudit(auditPathOf(f.config.store))).records.filter((r) => r.action === 'console.login-failed').length;
    expect(status).toBe(429);
    expect(before + tries - 1).toBe(failed);
    expect(failed).toBe(20); // every failure from this address so far, over this file's tests
    expect((await new ConsoleClient(f.url).login(ALICE.name, ALICE.password)).status).toBe(429);
  });
});
