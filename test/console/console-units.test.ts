import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retrievalStatus } from '../../src/cli/retrieval-status.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';
import { viewOf } from '../../src/console/dashboard-view.js';
import { html, raw } from '../../src/console/html.js';
import { LoginLimiter } from '../../src/console/login-limiter.js';
import { hashPassword, isUsableHash, verifyPassword } from '../../src/console/password-hash.js';
import { csrfMatches, SessionStore } from '../../src/console/sessions.js';

describe('console password hashes (scrypt)', () => {
  it('hashes with N=2^15, r=8, p=1 and a random salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
    // The key's first character (its last one carries unused padding bits: changing it may decode to the same bytes).
    const tampered = a.replace(/\$([A-Za-z0-9+/])([A-Za-z0-9+/]{42}=)$/, (_, c: string, rest: string) => `$${c === 'A' ? 'B' : 'A'}${rest}`);
    expect(tampered).not.toBe(a);
    expect(await verifyPassword('correct horse battery', tampered)).toBe(false);
  });

  it('refuses hashes it cannot use: malformed, or parameters that would cost gigabytes', async () => {
    expect(isUsableHash('plaintext')).toBe(false);
    expect(isUsableHash('scrypt$1048577$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toBe(false);
    expect(isUsableHash('scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toBe(false);
  });
});

describe('console HTML templates', () => {
  it('escapes every interpolation unless it is markup the code wrote', () => {
    const name = '<script>alert("x")</script>&\'`';
    expect(html`<p title="${name}">${name}</p>`.text).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>');
    expect(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text).toBe('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`${raw('<br>')}${undefined}${false}${0}`.text).toBe('<br>0');
  });
});

describe('console sessions', () => {
  it('expire after 30 idle minutes and after 8 hours whatever the activity; rotation drops the old id', () => {
    let t = 0;
    const store = new SessionStore(() => t);
    const idle = store.create('alice');
    t = 29 * 60_000;
    expect(store.get(idle.id)?.account).toBe('alice');
    t += 30 * 60_000 + 1;
    expect(store.get(idle.id)).toBeUndefined();
    t = 0;
    const busy = store.create('bob');
    for (t = 0; t < 8 * 3600_000; t += 10 * 60_000) expect(store.get(busy.id)).toBeDefined();
    t = 8 * 3600_000 + 1;
    expect(store.get(busy.id)).toBeUndefined();
    const anon = store.create();
    const logged = store.rotate(anon.id, 'alice');
    expect(logged.id).not.toBe(anon.id);
    expect(logged.csrf).not.toBe(anon.csrf);
    expect(store.get(anon.id)).toBeUndefined();
    expect(Buffer.from(logged.id, 'base64url')).toHaveLength(32);
  });

  it('compares CSRF tokens exactly', () => {
    expect(csrfMatches('abc', 'abc')).toBe(true);
    expect(csrfMatches('abc', 'abd')).toBe(false);
    expect(csrfMatches('abc', 'abcd')).toBe(false);
    expect(csrfMatches('abc', undefined)).toBe(false);
    expect(csrfMatches('abc', ['abc'])).toBe(false);
  });
});

describe('login limiter', () => {
  it('blocks a key after 5 failures in 15 minutes until the oldest leaves the window', () => {
    let t = 0;
    const l = new LoginLimiter(() => t);
    for (let i = 0; i < 5; i++, t += 60_000) {
      expect(l.retryAfter(['k'])).toBe(0);
      l.fail(['k']);
    }
    expect(l.retryAfter(['k'])).toBe(10 * 60); // the first failure (t=0) leaves at 15 min; now t=5 min
    expect(l.retryAfter(['other'])).toBe(0);
    t = 15 * 60_000;
    expect(l.retryAfter(['k'])).toBe(0);
  });
});

describe('console config', () => {
  const base = { store: '/tmp/s.json', projects: [{ name: 'P', prefix: 'P_', inbox: '/tmp/ci/in', outbox: '/tmp/ci/out', quarantine: '/tmp/ci/q', failed: '/tmp/ci/f' }] };
  const user = { name: 'alice', role: 'reviewer', passwordHash: `scrypt$32768$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=` };
  const issues = (console: unknown): string[] => {
    const r = configSchema.safeParse({ ...base, console });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults to 127.0.0.1 and refuses another host without TLS, a password instead of a hash, unknown projects', () => {
    const ok = configSchema.parse({ ...base, console: { port: 8080, users: [user] } });
    expect(ok.console?.host).toBe('127.0.0.1');
    expect(issues({ port: 8080, host: '0.0.0.0', users: [user] })).toEqual([expect.stringMatching(/^console\.host: '0\.0\.0\.0' is not loopback: set console\.tls/)]);
    expect(issues({ port: 8080, host: '0.0.0.0', users: [user], tls: { cert: 'c.pem', key: 'k.pem' } })).toEqual([]);
    expect(issues({ port: 8080, host: '::1', users: [user] })).toEqual([]);
    expect(issues({ port: 8080, users: [{ ...user, passwordHash: 'hunter2' }] })).toEqual([expect.stringMatching(/^console\.users\.0\.passwordHash: a scrypt hash/)]);
    expect(issues({ port: 8080, users: [{ ...user, projects: ['Q'] }] })).toEqual(["console.users.0.projects.0: no project 'Q'"]);
    expect(issues({ port: 8080, users: [] })).toHaveLength(1);
    expect(issues({ port: 0, users: [user] })).toHaveLength(1);
    expect(issues({ port: 8080, users: [user, { ...user, role: 'broker' }] })).toEqual(["console.users.1.name: duplicate account 'alice'"]);
  });

  it('the config loader refuses a well-formed hash it cannot use (so `start` stops before claiming anything)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-console-hash-'));
    const write = (hash: string): string => {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ ...base, store: join(dir, 'store.json'), console: { port: 8080, users: [{ ...user, passwordHash: hash }] } }));
      return file;
    };
    await expect(loadConfig(write(user.passwordHash))).resolves.toBeDefined();
    for (const bad of [`scrypt$4194304$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`, `scrypt$1000$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`, `scrypt$32768$8$1$AAAA$${'A'.repeat(43)}=`]) {
      const e = await loadConfig(write(bad)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/console\.users\.0\.passwordHash: not a usable scrypt hash/);
    }
  });
});

