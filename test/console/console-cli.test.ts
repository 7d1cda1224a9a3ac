import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { hashPassword, verifyPassword } from '../../src/console/password-hash.js';
import { startConsole } from '../../src/console/server.js';
import { REPO } from '../helpers/corpus.js';
import { CLI } from '../helpers/tools.js';

const TLS = join(REPO, 'test', 'fixtures', 'tls');

async function writeConfig(dir: string, console: Record<string, unknown>): Promise<string> {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({
    store: join(dir, 'store.json'), workers: 0,
    projects: [{ name: 'P', prefix: 'P_', inbox: join(dir, 'in'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'), dateShiftDays: -5 }],
    console: { users: [{ name: 'alice', role: 'broker', passwordHash: await hashPassword('correct horse battery') }], ...console },
  }));
  return file;
}

describe('console from the command line (built CLI: npm run build first)', () => {
  it('hash-password reads a piped password and prints a verifiable scrypt hash and a user entry, never the password', async () => {
    const r = spawnSync(process.execPath, [CLI, 'console', 'hash-password', '--name', 'carol', '--role', 'broker'], { input: 'a long enough secret\nsecond line ignored\n', encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [hash, entry] = r.stdout.trim().split('\n');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(JSON.parse(entry ?? '')).toEqual({ name: 'carol', role: 'broker', passwordHash: hash });
    expect(await verifyPassword('a long enough secret', hash ?? '')).toBe(true);
    expect(r.stdout + r.stderr).not.toContain('secret');
    const short = spawnSync(process.execPath, [CLI, 'console', 'hash-password'], { input: 'short\n', encoding: 'utf8' });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/at least 12 characters/);
  });

  // util-linux's `script` gives the command a terminal: the password must not be echoed.
  it.skipIf(!existsSync('/usr/bin/script'))('hash-password on a terminal reads without echo', async () => {
    const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${CLI} console hash-password --name t`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    for (let i = 0; i < 100 && !out.includes('Password (not shown):'); i++) await new Promise((r) => setTimeout(r, 100));
    child.stdin.write('tty secret pass 123\r');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).not.toContain('tty secret');
    const hash = /^(scrypt\$\S+)\r?$/m.exec(out)?.[1] ?? '';
    expect(await verifyPassword('tty secret pass 123', hash)).toBe(true);
  });

  it('start serves the console when configured and stops it on SIGTERM (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-console-start-'));
    // An ephemeral port chosen by the OS, then given to the agent.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    });
    const config = await writeConfig(dir, { port });
    const agent = spawn(process.execPath, [CLI, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    agent.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
    try {
      for (let i = 0; i < 200 && !out.includes('console listening'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`"url":"http://127.0.0.1:${port}"`);
      const res = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect((await fetch(`http://127.0.0.1:${port}/login`)).status).toBe(200);
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/login`)).rejects.toThrow();
  });

  it('over TLS: https, and the session cookie is Secure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deid-console-tls-'));
    const config = await loadConfig(await writeConfig(dir, { port: 8443, tls: { cert: join(TLS, 'server.pem'), key: join(TLS, 'server.key') } }));
    const c = await startConsole(config, pino({ level: 'silent' }), { port: 0 });
    try {
      expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${c.url}/login`);
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()[0]).toMatch(/; Secure/);
    } finally {
      await c.close();
    }
  });
});
