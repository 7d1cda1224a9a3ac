import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { readSecret } from '../../src/config/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'deid-cloud-config-'));
const write = (name: string, value: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};
const SECRET = 'sEcReT-value-9f2c';

/** The exact JSON shape of issue 12. */
const issueShape = {
  store: join(dir, 'store.json'),
  box: { clientId: 'box-client', clientSecret: { env: 'BOX_CLIENT_SECRET' }, enterpriseId: '4242',
    baseUrls: { baseUrl: 'http://127.0.0.1:1/2.0', uploadUrl: 'http://127.0.0.1:1/api/2.0', oauth2Url: 'http://127.0.0.1:1/oauth2' } },
  graph: { tenantId: 'tenant-1', clientId: 'graph-client', clientSecret: { env: 'GRAPH_CLIENT_SECRET' }, authorityHost: 'https://127.0.0.1:2', baseUrl: 'https://127.0.0.1:2' },
  projects: [{ name: 'ILIAC', prefix: 'ILIAC_CT_',
    inbox: { box: { folderId: '123' } },
    outbox: { graph: { driveId: 'b!abc', path: '/Research/ILIAC/outbox' } },
    quarantine: join(dir, 'ILIAC', 'quarantine'), failed: join(dir, 'ILIAC', 'failed') }],
};

describe('cloud folders in the config', () => {
  it('accepts the shape of the issue, reads the secrets from the environment, and gives every local folder a place', async () => {
    process.env.BOX_CLIENT_SECRET = SECRET;
    process.env.GRAPH_CLIENT_SECRET = `${SECRET}-g`;
    try {
      const c = await loadConfig(write('issue.json', issueShape));
      expect(c.box?.clientSecret).toBe(SECRET);
      expect(c.graph?.clientSecret).toBe(`${SECRET}-g`);
      const p = c.projects[0];
      expect(p?.remoteInbox).toEqual({ box: { folderId: '123', ack: 'delete', transfers: 4, pollIntervalMs: 60_000, changeIntervalMs: 5_000 } });
      expect(p?.remoteOutbox).toEqual({ graph: { driveId: 'b!abc', path: '/Research/ILIAC/outbox', onConflict: 'fail', transfers: 4 } });
      // Local folders: a landing inbox beside the quarantine, the work area beside it, the spool beside that.
      expect(p?.inbox).toBe(join(dir, 'ILIAC', '.deid-inbox-ILIAC'));
      expect(p?.work).toBe(join(dir, 'ILIAC', '.deid-work-ILIAC'));
      expect(p?.outbox).toBe(join(dir, 'ILIAC', '.deid-spool-ILIAC'));
      expect(dirname(p?.work ?? '')).toBe(dirname(p?.inbox ?? ''));
    } finally {
      delete process.env.BOX_CLIENT_SECRET;
      delete process.env.GRAPH_CLIENT_SECRET;
    }
  });

  it('keeps a plain string a local folder', async () => {
    const c = await loadConfig(write('local.json', { ...issueShape, projects: [{ ...issueShape.projects[0], inbox: join(dir, 'in'), outbox: join(dir, 'out') }] }));
    expect(c.projects[0]?.inbox).toBe(join(dir, 'in'));
    expect(c.projects[0]?.outbox).toBe(join(dir, 'out'));
    expect(c.projects[0]?.remoteInbox).toBeUndefined();
    // No project uses Box or Graph: their secrets are not needed (and not read).
    expect(c.box).toBeUndefined();
  });

  it('refuses an inline secret, an app that is missing, and a folder given two ways', async () => {
    const inline = await loadConfig(write('inline.json', { ...issueShape, box: { ...issueShape.box, clientSecret: SECRET } })).catch((e: Error) => e);
    expect(String(inline)).toContain('box.clientSecret');
    expect(String(inline)).toContain('never inline');
    expect(String(inline)).not.toContain(SECRET);
    const { box: _box, ...noBox } = issueShape;
    const missing = await loadConfig(write('nobox.json', noBox)).catch((e: Error) => e);
    expect(String(missing)).toContain('projects.0.inbox.box: needs the Box app');
    const twice = { ...issueShape, projects: [{ ...issueShape.projects[0], outbox: { graph: { driveId: 'd', path: '/a', itemId: 'X' } } }] };
    expect(String(await loadConfig(write('twice.json', twice)).catch((e: Error) => e))).toContain('exactly one of path and itemId');
  });

  it('refuses two projects on one cloud inbox, and an outbox that is an inbox or inside one', async () => {
    process.env.BOX_CLIENT_SECRET = 'x';
    process.env.GRAPH_CLIENT_SECRET = 'y';
    try {
      const p = issueShape.projects[0] as Record<string, unknown>;
      const two = { ...issueShape, projects: [p, { ...p, name: 'OTHER', prefix: 'OTHER_' }] };
      expect(String(await loadConfig(write('two.json', two)).catch((e: Error) => e))).toContain('projects.1.inbox: is also projects.0.inbox');
      const loop = { ...issueShape, projects: [{ ...p, inbox: { graph: { driveId: 'b!abc', path: '/Research/In' } }, outbox: { graph: { driveId: 'b!abc', path: '/research/in/out' } } }] };
      expect(String(await loadConfig(write('loop.json', loop)).catch((e: Error) => e))).toContain('projects.0.outbox: is projects.0.inbox or inside it');
    } finally {
      delete process.env.BOX_CLIENT_SECRET;
      delete process.env.GRAPH_CLIENT_SECRET;
    }
  });

  it('names a missing environment variable without a value', async () => {
    delete process.env.BOX_CLIENT_SECRET;
    process.env.GRAPH_CLIENT_SECRET = 'x';
    try {
      const err = await loadConfig(write('unset.json', issueShape)).catch((e: Error) => e);
      expect(String(err)).toContain('box.clientSecret: the environment variable named at box.clientSecret.env is not set');
      // Commands that never connect (status, anonymize, retrieve) load the config without them.
      const loaded = await loadConfig(write('unset2.json', issueShape), { secrets: false });
      expect(loaded.box).toBeUndefined();
      expect(loaded.projects[0]?.remoteInbox).toBeDefined();
    } finally {
      delete process.env.GRAPH_CLIENT_SECRET;
    }
  });

  it('reads a secret file only when no one else can read it', async () => {
    const file = write('secret.txt', `${SECRET}\n`);
    chmodSync(file, 0o644);
    const open = await readSecret({ file }, 'graph.clientSecret').catch((e: Error) => e);
    expect(String(open)).toContain('readable by others (mode 644); chmod 600 it');
    expect(String(open)).not.toContain(SECRET);
    chmodSync(file, 0o600);
    expect(await readSecret({ file }, 'graph.clientSecret')).toBe(SECRET);
  });
});
