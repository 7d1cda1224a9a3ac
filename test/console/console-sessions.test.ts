import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { hashPassword } from '../../src/console/password-hash.js';
import { startConsole } from '../../src/console/server.js';
import { ConsoleClient } from './console-fixture.js';

/** A console without an agent (figures from the store and folders), with a clock the test moves. */
async function consoleWith(extra: Record<string, unknown>, now: () => number): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'deid-console-sessions-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    store: join(dir, 'store.json'),
    projects: [{ name: 'P', prefix: 'P_', inbox: join(dir, 'in'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'), dateShiftDays: -5 }],
    console: { port: 8080, users: [{ name: 'alice', role: 'reviewer', passwordHash: await hashPassword('correct horse battery') }], ...extra },
  }));
  return startConsole(await loadConfig(join(dir, 'config.json')), pino({ level: 'silent' }), { port: 0, now });
}

describe('console sessions over HTTP', () => {
  it('ends the event stream when the session times out (30 idle minutes), and the session with it', async () => {
    let t = Date.now();
    const server = await consoleWith({}, () => t);
    try {
      const c = new ConsoleClient(server.url);
      expect((await c.login('alice', 'correct horse battery')).status).toBe(303);
      const res = await c.request('/events');
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toMatch(/^retry: 3000/);
      t += 31 * 60_000;
      // The next poll (within a second) finds the session gone and closes the stream.
      const deadline = Date.now() + 10_000;
      let done = false;
      while (!done && Date.now() < deadline) done = (await reader.read()).done;
      expect(done).toBe(true);
      expect((await c.request('/api/status')).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('behind a trusted proxy: limits count the forwarded client address, and the cookie is Secure for https', async () => {
    const server = await consoleWith({ trustProxy: true }, Date.now);
    try {
      const from = (address: string): ConsoleClient => {
        const c = new ConsoleClient(server.url);
        const request = c.request.bind(c);
        c.request = (path, init = {}) => request(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'x-forwarded-for': address, 'x-forwarded-proto': 'https' } });
        return c;
      };
      const ward = from('10.1.1.1');
      const form = await ward.request('/login');
      expect(form.headers.getSetCookie()[0]).toMatch(/; Secure/);
      let status = 0;
      for (let i = 0; i < 21 && status !== 429; i++) status = (await ward.post('/login', { _csrf: await ward.loginForm(), name: `guess${i}`, password: 'x' }, { origin: 'https://' + server.url.slice('http://'.length) })).status;
      expect(status).toBe(429);
      // Another workstation behind the same proxy is not locked out.
      const other = from('10.2.2.2');
      expect((await other.post('/login', { _csrf: await other.loginForm(), name: 'alice', password: 'correct horse battery' }, { origin: 'https://' + server.url.slice('http://'.length) })).status).toBe(303);
    } finally {
      await server.close();
    }
  });
});
