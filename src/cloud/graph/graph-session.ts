// One Microsoft Graph account: one app-only credential, one Graph client, one token shared by every
// inbox and outbox of the account. Graph calls go through the client's `.api()` with a middleware
// chain of our own making (its AuthenticationHandler + HTTPMessageHandler), because the stock chain's
// RetryHandler sleeps with a bare setTimeout (no injection, no abort) and never retries octet-stream
// bodies; retries, Retry-After and the one refresh on 401 live here instead. Pre-authenticated URLs
// (download redirects, upload sessions) go through plain fetch and never carry the token.

import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler, ResponseType } from '@microsoft/microsoft-graph-client';
import { RemoteError } from '../remote-folder.js';
import { abortableSleep, backoffMs, isRetryableStatus, retryAfterMs } from './graph-errors.js';

export interface GraphConnection {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM with certificate and private key, for ClientCertificateCredential. */
  certificatePath?: string;
  /** The same PEM as text (from a secret in the config). */
  certificatePem?: string;
  /** Entra authority host, e.g. https://login.microsoftonline.us; default the public cloud. */
  authorityHost?: string;
  /** Graph endpoint; default https://graph.microsoft.com. */
  baseUrl?: string;
}

export interface GraphSessionOptions {
  /** How a retry waits; injectable so tests are deterministic. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Tries per request, the first included (default 5). */
  maxAttempts?: number;
  /** Cap on one wait, Retry-After included (default 60 s). */
  maxDelayMs?: number;
}

export interface GraphRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** JSON body (sent as application/json). */
  json?: unknown;
  /** Raw body; with a stream, a function so every attempt gets a fresh one. */
  body?: Uint8Array | (() => ReadableStream<Uint8Array>);
  /** 'manual' answers redirects (content downloads) instead of following them. */
  redirect?: 'manual' | 'follow';
  /** Retry a dropped connection? Default: for GET, PUT, DELETE (safe to repeat), not POST/PATCH. */
  retryDropped?: boolean;
  signal?: AbortSignal;
}

export interface GraphSession {
  /** Origin of the Graph endpoint, for labels. */
  readonly origin: string;
  /** A Graph API call (path under /v1.0, or an absolute nextLink/deltaLink). Answers the last response, whatever its status. */
  call(pathOrUrl: string, req?: GraphRequest): Promise<Response>;
  /** A pre-authenticated URL: same retries, never the Authorization header. */
  preauth(url: string, req?: GraphRequest): Promise<Response>;
  /** A valid access token; concurrent callers share one acquisition. */
  token(signal?: AbortSignal): Promise<string>;
  /** The injected (or real) sleep, for callers with waits of their own (upload resumes). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const EXPIRY_MARGIN_MS = 120_000;

export function createGraphSession(conn: GraphConnection, options: GraphSessionOptions = {}): GraphSession {
  const base = new URL(conn.baseUrl ?? 'https://graph.microsoft.com');
  const scope = `${base.origin}/.default`;
  const sleep = options.sleep ?? abortableSleep;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxDelayMs = options.maxDelayMs ?? 60_000;

  const makeCredential = (): TokenCredential => {
    const common = conn.authorityHost ? { authorityHost: conn.authorityHost, disableInstanceDiscovery: true } : {};
    if (conn.certificatePem) return new ClientCertificateCredential(conn.tenantId, conn.clientId, { certificate: conn.certificatePem }, common);
    if (conn.certificatePath) return new ClientCertificateCredential(conn.tenantId, conn.clientId, { certificatePath: conn.certificatePath }, common);
    if (conn.clientSecret) return new ClientSecretCredential(conn.tenantId, conn.clientId, conn.clientSecret, common);
    throw new RemoteError('graph: the connection has neither a client secret nor a certificate', false);
  };
  let credential = makeCredential();
  let cached: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  let generation = 0;

  const acquire = async (signal?: AbortSignal): Promise<string> => {
    try {
      const t = await credential.getToken(scope, signal ? { abortSignal: signal } : {});
      if (!t) throw new Error('no token');
      const refreshAt = Math.min(t.refreshAfterTimestamp ?? Infinity, t.expiresOnTimestamp - EXPIRY_MARGIN_MS);
      cached = { token: t.token, refreshAt };
      return t.token;
    } catch (err) {
      const status = (err as { statusCode?: unknown }).statusCode;
      const code = typeof status === 'number' ? status : undefined;
      // 400/401 from the authority: a wrong secret, certificate or tenant; waiting will not help.
      throw new RemoteError(`graph: token request failed${code ? ` (${code})` : ''}`, code === undefined || code >= 500 || code === 429, code, undefined, { cause: err });
    }
  };
  const token = (signal?: AbortSignal): Promise<string> => {
    if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
    inflight ??= acquire(signal).finally(() => { inflight = undefined; });
    return inflight;
  };
  /** After a 401: drop the token, and the credential with it (MSAL would hand the cached one back). */
  const invalidate = (seen: number): void => {
    if (seen !== generation) return; // someone already refreshed since this request started
    generation++;
    cached = undefined;
    credential = makeCredential();
  };

