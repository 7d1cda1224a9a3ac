import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load-config.js';
import type { ResolvedConfig } from '../../src/config/schema.js';
import { hashPassword } from '../../src/console/password-hash.js';
import { type RunningConsole, startConsole } from '../../src/console/server.js';
import { type RunningAgent, startAgent } from '../../src/pipeline/agent.js';
import { waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { textCorpus } from '../review/review-fixture.js';

export const ALICE = { name: 'alice', password: 'correct horse battery' } as const; // reviewer of DEMO only
export const BOB = { name: 'bob', password: 'staple tuning fork 42' } as const; // broker, every project

/**
 * A real agent (main-thread processing, a short stability time) over two projects, with the
 * console on 127.0.0.1 and an ephemeral port, fed live by the agent. Everything in a temp dir.
 */
export interface ConsoleFixture {
  readonly dir: string;
  readonly config: ResolvedConfig;
  readonly url: string;
  readonly agent: RunningAgent;
  readonly console: RunningConsole;
  /** Everything logged so far (JSON lines). */
  logs(): string;
  /** Drops sample CT files into a project's inbox (written beside it, renamed in). */
  drop(project: string, count: number): void;
  close(): Promise<void>;
}

export async function startConsoleFixture(): Promise<ConsoleFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'deid-console-'));
  const project = (name: string): Record<string, unknown> => ({
    name, prefix: `${name}_`, inbox: join(dir, name, 'inbox'), outbox: join(dir, name, 'outbox'), quarantine: join(dir, name, 'quarantine'),
    failed: join(dir, name, 'failed'), dateShiftDays: -100, watch: { stabilityMs: 1500 },
  });
  const raw = {
    store: join(dir, 'store.json'), workers: 0, projects: [project('DEMO'), project('OTHER')],
    console: { port: 8443, users: [
      { name: ALICE.name, role: 'reviewer', passwordHash: await hashPassword(ALICE.password), projects: ['DEMO'] },
      { name: BOB.name, role: 'broker', passwordHash: await hashPassword(BOB.password) },
    ] },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  const config = await loadConfig(join(dir, 'config.json'));
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { lines.push(line); } });
  const agent = await startAgent(config, log);
  const server = await startConsole(config, log, { live: agent, port: 0 });
  let n = 0;
  return {
    dir, config, url: server.url, agent, console: server, logs: () => lines.join(''),
    drop(name, count) {
      const staging = join(dir, name, 'staging');
      mkdirSync(staging, { recursive: true });
      for (let i = 0; i < count; i++, n++) {
        copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(staging, `in-${n}.dcm`));
        renameSync(join(staging, `in-${n}.dcm`), join(dir, name, 'inbox', `in-${n}.dcm`));
      }
    },
    async close() {
      await server.close();
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The console fixture with one item held in DEMO's quarantine: a DX image with a name and record
 * number drawn in (the text corpus's ct-white-tl.dcm, its header set to DX, DOE^JANE, 12345678),
 * dropped into the inbox and held by the OCR. close() also removes the text corpus.
 */
export async function startConsoleWithHeldDx(): Promise<ConsoleFixture> {
  const corpus = textCorpus();
  const f = await startConsoleFixture().catch((e: unknown) => { rmSync(corpus, { recursive: true, force: true }); throw e; });
  const close = async (): Promise<void> => {
    await f.close();
    rmSync(corpus, { recursive: true, force: true });
  };
  try {
    const demo = f.config.projects.find((p) => p.name === 'DEMO');
    if (!demo) throw new Error('no DEMO project');
    const staged = join(f.dir, 'DEMO', 'staging', 'dx.dcm');
    mkdirSync(join(f.dir, 'DEMO', 'staging'), { recursive: true });
    copyFileSync(join(corpus, 'ct-white-tl.dcm'), staged);
    execFileSync('dcmodify', ['-nb', '-i', '(0008,0060)=DX', '-i', '(0010,0010)=DOE^JANE', '-i', '(0010,0020)=12345678', staged], { stdio: 'ignore' });
    renameSync(staged, join(demo.inbox, 'dx.dcm'));
    await waitFor(() => readdirSync(demo.quarantine).some((n) => n.endsWith('.json')), 60_000, 'the held item');
  } catch (e) {
    await close();
    throw e;
  }
  return { ...f, close };
}

/** A small cookie-keeping HTTP client over fetch (no redirects followed: the tests look at them). */
export class ConsoleClient {
  private cookie = '';
  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return this.cookie;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const res = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    const set = res.headers.getSetCookie();
    for (const c of set) {
      const pair = c.split(';')[0] ?? '';
      this.cookie = /=$/.test(pair) ? '' : pair;
    }
    return res;
  }

  /** The login form's CSRF token (and the anonymous session it belongs to). */
  async loginForm(): Promise<string> {
    const text = await (await this.request('/login')).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (!token) throw new Error('no CSRF token on the login page');
    return token;
  }

  post(path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: this.base }): Promise<Response> {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  }

  async login(name: string, password: string): Promise<Response> {
    const csrf = await this.loginForm();
    return this.post('/login', { _csrf: csrf, name, password });
  }

  /** The page's CSRF token (meta tag) once logged in. */
  async csrf(): Promise<string> {
    const text = await (await this.request('/')).text();
    const token = /name="csrf-token" content="([^"]+)"/.exec(text)?.[1];
    if (!token) throw new Error('no CSRF token on the dashboard');
    return token;
  }
}
