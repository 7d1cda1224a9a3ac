// A fake Microsoft Graph (drives/items) + Entra ID (client-credentials token endpoint) over HTTPS on
// 127.0.0.1, written from the public reference (learn.microsoft.com/graph/api/resources/driveitem,
// driveitem-delta, driveitem-createuploadsession, driveitem-put-content, driveitem-move). Two
// origins: the API + authority, and a "pre-authenticated" origin for content downloads and upload
// sessions, which refuses (and counts) any request carrying an Authorization header.
// Faults are injected per route, deterministically: failNext(route, fault).

import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QuickXorHash } from '../../src/cloud/graph/quick-xor-hash.js';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const UNIT = 320 * 1024;

export type Route =
  | 'openid' | 'instance' | 'token' | 'item' | 'children' | 'createFolder' | 'move' | 'delete' | 'content'
  | 'download' | 'simpleUpload' | 'createSession' | 'fragment' | 'sessionStatus' | 'sessionDelete' | 'delta' | 'hop';

export type Fault =
  | { status: number; retryAfter?: number; code?: string }
  | { dropConnection: true } // the request is read, not applied, and the connection dies
  | { acceptThenDrop: true } // the request is applied, then the connection dies before the answer
  | { answer: number; body: unknown }; // the request is not applied; this status and JSON body answer it

export interface FakeItem {
  id: string;
  name: string;
  parentId: string | null;
  folder: boolean;
  content: Buffer;
  version: number;
  seq: number;
}

interface Session { id: string; parentId: string; name: string; conflict: string; received: Buffer[]; length: number; total?: number }
interface Tombstone { id: string; parentId: string; ancestors: string[]; seq: number }

export interface FakeGraphOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Items per page of children and delta (small, so paging is exercised). */
  pageSize?: number;
  /** Which hash items report: Business/SharePoint quickXorHash, or personal OneDrive sha1Hash. */
  hashes?: 'quickXorHash' | 'sha1Hash';
  tokenLifetimeSec?: number;
  /** Refuse delta on folders other than the root (as some SharePoint tenants do). */
  deltaRootOnly?: boolean;
}

export class FakeGraph {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly driveId = 'b!drive-1';
  readonly rootId = 'ROOT';
  readonly counts: Record<string, number> = {};
  /** Requests to the pre-authenticated origin that carried an Authorization header (must stay 0). */
  authOnPreauth = 0;
  tokenScopes: string[] = [];
  /**
   * Where `/content` redirects instead of the item's pre-authenticated URL (given as `dl`). The
   * pre-authenticated origin also serves `/hop?to=URL` (302 to `to`) and `/loop` (302 to itself).
   */
  contentLocation?: (dl: string) => string;
  /** Item ids reported without file.hashes (SharePoint computes them some time after an upload). */
  readonly hashless = new Set<string>();
  /** Item ids whose download serves one byte flipped (hashes unchanged). */
  readonly corrupt = new Set<string>();
  readonly items = new Map<string, FakeItem>();
  readonly sessions = new Map<string, Session>();
  private readonly tombstones: Tombstone[] = [];
  private readonly faults = new Map<Route, { fault: Fault; after: number }[]>();
  private readonly tokens = new Map<string, number>();
  private seq = 1;
  private nextId = 1;
  private api?: Server;
  private pre?: Server;
  apiOrigin = '';
  preOrigin = '';

  constructor(private readonly opts: FakeGraphOptions = {}) {
    this.tenantId = opts.tenantId ?? 'tenant-1';
    this.clientId = opts.clientId ?? 'client-1';
    this.clientSecret = opts.clientSecret ?? 'secret-1';
    this.items.set(this.rootId, { id: this.rootId, name: 'root', parentId: null, folder: true, content: Buffer.alloc(0), version: 1, seq: 1 });
  }

