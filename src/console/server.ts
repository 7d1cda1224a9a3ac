import { readFile } from 'node:fs/promises';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { auditPathOf } from '../audit/audit-log.js';
import { ConfigError } from '../config/config-error.js';
import type { ResolvedConsoleConfig } from '../config/console-schema.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { CONSOLE_AREAS } from './areas.js';
import type { ConsoleArea, ConsoleContext, ConsoleLive, ConsoleUser } from './context.js';
import { isUsableHash } from './password-hash.js';
import { passesCsrf, SECURITY_HEADERS } from './security.js';
import { SessionStore } from './sessions.js';
import { staticAsset } from './static-assets.js';

export const SESSION_COOKIE = 'deid_console';

/** Reachable without a session: the login form and its post, the stylesheet and scripts. */
const isPublic = (method: string, path: string): boolean =>
  path === '/login' || path === '/favicon.ico' || (method === 'GET' && path.startsWith('/static/'));

export interface ConsoleOptions {
  readonly live?: ConsoleLive;
  readonly now?: () => number;
  /** Extra areas (tests); the console's own are in areas.ts. */
  readonly areas?: readonly ConsoleArea[];
  /** The login's password check (tests count it). */
  readonly verifyPassword?: (password: string, stored: string) => Promise<boolean>;
}

/** The account as requests see it: its projects resolved against the config. */
function accountsOf(config: ResolvedConfig, c: ResolvedConsoleConfig): Map<string, ConsoleUser> {
  const all = config.projects.map((p) => p.name);
  return new Map(c.users.map((u) => [u.name, { name: u.name, role: u.role, projects: u.projects ?? all }]));
}

/** Builds the console's server (not listening yet). */
export async function buildConsole(config: ResolvedConfig, log: Logger, options: ConsoleOptions = {}): Promise<{ app: FastifyInstance; ctx: ConsoleContext }> {
  const c = config.console;
  if (!c) throw new ConfigError('no console in the config');
  for (const [i, u] of c.users.entries()) {
    if (!isUsableHash(u.passwordHash)) throw new ConfigError(`console.users.${i}.passwordHash: not a usable scrypt hash (make one with deid-agent console hash-password)`);
  }
  const now = options.now ?? Date.now;
  const ctx: ConsoleContext = { config, console: c, auditPath: auditPathOf(config.store), log, live: options.live, sessions: new SessionStore(now), now, verifyPassword: options.verifyPassword };
  const accounts = accountsOf(config, c);
  const https = c.tls ? { cert: await readFile(c.tls.cert), key: await readFile(c.tls.key) } : null;
  // Fastify's own logger stays off: it would log URLs with their query strings. Forwarded headers
  // are believed only from a proxy on loopback: anyone else could forge an address to dodge limits.
  const app = Fastify({ logger: false, trustProxy: c.trustProxy === true ? 'loopback' : false, bodyLimit: 1024 * 1024, ...(https ? { https } : {}) }) as unknown as FastifyInstance;
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  // Filled by the gate below on every request (null only until then: Fastify wants a shape up front).
  app.decorateRequest('console', null as never);

  app.addHook('onRequest', async (request, reply) => {
    const session = ctx.sessions.get(request.cookies[SESSION_COOKIE]);
    const user = session?.account === undefined ? undefined : accounts.get(session.account);
    request.console = { user, csrf: session?.csrf, sessionId: session?.id };
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) void reply.header(k, v);
    void reply.header('cache-control', 'no-store');
    const path = request.url.split('?')[0] ?? '/';
    if (user || isPublic(request.method, path)) return;
    // Nothing else is revealed: not whether a route exists, nor anything about it.
    if (request.method === 'GET' && !path.startsWith('/api/') && path !== '/events') return reply.redirect('/login', 303);
    return reply.code(401).type('application/json; charset=utf-8').send({ error: 'login required' });
  });
  app.addHook('preHandler', async (request, reply) => {
    if (!passesCsrf(request, reply)) return reply;
    return undefined;
  });
  // Method, route pattern, status and account: never a URL's values or a query string.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(no route)';
    const fields = { method: request.method, route, status: reply.statusCode, account: request.console?.user?.name, ms: Math.round(reply.elapsedTime) };
    if (route.startsWith('/static/')) log.debug(fields, 'console request');
    else log.info(fields, 'console request');
  });
  app.setErrorHandler((error: Error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    log.warn({ route: request.routeOptions.url, status, code: (error as NodeJS.ErrnoException).code ?? error.name }, 'console request failed');
    void reply.code(status).type('text/plain; charset=utf-8').send(status >= 500 ? 'Internal error' : 'Bad request');
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).type('text/plain; charset=utf-8').send('Not found');
  });

  app.get('/static/:name', async (request, reply) => {
    const asset = staticAsset((request.params as { name: string }).name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  for (const area of [...CONSOLE_AREAS, ...(options.areas ?? [])]) await area(app, ctx);
  return { app, ctx };
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the console on its configured host and port (`port` overrides it: 0 in tests). */
export async function startConsole(config: ResolvedConfig, log: Logger, options: ConsoleOptions & { readonly port?: number } = {}): Promise<RunningConsole> {
  const { app } = await buildConsole(config, log, options);
  const c = config.console as ResolvedConsoleConfig;
  await app.listen({ host: c.host, port: options.port ?? c.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : c.port;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const url = `${c.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url }, 'console listening');
  return { url, close: () => app.close() };
}
