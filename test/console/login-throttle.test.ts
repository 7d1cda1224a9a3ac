import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { MAX_VERIFYING } from '../../src/console/login-limiter.js';
import { hashPassword, verifyPassword } from '../../src/console/password-hash.js';
import { type RunningConsole, startConsole } from '../../src/console/server.js';
import { ALICE, BOB, ConsoleClient } from './console-fixture.js';

/**
 * The login limit under parallel requests: the attempt is counted before scrypt runs, and no more
 * than MAX_VERIFYING scrypts run at once (the real verifier, wrapped to count what is in flight).
 */
describe('console login throttle under parallel requests', () => {
  let dir: string;
  let server: RunningConsole;
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deid-login-throttle-'));
    const raw = {
      store: join(dir, 'store.json'),
      projects: [{ name: 'DEMO', prefix: 'DEMO_', inbox: join(dir, 'inbox'), outbox: join(dir, 'outbox'), quarantine: join(dir, 'quarantine'), failed: join(dir, 'failed') }],
      console: { port: 8443, users: [
        { name: ALICE.name, role: 'reviewer', passwordHash: await hashPassword(ALICE.password) },
        { name: BOB.name, role: 'broker', passwordHash: await hashPassword(BOB.password) },
      ] },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
    const config = await loadConfig(join(dir, 'config.json'));
    const counting = async (password: string, stored: string): Promise<boolean> => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await verifyPassword(password, stored);
      } finally {
        inFlight--;
      }
    };
    server = await startConsole(config, pino({ level: 'silent' }), { port: 0, verifyPassword: counting });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bursts of 30 parallel wrong logins for one account: at most 5 answered 401 over all, the rest 429 with Retry-After, never more than the cap hashing at once', async () => {
    let unauthorized = 0;
    let attempts = 0;
    // Round after round until the account is locked (the cap refuses most of each burst at once).
    for (let round = 0; round < 10; round++) {
      const clients = Array.from({ length: 30 }, () => new ConsoleClient(server.url));
      const tokens: string[] = [];
      for (const c of clients) tokens.push(await c.loginForm());
      const answers = await Promise.all(clients.map((c, i) => c.post('/login', { _csrf: tokens[i] as string, name: BOB.name, password: `wrong ${round} ${i}` })));
      attempts += answers.length;
      const got = answers.filter((r) => r.status === 401).length;
      unauthorized += got;
      expect(answers.filter((r) => r.status === 429).length).toBe(30 - got);
      for (const r of answers.filter((a) => a.status === 429)) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      if (got === 0 && answers.every((r) => Number(r.headers.get('retry-after')) > 60)) break;
    }
    expect(attempts).toBeLessThan(300); // locked before the rounds ran out
    expect(unauthorized).toBeGreaterThan(0);
    expect(unauthorized).toBeLessThanOrEqual(5);
    expect(maxInFlight).toBeLessThanOrEqual(MAX_VERIFYING);
    expect(calls).toBe(unauthorized); // a refused attempt never ran scrypt
    // The account is locked now, even for its right password.
    const locked = await new ConsoleClient(server.url).login(BOB.name, BOB.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
  });

  it('a right password takes its counted attempt back: 21 good logins in a row from one address (its limit is 20) are never throttled', async () => {
    for (let i = 0; i < 21; i++) expect((await new ConsoleClient(server.url).login(ALICE.name, ALICE.password)).status).toBe(303);
  });
});