  async start(): Promise<void> {
    const tls = { key: readFileSync(new URL('server.key', TLS_DIR)), cert: readFileSync(new URL('server.pem', TLS_DIR)) };
    const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<[Server, string]> => {
      const server = createServer(tls, (req, res) => {
        handler(req, res).catch((err: unknown) => { if (!res.headersSent) send(res, 500, { error: { code: 'generalException', message: String(err) } }); });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return [server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`];
    };
    [this.api, this.apiOrigin] = await listen((q, s) => this.onApi(q, s));
    [this.pre, this.preOrigin] = await listen((q, s) => this.onPre(q, s));
  }

  async stop(): Promise<void> {
    for (const s of [this.api, this.pre]) {
      if (!s) continue;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  get baseUrl(): string { return this.apiOrigin; }
  get authorityHost(): string { return this.apiOrigin; }

  /** The next `times` requests on `route` (after letting `after` through) meet `fault`. */
  failNext(route: Route, fault: Fault, { times = 1, after = 0 }: { times?: number; after?: number } = {}): void {
    const q = this.faults.get(route) ?? [];
    for (let i = 0; i < times; i++) q.push({ fault, after: i === 0 ? after : 0 });
    this.faults.set(route, q);
  }
  /** Forgets every fault still queued. */
  clearFaults(): void { this.faults.clear(); }
  /** Every token issued so far stops working (the API answers 401 InvalidAuthenticationToken). */
  expireTokens(): void { this.tokens.clear(); }
  count(route: Route): number { return this.counts[route] ?? 0; }

  // -- tree ---------------------------------------------------------------------------------------

  addFolder(path: string): FakeItem { return this.ensurePath(this.rootId, split(path)); }
  addFile(path: string, content: Buffer): FakeItem {
    const segs = split(path);
    const parent = this.ensurePath(this.rootId, segs.slice(0, -1));
    return this.create(parent.id, segs[segs.length - 1]!, false, content);
  }
  byPath(path: string): FakeItem | undefined { return this.resolve(this.rootId, split(path)); }
  childrenOf(id: string): FakeItem[] { return [...this.items.values()].filter((i) => i.parentId === id); }
  /** A change by someone else: new content, new eTag. */
  modify(id: string, content: Buffer): void {
    const it = this.items.get(id)!;
    it.content = content;
    this.bump(it);
  }
  hashOf(content: Buffer): string { return new QuickXorHash().update(content).digest(); }

  private create(parentId: string, name: string, folder: boolean, content: Buffer = Buffer.alloc(0)): FakeItem {
    const item: FakeItem = { id: `ITEM${String(this.nextId++).padStart(4, '0')}`, name, parentId, folder, content, version: 1, seq: ++this.seq };
    this.items.set(item.id, item);
    return item;
  }
  private bump(it: FakeItem): void { it.version++; it.seq = ++this.seq; }
  private ensurePath(from: string, segs: string[]): FakeItem {
    let cur = this.items.get(from)!;
    for (const s of segs) cur = this.child(cur.id, s) ?? this.create(cur.id, s, true);
    return cur;
  }
  private child(parentId: string, name: string): FakeItem | undefined {
    return this.childrenOf(parentId).find((i) => i.name.toLowerCase() === name.toLowerCase());
  }
  private resolve(from: string, segs: string[]): FakeItem | undefined {
    let cur = this.items.get(from);
    for (const s of segs) cur = cur && this.child(cur.id, s);
    return cur;
  }
  private ancestors(id: string): string[] {
    const out: string[] = [];
    for (let p = this.items.get(id)?.parentId; p; p = this.items.get(p)?.parentId ?? null) out.push(p);
    return out;
  }
  private isUnder(id: string, folderId: string): boolean { return this.items.has(id) && this.ancestors(id).includes(folderId); }
  private pathOf(id: string): string {
    const names: string[] = [];
    for (let it = this.items.get(id); it && it.parentId; it = this.items.get(it.parentId)) names.unshift(it.name);
    return names.join('/');
  }
  private etag(it: FakeItem): string { return `"{${it.id}},${it.version}"`; }
  private json(it: FakeItem): Record<string, unknown> {
    const parentPath = it.parentId ? `/drives/${this.driveId}/root:${it.parentId === this.rootId ? '' : `/${this.pathOf(it.parentId)}`}` : undefined;
    const hashes = this.opts.hashes === 'sha1Hash'
      ? { sha1Hash: createHash('sha1').update(it.content).digest('hex').toUpperCase() }
      : { quickXorHash: this.hashOf(it.content) };
    return {
      id: it.id, name: it.name, eTag: this.etag(it), cTag: `"c:{${it.id}},${it.version}"`, size: it.folder ? 0 : it.content.length,
      lastModifiedDateTime: new Date(0).toISOString(),
      ...(it.parentId ? { parentReference: { driveId: this.driveId, driveType: 'business', id: it.parentId, path: parentPath } } : { root: {} }),
      ...(it.folder ? { folder: { childCount: this.childrenOf(it.id).length } } : { file: { mimeType: 'application/octet-stream', ...(this.hashless.has(it.id) ? {} : { hashes }) } }),
    };
  }

  // -- API + authority origin -------------------------------------------------------------------------

  private take(route: Route): Fault | undefined {
    this.counts[route] = (this.counts[route] ?? 0) + 1;
    const q = this.faults.get(route);
    const head = q?.[0];
    if (!head) return undefined;
    if (head.after > 0) {
      head.after--;
      return undefined;
    }
    return q.shift()?.fault;
  }

  private async onApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiOrigin);
    const p = url.pathname;
    const body = await readBody(req);
    const t = `/${this.tenantId}`;
    if (req.method === 'GET' && p === `${t}/v2.0/.well-known/openid-configuration`) {
      if (fault(res, this.take('openid'))) return;
      return send(res, 200, {
        token_endpoint: `${this.apiOrigin}${t}/oauth2/v2.0/token`, issuer: `${this.apiOrigin}${t}/v2.0`,
        authorization_endpoint: `${this.apiOrigin}${t}/oauth2/v2.0/authorize`, jwks_uri: `${this.apiOrigin}${t}/discovery/v2.0/keys`,
        end_session_endpoint: `${this.apiOrigin}${t}/oauth2/v2.0/logout`, response_types_supported: ['code', 'token'],
      });
    }
    if (req.method === 'GET' && p.endsWith('/discovery/instance')) {
      if (fault(res, this.take('instance'))) return;
      return send(res, 200, { tenant_discovery_endpoint: `${this.apiOrigin}${t}/v2.0/.well-known/openid-configuration`, metadata: [] });
    }
    if (req.method === 'POST' && p === `${t}/oauth2/v2.0/token`) {
      if (fault(res, this.take('token'))) return;
      const form = new URLSearchParams(body.toString('utf8'));
      const okClient = form.get('client_id') === this.clientId
        && (form.get('client_secret') === this.clientSecret || (form.get('client_assertion') ?? '').split('.').length === 3);
      if (form.get('grant_type') !== 'client_credentials' || !okClient) return send(res, 401, { error: 'invalid_client', error_description: 'bad client' });
      this.tokenScopes.push(form.get('scope') ?? '');
      const token = `tok-${randomUUID()}`;
      const life = this.opts.tokenLifetimeSec ?? 3600;
      this.tokens.set(token, Date.now() + life * 1000);
      return send(res, 200, { token_type: 'Bearer', expires_in: life, ext_expires_in: life, access_token: token });
    }
    const m = /^\/v1\.0\/drives\/([^/]+)\/(.*)$/.exec(p);
    if (!m) return send(res, 404, { error: { code: 'itemNotFound', message: 'no route' } });
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiry = auth ? this.tokens.get(auth) : undefined;
    if (expiry === undefined || expiry < Date.now()) return send(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } });
    if (decodeURIComponent(m[1]!) !== this.driveId) return send(res, 404, { error: { code: 'itemNotFound', message: 'drive' } });
    return this.onDrive(req, res, m[2]!, url, body);
  }

  private async onDrive(req: IncomingMessage, res: ServerResponse, rest: string, url: URL, body: Buffer): Promise<void> {
    // root | items/{id}, then optionally ":/{path}:" (or ":/{path}" to the end), then "/{action}".
    let baseId: string;
    let tail: string;
    if (rest.startsWith('root')) { baseId = this.rootId; tail = rest.slice(4); }
    else if (rest.startsWith('items/')) {
      const end = rest.slice(6).search(/[:/]/);
      baseId = decodeURIComponent(end === -1 ? rest.slice(6) : rest.slice(6, 6 + end));
      tail = end === -1 ? '' : rest.slice(6 + end);
    } else return send(res, 400, { error: { code: 'invalidRequest', message: 'route' } });
    let rel: string[] = [];
    let action = tail;
    if (tail.startsWith(':/')) {
      const close = tail.indexOf(':', 2);
      rel = split(close === -1 ? tail.slice(2) : tail.slice(2, close)).map(decodeURIComponent);
      action = close === -1 ? '' : tail.slice(close + 1);
    }
    const m = req.method;
    const route: Route | undefined =
      action === '' ? (m === 'GET' ? 'item' : m === 'PATCH' ? 'move' : m === 'DELETE' ? 'delete' : undefined)
      : action === '/children' ? (m === 'GET' ? 'children' : m === 'POST' ? 'createFolder' : undefined)
      : action === '/content' ? (m === 'GET' ? 'content' : m === 'PUT' ? 'simpleUpload' : undefined)
      : action === '/createUploadSession' && m === 'POST' ? 'createSession'
      : action === '/delta' && m === 'GET' ? 'delta' : undefined;
    if (!route) return send(res, 400, { error: { code: 'invalidRequest', message: 'route' } });
    const f = this.take(route);
    if (fault(res, f)) return;
    const drop = f !== undefined && 'acceptThenDrop' in f;
    const reply = (status: number, b?: unknown, headers?: Record<string, string>): void => (drop ? void res.socket?.destroy() : send(res, status, b, headers));
    const notFound = (): void => reply(404, { error: { code: 'itemNotFound', message: 'The resource could not be found.' } });
    const conflict = (): void => reply(409, { error: { code: 'nameAlreadyExists', message: `The specified item name already exists. Name: ${rel.join('/')}` } });
    const base = this.items.get(baseId);
    if (!base) return notFound();
    const target = this.resolve(baseId, rel);
    const conflictBehavior = url.searchParams.get('@microsoft.graph.conflictBehavior') ?? 'fail';

    switch (route) {
      case 'item': return target ? reply(200, this.json(target)) : notFound();
      case 'delete': {
        if (!target) return notFound();
        this.remove(target);
        return reply(204);
      }
      case 'move': {
        if (!target) return notFound();
        const ifMatch = req.headers['if-match'];
        if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== this.etag(target)) return reply(412, { error: { code: 'preconditionFailed', message: 'eTag mismatch' } });
        const patch = JSON.parse(body.toString('utf8')) as { name?: string; parentReference?: { id?: string } };
        const parentId = patch.parentReference?.id ?? target.parentId!;
        const name = patch.name ?? target.name;
        if (!this.items.get(parentId)?.folder) return reply(400, { error: { code: 'invalidRequest', message: 'parent' } });
        const clash = this.child(parentId, name);
        if (clash && clash !== target) return conflict();
        this.tombstones.push({ id: target.id, parentId: target.parentId!, ancestors: [target.parentId!, ...this.ancestors(target.parentId!)], seq: ++this.seq });
        target.parentId = parentId;
        target.name = name;
        this.bump(target);
        return reply(200, this.json(target));
      }
      case 'children': {
        if (!target?.folder) return notFound();
        return this.page(reply, this.childrenOf(target.id).map((i) => this.json(i)), url, `/v1.0/drives/${this.driveId}/items/${target.id}/children`);
      }
      case 'createFolder': {
        if (!target?.folder) return notFound();
        const spec = JSON.parse(body.toString('utf8')) as { name: string; '@microsoft.graph.conflictBehavior'?: string };
        if (this.child(target.id, spec.name)) { rel = [spec.name]; return conflict(); }
        return reply(201, this.json(this.create(target.id, spec.name, true)));
      }
      case 'content': {
        if (!target || target.folder) return notFound();
        const dl = `${this.preOrigin}/dl/${target.id}?sig=${randomUUID()}`;
        return reply(302, undefined, { Location: this.contentLocation ? this.contentLocation(dl) : dl });
      }
      case 'simpleUpload': {
        const len = req.headers['content-length'];
        if (len !== undefined && Number(len) !== body.length) return reply(400, { error: { code: 'invalidRequest', message: 'length' } });
        if (body.length > 4 * 1024 * 1024) return reply(413, { error: { code: 'invalidRequest', message: 'too large for a simple upload' } });
        const out = this.store(baseId, rel, body, conflictBehavior);
        return out === 'conflict' ? conflict() : reply(out.created ? 201 : 200, this.json(out.item));
      }
      case 'createSession': {
        const spec = JSON.parse(body.toString('utf8') || '{}') as { item?: { '@microsoft.graph.conflictBehavior'?: string } };
        const behavior = spec.item?.['@microsoft.graph.conflictBehavior'] ?? 'fail';
        if (behavior === 'fail' && target) return conflict();
        const parent = this.ensurePath(baseId, rel.slice(0, -1));
        const s: Session = { id: randomUUID(), parentId: parent.id, name: rel[rel.length - 1]!, conflict: behavior, received: [], length: 0 };
        this.sessions.set(s.id, s);
        return reply(200, { uploadUrl: `${this.preOrigin}/up/${s.id}`, expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), nextExpectedRanges: ['0-'] });
      }
      case 'delta': return this.delta(reply, target, url);
    }
  }

  private store(baseId: string, rel: string[], content: Buffer, behavior: string): { item: FakeItem; created: boolean } | 'conflict' {
    const parent = this.ensurePath(baseId, rel.slice(0, -1)); // path-based uploads create missing folders
    const name = rel[rel.length - 1]!;
    const existing = this.child(parent.id, name);
    if (existing && behavior === 'fail') return 'conflict';
    if (existing) {
      existing.content = content;
      this.bump(existing);
      return { item: existing, created: false };
    }
    return { item: this.create(parent.id, name, false, content), created: true };
  }

  private remove(it: FakeItem): void {
    for (const c of this.childrenOf(it.id)) this.remove(c);
    this.tombstones.push({ id: it.id, parentId: it.parentId!, ancestors: [it.parentId!, ...this.ancestors(it.parentId!)], seq: ++this.seq });
    this.items.delete(it.id);
  }

  private page(reply: (s: number, b?: unknown) => void, all: unknown[], url: URL, path: string, extra: Record<string, unknown> = {}, query = ''): void {
    const size = this.opts.pageSize ?? 2;
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const value = all.slice(skip, skip + size);
    const more = skip + size < all.length;
    reply(200, { value, ...(more ? { '@odata.nextLink': `${this.apiOrigin}${path}?${query}$skiptoken=${skip + size}` } : extra) });
  }

  private delta(reply: (s: number, b?: unknown) => void, folder: FakeItem | undefined, url: URL): void {
    if (!folder?.folder) return reply(404, { error: { code: 'itemNotFound', message: 'folder' } });
    if (this.opts.deltaRootOnly && folder.id !== this.rootId) return reply(400, { error: { code: 'invalidRequest', message: 'Delta is only supported on the root folder.' } });
    const path = `/v1.0/drives/${this.driveId}/items/${folder.id}/delta`;
    const token = url.searchParams.get('token');
    const link = { '@odata.deltaLink': `${this.apiOrigin}${path}?token=${this.seq}` };
    if (token === 'latest') return reply(200, { value: [], ...link });
    if (token !== null && !/^\d+$/.test(token)) return reply(410, { error: { code: 'resyncRequired', message: 'Resync required.' } });
    const since = token === null ? -1 : Number(token);
    const live = [...this.items.values()].filter((i) => i.seq > since && (i.id === folder.id || this.ancestors(i.id).includes(folder.id))).map((i) => this.json(i));
    const inScope = new Set(live.map((i) => i.id));
    // A move within the scope is a change of the item, not a deletion.
    const gone = this.tombstones.filter((t) => t.seq > since && t.ancestors.includes(folder.id) && !inScope.has(t.id) && !this.isUnder(t.id, folder.id)).map((t) => ({ id: t.id, deleted: { state: 'deleted' }, parentReference: { id: t.parentId } }));
    this.page(reply, [...live, ...gone], url, path, link, token === null ? '' : `token=${token}&`);
  }

  // -- pre-authenticated origin ----------------------------------------------------------------------

  private async onPre(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.preOrigin);
    const body = await readBody(req);
    if (req.headers.authorization !== undefined) {
      this.authOnPreauth++;
      return send(res, 401, { error: { code: 'unauthenticated', message: 'pre-authenticated URLs take no token' } });
    }
    if (req.method === 'GET' && (url.pathname === '/hop' || url.pathname === '/loop')) {
      this.take('hop');
      return send(res, 302, undefined, { Location: url.pathname === '/loop' ? '/loop' : url.searchParams.get('to') ?? '/' });
    }
    const dl = /^\/dl\/([^/]+)$/.exec(url.pathname);
    if (dl && req.method === 'GET') {
      if (fault(res, this.take('download'))) return;
      const it = this.items.get(dl[1]!);
      if (!it) return send(res, 404, { error: { code: 'itemNotFound', message: 'gone' } });
      const bytes = Buffer.from(it.content);
      if (this.corrupt.has(it.id) && bytes.length > 0) bytes[0] = bytes[0]! ^ 0xff;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
      return void res.end(bytes);
    }
    const up = /^\/up\/([^/]+)$/.exec(url.pathname);
    const s = up ? this.sessions.get(up[1]!) : undefined;
    if (!up) return send(res, 404, { error: { code: 'itemNotFound', message: 'no route' } });
    const route: Route = req.method === 'PUT' ? 'fragment' : req.method === 'DELETE' ? 'sessionDelete' : 'sessionStatus';
    const f = this.take(route);
    if (fault(res, f)) return;
    if (!s) return send(res, 404, { error: { code: 'itemNotFound', message: 'session' } });
    const status = (): Record<string, unknown> => ({ expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), nextExpectedRanges: [`${s.length}-`] });
    if (route === 'sessionStatus') return send(res, 200, status());
    if (route === 'sessionDelete') { this.sessions.delete(s.id); return send(res, 204); }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
    if (!range) return send(res, 400, { error: { code: 'invalidRange', message: 'Content-Range' } });
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    const bad = (why: string): void => send(res, 416, { error: { code: 'invalidRange', message: why } });
    if (start !== s.length) return bad('fragment does not start at the next expected byte');
    if (end - start + 1 !== body.length) return bad('fragment length does not match Content-Range');
    if (s.total !== undefined && s.total !== total) return bad('total changed');
    if ((end - start + 1) % UNIT !== 0 && end !== total - 1) return bad('fragment size is not a multiple of 320 KiB');
    s.total = total;
    s.received.push(body);
    s.length += body.length;
    const drop = f !== undefined && 'acceptThenDrop' in f;
    if (s.length < total) return drop ? void res.socket?.destroy() : send(res, 202, status());
    this.sessions.delete(s.id);
    const out = this.store(s.parentId, [s.name], Buffer.concat(s.received), s.conflict);
    if (drop) return void res.socket?.destroy();
    if (out === 'conflict') return send(res, 409, { error: { code: 'nameAlreadyExists', message: `The specified item name already exists. Name: ${s.name}` } });
    return send(res, out.created ? 201 : 200, this.json(out.item));
  }
}

function split(path: string): string[] { return path.split('/').filter((s) => s !== ''); }

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Applies a status or drop fault; acceptThenDrop is left to the handler. True when answered. */
function fault(res: ServerResponse, f: Fault | undefined): boolean {
  if (!f || 'acceptThenDrop' in f) return false;
  if ('answer' in f) {
    send(res, f.answer, f.body);
    return true;
  }
  if ('dropConnection' in f) {
    res.socket?.destroy();
    return true;
  }
  const code = f.code ?? (f.status === 429 ? 'activityLimitReached' : f.status === 410 ? 'resyncRequired' : f.status === 401 ? 'InvalidAuthenticationToken' : 'serviceNotAvailable');
  send(res, f.status, { error: { code, message: 'injected fault for DOE^JOHN_MRN12345.dcm' } }, f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {});
  return true;
}
