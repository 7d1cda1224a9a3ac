import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { hashPassword } from '../../src/console/password-hash.js';
import { type RunningConsole, startConsole } from '../../src/console/server.js';
import { BOB, ConsoleClient } from './console-fixture.js';

// Every console request is logged once, by the server's onResponse hook (the event stream, which
// takes its reply over and so skips the hook, logs itself). Never twice.
describe('console request log', () => {
  let dir: string;
  let server: RunningConsole;
  let config: Awaited<ReturnType<typeof loadConfig>>;
  const lines: string[] = [];
  const logged = (route: string): number => lines.map((l) => JSON.parse(l) as { msg: string; route?: string })
    .filter((l) => l.msg === 'console request' && l.route === route).length;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deid-request-log-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      store: join(dir, 'store.json'),
      projects: [{ name: 'DEMO', prefix: 'DEMO_', inbox: join(dir, 'inbox'), outbox: join(dir, 'outbox'), quarantine: join(dir, 'quarantine'), failed: join(dir, 'failed') }],
      console: { port: 8443, users: [{ name: BOB.name, role: 'broker', passwordHash: await hashPassword(BOB.password) }] },
    }));
    config = await loadConfig(join(dir, 'config.json'));
    server = await startConsole(config, pino({ level: 'debug' }, { write: (l: string) => { lines.push(l); } }), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs a crosswalk look-up once (the server\'s hook), and each login request once', async () => {
    const bob = new ConsoleClient(server.url);
    expect((await bob.login(BOB.name, BOB.password)).status).toBe(303);
    const csrf = await bob.csrf();
    const res = await bob.post('/crosswalk', { _csrf: csrf, project: 'DEMO', by: 'pseudonym', value: 'DEMO_001' });
    await res.text();
    expect(logged('/crosswalk')).toBe(1);
    expect(logged('/login')).toBe(2); // the form and its post
  });

  it('closing the server ends an open event stream (a browser left on the dashboard does not hold the shutdown)', async () => {
    const other = await startConsole(config, pino({ level: 'silent' }), { port: 0 });
    const bob = new ConsoleClient(other.url);
    expect((await bob.login(BOB.name, BOB.password)).status).toBe(303);
    const reader = (await bob.request('/events')).body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    const closed = await Promise.race([other.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000))]);
    expect(closed).toBe('closed');
  });
});