  const client = Client.initWithMiddleware({
    baseUrl: base.origin,
    customHosts: new Set([base.hostname]),
    middleware: [new AuthenticationHandler({ getAccessToken: () => token() }), new HTTPMessageHandler()],
  });

  const sendViaClient = async (pathOrUrl: string, req: GraphRequest): Promise<Response> => {
    let r = client.api(pathOrUrl).responseType(ResponseType.RAW).headers(req.headers ?? {});
    if (req.signal) r = r.option('signal', req.signal);
    if (req.redirect) r = r.option('redirect', req.redirect);
    if (typeof req.body === 'function') r = r.option('body', req.body()).option('duplex', 'half');
    const content = req.json !== undefined ? req.json : typeof req.body === 'function' ? undefined : req.body;
    if (req.body !== undefined && !(req.headers && 'Content-Type' in req.headers)) r = r.header('Content-Type', 'application/octet-stream');
    switch (req.method ?? 'GET') {
      case 'GET': return (await r.get()) as Response;
      case 'DELETE': return (await r.delete()) as Response;
      case 'POST': return (await r.post(content)) as Response;
      case 'PUT': return (await r.put(content)) as Response;
      case 'PATCH': return (await r.patch(content)) as Response;
    }
  };
  const sendPlain = (url: string, req: GraphRequest): Promise<Response> => {
    const body = typeof req.body === 'function' ? req.body() : req.json !== undefined ? JSON.stringify(req.json) : req.body;
    const headers = { ...(req.headers ?? {}) };
    delete headers.Authorization;
    return fetch(url, { method: req.method ?? 'GET', headers, body, redirect: req.redirect ?? 'follow', signal: req.signal, ...(typeof req.body === 'function' ? { duplex: 'half' } : {}) } as RequestInit);
  };

  const withRetries = async (send: () => Promise<Response>, req: GraphRequest, authed: boolean): Promise<Response> => {
    const method = req.method ?? 'GET';
    const retryDropped = req.retryDropped ?? (method === 'GET' || method === 'PUT' || method === 'DELETE');
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const seen = generation;
      let res: Response;
      try {
        res = await send();
      } catch (err) {
        if (req.signal?.aborted || err instanceof RemoteError) throw err;
        if (!retryDropped || attempt >= maxAttempts) throw new RemoteError('graph: connection failed', true, undefined, undefined, { cause: err });
        await sleep(Math.min(backoffMs(attempt), maxDelayMs), req.signal);
        continue;
      }
      if (authed && res.status === 401 && !refreshed) {
        refreshed = true;
        attempt--; // a refresh is not a throttling retry
        await res.body?.cancel();
        invalidate(seen);
        continue;
      }
      if (!isRetryableStatus(res.status) || attempt >= maxAttempts) return res;
      const wait = Math.min(retryAfterMs(res) ?? backoffMs(attempt), maxDelayMs);
      await res.body?.cancel();
      await sleep(wait, req.signal);
    }
  };

  return {
    origin: base.origin,
    sleep,
    token,
    call: (pathOrUrl, req = {}) => withRetries(() => sendViaClient(pathOrUrl, req), req, true),
    preauth: (url, req = {}) => withRetries(() => sendPlain(url, req), req, false),
  };
}
