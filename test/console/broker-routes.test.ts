import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readAudit } from '../../src/audit/audit-log.js';
import { ALICE, BOB, ConsoleClient, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

// The broker's crosswalk page and the audit page over real HTTP, against a real agent that has
// delivered a sample CT (patient MRN12345, Doe^Jane) into DEMO.

let f: ConsoleFixture;
let pseudonym = '';

beforeAll(async () => {
  f = await startConsoleFixture();
  f.drop('DEMO', 1);
  for (let i = 0; i < 200 && pseudonym === ''; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const data = JSON.parse(readFileSync(f.config.store + '.journal', 'utf8').split('\n').filter(Boolean).find((l) => l.includes('"t":"patient"')) ?? '{}') as { entry?: { pseudonym?: string } };
    pseudonym = data.entry?.pseudonym ?? '';
  }
}, 60_000);
afterAll(async () => f.close());

describe('console: the crosswalk (broker only) and the audit log', () => {
  it('lets a broker look up both ways by a posted form, audited; the identifier never in a URL or the log', async () => {
    expect(pseudonym).toBe('DEMO_001');
    const bob = new ConsoleClient(f.url);
    expect((await bob.login(BOB.name, BOB.password)).status).toBe(303);
    const csrf = await bob.csrf();
    const form = await (await bob.request('/crosswalk')).text();
    expect(form).toContain('<label for="xw-value">');
    const byPseudonym = await bob.post('/crosswalk', { _csrf: csrf, project: 'DEMO', by: 'pseudonym', value: pseudonym });
    expect(byPseudonym.status).toBe(200);
    const page = await byPseudonym.text();
    expect(page).toContain('<td>MRN12345</td>');
    expect(page).toContain('Doe^Jane');
    const byId = await (await bob.post('/crosswalk', { _csrf: csrf, project: 'DEMO', by: 'patient-id', value: 'MRN12345' })).text();
    expect(byId).toContain(`<td>${pseudonym}</td>`);
    const none = await (await bob.post('/crosswalk', { _csrf: csrf, project: 'DEMO', by: 'patient-id', value: '<script>x</script>' })).text();
    expect(none).toContain('No match in DEMO');
    expect(none).not.toContain('<script>x');
    expect((await bob.post('/crosswalk', { project: 'DEMO', by: 'pseudonym', value: pseudonym })).status).toBe(403); // no CSRF token
    const { records } = await readAudit(f.config.store + '.audit.jsonl');
    const lookups = records.filter((r) => r.action === 'crosswalk.lookup');
    expect(lookups.map((r) => [r.who, r.detail?.by, r.pseudonyms])).toEqual([
      ['console:bob', 'pseudonym', [pseudonym]], ['console:bob', 'patient-id', [pseudonym]], ['console:bob', 'patient-id', []],
    ]);
    const audit = readFileSync(f.config.store + '.audit.jsonl', 'utf8');
    for (const v of ['MRN12345', 'Doe', 'Jane', '<script>']) {
      expect(audit).not.toContain(v);
      expect(f.logs()).not.toContain(v);
    }
  });

  it('refuses a reviewer the crosswalk, and shows them only their projects\' audit lines', async () => {
    const alice = new ConsoleClient(f.url);
    expect((await alice.login(ALICE.name, ALICE.password)).status).toBe(303);
    const csrf = await alice.csrf();
    expect((await alice.request('/crosswalk')).status).toBe(403);
    const refused = await alice.post('/crosswalk', { _csrf: csrf, project: 'DEMO', by: 'pseudonym', value: pseudonym });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('MRN12345');
    const audit = await (await alice.request('/audit')).text();
    expect(audit).toContain('The chain holds');
    expect(audit).not.toContain('crosswalk.lookup');
    expect(audit).toContain('console.login');
    const bob = new ConsoleClient(f.url);
    await bob.login(BOB.name, BOB.password);
    const all = await (await bob.request('/audit')).text();
    expect(all).toContain('crosswalk.lookup');
    expect(all).toContain(pseudonym);
  });

  it('answers 401 or the login page to every new route without a session', async () => {
    const anon = new ConsoleClient(f.url);
    for (const path of ['/crosswalk', '/audit']) {
      const r = await anon.request(path);
      expect([302, 303, 401]).toContain(r.status);
      expect(await r.text()).not.toMatch(/MRN12345|DEMO_001/);
    }
    const posted = await anon.post('/crosswalk', { project: 'DEMO', by: 'pseudonym', value: 'DEMO_001' });
    expect([302, 303, 401, 403]).toContain(posted.status);
  });
});
