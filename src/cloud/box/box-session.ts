// One BoxClient per Box account, shared by its inboxes and outboxes so that they share one token
// (and one single-flight refresh). Secrets stay in the SDK's config objects: never logged, and
// the cache key is a hash.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { BoxCcgAuth, BoxClient, BoxJwtAuth, CcgConfig, JwtConfig } from 'box-node-sdk';
import { BaseUrls, NetworkSession } from 'box-node-sdk/networking';
import type { Authentication } from 'box-node-sdk/networking';
import { SingleFlightAuth } from './box-auth.js';
import { BoxRetry, type BoxRetryOptions } from './box-retry.js';

export interface BoxConnection {
  clientId: string;
  clientSecret?: string;
  enterpriseId?: string;
  userId?: string;
  /** JSON text of a Box app config file, for BoxJwtAuth. */
  jwtConfig?: string;
  baseUrls?: { baseUrl: string; uploadUrl: string; oauth2Url: string };
  /** A plain agent (the SDK's default is a ProxyAgent that honours HTTP(S)_PROXY). */
  httpAgent?: Agent;
}

export interface BoxSession {
  readonly client: BoxClient;
  readonly auth: SingleFlightAuth;
  readonly networkSession: NetworkSession;
  /** For labels: the subject, never a secret. */
  readonly account: string;
}

export interface BoxSessionOptions {
  readonly retry?: BoxRetryOptions;
}

const sessions = new Map<string, { readonly agent: Agent | undefined; readonly session: BoxSession }>();

function innerAuth(conn: BoxConnection): Authentication {
  if (conn.jwtConfig !== undefined) {
    const auth = new BoxJwtAuth({ config: JwtConfig.fromConfigJsonString(conn.jwtConfig) });
    if (conn.userId !== undefined) return auth.withUserSubject(conn.userId);
    return conn.enterpriseId !== undefined ? auth.withEnterpriseSubject(conn.enterpriseId) : auth;
  }
  if (conn.clientSecret === undefined) throw new Error('box: a client secret or a JWT config is needed');
  if (conn.userId === undefined && conn.enterpriseId === undefined) throw new Error('box: an enterprise id or a user id is needed');
  // CcgConfig subjects: a user id wins over the enterprise id (as in the SDK).
  return new BoxCcgAuth({ config: new CcgConfig({ clientId: conn.clientId, clientSecret: conn.clientSecret, enterpriseId: conn.enterpriseId, userId: conn.userId }) });
}

function accountKey(conn: BoxConnection): string {
  const parts = [conn.clientId, conn.clientSecret ?? '', conn.jwtConfig ?? '', conn.enterpriseId ?? '', conn.userId ?? '', JSON.stringify(conn.baseUrls ?? null)];
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

function build(conn: BoxConnection, options: BoxSessionOptions): BoxSession {
  const auth = new SingleFlightAuth(innerAuth(conn));
  const networkSession = new NetworkSession({
    ...(conn.baseUrls ? { baseUrls: new BaseUrls(conn.baseUrls) } : {}),
    ...(conn.httpAgent ? { agent: conn.httpAgent } : {}),
    interceptors: [auth.interceptor],
    // node-fetch has no timeout of its own: a server that accepts and never answers would hold a
    // listing, a claim or an upload part for ever. The long poll has its own, shorter deadline.
    timeoutConfig: { timeoutMs: 120_000 },
    retryStrategy: new BoxRetry(options.retry, (o) => auth.unauthorized(o)),
  });
  const client = new BoxClient({ auth, networkSession });
  const account = conn.userId !== undefined ? `user ${conn.userId}` : `enterprise ${conn.enterpriseId ?? '(from JWT config)'}`;
  return { client, auth, networkSession, account };
}

/**
 * The session of the account `conn` names: built once and shared. Options (retry tuning, an
 * injected clock) make a fresh, unshared session: they are for tests.
 */
export function createBoxSession(conn: BoxConnection, options?: BoxSessionOptions): BoxSession {
  if (options !== undefined) return build(conn, options);
  const key = accountKey(conn);
  const known = sessions.get(key);
  if (known && known.agent === conn.httpAgent) return known.session;
  const session = build(conn, {});
  sessions.set(key, { agent: conn.httpAgent, session });
  return session;
}