describe('dashboard retrievals', () => {
  it('reads the requests folder as the agent leaves it: waiting, running with its progress, the latest reports; no accession numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-requests-'));
    mkdirSync(join(dir, 'now'));
    writeFileSync(join(dir, 'monday.csv'), 'accession\nACC0001\nACC0002\n');
    writeFileSync(join(dir, 'now', '1700000000000-Doe.txt'), 'ACC1001\nACC1002\nACC1003\nACC1004\n');
    writeFileSync(join(dir, 'now', '1700000000000-Doe.txt.progress.json'), JSON.stringify({ startedAt: '2026-12-01T10:00:00.000Z', done: [{ accession: 'ACC1001' }] }));
    writeFileSync(join(dir, 'old.csv.report.json'), JSON.stringify({ startedAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T10:05:00.000Z', accessions: [{ accession: 'ACC9' }], refused: [],
      totals: { found: 1, notFound: 0, received: 12, delivered: 11, quarantined: 1, failed: 0 } }));
    const r = await retrievalStatus(dir);
    expect(r.waiting).toBe(1);
    expect(r.running).toMatchObject({ done: 1, total: 4, startedAt: '2026-12-01T10:00:00.000Z' });
    expect(r.running?.request).toMatch(/^[0-9a-f]{12}$/);
    expect(r.reports).toHaveLength(1);
    const view = viewOf({ project: 'P', received: 12, delivered: 11, quarantined: 1, failed: 0, discarded: 0, pending: 0, lastActivity: '2026-11-30T10:05:00.123Z', retrievals: r });
    expect(view.progress).toEqual([{ key: 'retrieval', label: `Retrieval ${r.running?.request}: 1 of 4 accessions`, value: 1, max: 4 }]);
    expect(view.reports[0]?.cells).toEqual([r.reports[0]?.request, '2026-11-30T10:05:00.000Z', '1', '1', '12', '11', '1', '0']);
    expect(view.figures.lastActivity).toBe('2026-11-30 10:05:00 UTC');
    expect(JSON.stringify(view)).not.toMatch(/ACC|Doe|monday/);
  });
});

describe('dashboard feed', () => {
  it('answers fresh figures when no stream keeps it polling', async () => {
    const { DashboardFeed } = await import('../../src/console/dashboard-data.js');
    const { pino } = await import('pino');
    const dir = mkdtempSync(join(tmpdir(), 'deid-feed-'));
    const project = { name: 'P', prefix: 'P_', inbox: join(dir, 'in'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'), work: join(dir, 'work') };
    mkdirSync(project.inbox);
    const ctx = { config: { store: join(dir, 'store.json'), projects: [project] }, log: pino({ level: 'silent' }), live: undefined } as unknown as ConstructorParameters<typeof DashboardFeed>[0];
    const feed = new DashboardFeed(ctx);
    expect((await feed.current())[0]?.pending).toBe(0);
    writeFileSync(join(project.inbox, 'a.dcm'), 'x');
    expect((await feed.current())[0]?.pending).toBe(1);
  });
});
