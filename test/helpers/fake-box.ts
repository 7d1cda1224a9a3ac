// A fake Box API on 127.0.0.1, written from Box's public API reference (developer.box.com/reference):
// the OAuth2 token endpoint (client credentials), folders, files, uploads (direct and upload
// sessions), downloads (302 to a second origin) and the events long-poll. State lives in memory;
// faults are injected per route, deterministically. Routes are named 'METHOD /path/:param', with
// the /2.0 (and upload /api/2.0) prefix left off, e.g. 'GET /folders/:id/items', 'GET /d/:id'.
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { readonly status: number; readonly retryAfter?: number; readonly code?: string } | { readonly dropConnection: true };

export interface FakeFolder { readonly type: 'folder'; readonly id: string; name: string; parentId: string | undefined; etag: number; trashed: boolean }
export interface FakeFile { readonly type: 'file'; readonly id: string; name: string; parentId: string; content: Buffer; sha1: string; etag: number; trashed: boolean; versions: number }
type Node = FakeFolder | FakeFile;

interface Session { readonly id: string; readonly folderId?: string; readonly fileId?: string; readonly name: string; readonly size: number; readonly partSize: number; readonly parts: Map<number, { readonly id: string; readonly data: Buffer; readonly sha1: string }> }

export interface FakeBoxOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Items per folder-listing page at most (small, so that tests cross pages). */
  readonly pageSize?: number;
  readonly partSize?: number;
  /** Box refuses upload sessions for smaller files; tests of small sessions lower it. */
  readonly minSessionSize?: number;
  readonly tokenTtlSec?: number;
  /** How long the long-poll server holds a request before answering 'reconnect'. */
  readonly longPollHoldMs?: number;
}

type Req = http.IncomingMessage & { body: Buffer; url: string; query: URLSearchParams };
type Handler = (req: Req, res: http.ServerResponse, params: string[]) => void;

const sha1hex = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

export class FakeBox {
  readonly clientId: string;
  readonly clientSecret: string;
  pageSize: number;
  partSize: number;
  minSessionSize: number;
  private readonly tokenTtlSec: number;
  private readonly longPollHoldMs: number;
  private readonly counts = new Map<string, number>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly tokens = new Map<string, { expired: boolean }>();
  private readonly nodes = new Map<string, Node>();
  private readonly sessions = new Map<string, Session>();
  private readonly waiters = new Set<() => void>();
  private readonly headersSeen = new Map<string, http.IncomingHttpHeaders>();
  private readonly events: { readonly position: bigint; readonly type: string; readonly id: string }[] = [];
  private position = 1152922976252290886n; // Box stream positions exceed 2^53
  private nextId = 1000;
  private api = http.createServer((q: http.IncomingMessage, s: http.ServerResponse) => this.serve(q, s, this.apiRoutes));
  private dl = http.createServer((q: http.IncomingMessage, s: http.ServerResponse) => this.serve(q, s, this.dlRoutes));
  /**
   * Where GET /files/:id/content redirects instead of the download origin (given as `dl`). The
   * download origin also serves `/hop?to=URL` (302 to `to`) and `/loop` (302 to itself).
   */
  contentLocation?: (dl: string) => string;
  /** When set, upload sessions announce this total_parts instead of the true count. */
  totalParts?: number;
  /** Subjects the token endpoint was asked for, e.g. 'enterprise:123'. */
  readonly subjects: string[] = [];
  apiOrigin = '';
  dlOrigin = '';

  constructor(options: FakeBoxOptions = {}) {
    this.clientId = options.clientId ?? 'fake-client';
    this.clientSecret = options.clientSecret ?? 'fake-secret';
    this.pageSize = options.pageSize ?? 1000;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.minSessionSize = options.minSessionSize ?? 20_000_000;
    this.tokenTtlSec = options.tokenTtlSec ?? 3600;
    this.longPollHoldMs = options.longPollHoldMs ?? 2000;
    this.nodes.set('0', { type: 'folder', id: '0', name: 'All Files', parentId: undefined, etag: 0, trashed: false });
  }

  get baseUrls(): { baseUrl: string; uploadUrl: string; oauth2Url: string } {
    return { baseUrl: this.apiOrigin, uploadUrl: `${this.apiOrigin}/api`, oauth2Url: `${this.apiOrigin}/oauth2` };
  }

  async start(): Promise<void> {
    const listen = (s: http.Server): Promise<string> =>
      new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
    this.apiOrigin = await listen(this.api);
    this.dlOrigin = await listen(this.dl);
  }

  async stop(): Promise<void> {
    for (const wake of this.waiters) wake();
    for (const s of [this.api, this.dl]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  // ---- test controls ---------------------------------------------------------------------------

  /** The next `times` requests on `route` get `fault` instead of an answer. */
  failNext(route: string, fault: Fault, times = 1): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...Array<Fault>(times).fill(fault)]);
  }
  count(route: string): number {
    return this.counts.get(route) ?? 0;
  }
  lastHeaders(route: string): http.IncomingHttpHeaders | undefined {
    return this.headersSeen.get(route);
  }
  /** Every token issued so far stops working: the next call gets 401 and must renew. */
  /** Forgets every fault still queued. */
  clearFaults(): void {
    this.faults.clear();
  }
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expired = true;
  }
  addFolder(parentId: string, name: string): string {
    const id = String(this.nextId++);
    this.nodes.set(id, { type: 'folder', id, name, parentId, etag: 0, trashed: false });
    return id;
  }
  addFile(parentId: string, name: string, content: Buffer | string): string {
    const id = String(this.nextId++);
    const data = Buffer.from(content);
    this.nodes.set(id, { type: 'file', id, name, parentId, content: data, sha1: sha1hex(data), etag: 0, trashed: false, versions: 1 });
    this.event('ITEM_UPLOAD', id);
    return id;
  }
  file(id: string): FakeFile | undefined {
    const n = this.nodes.get(id);
    return n?.type === 'file' ? n : undefined;
  }
  folder(id: string): FakeFolder | undefined {
    const n = this.nodes.get(id);
    return n?.type === 'folder' ? n : undefined;
  }
  /** Live (not trashed) children of a folder. */
  children(parentId: string): Node[] {
    return [...this.nodes.values()].filter((n) => n.parentId === parentId && !n.trashed);
  }
  /** The live item at `path` ('a/b/c.dcm') under `parentId`. */
  at(parentId: string, path: string): Node | undefined {
    let node: Node | undefined = this.nodes.get(parentId);
    for (const part of path.split('/')) node = node && this.child(node.id, part);
    return node;
  }
  /** The trashed state, for ack tests. */
  isTrashed(id: string): boolean {
    return this.nodes.get(id)?.trashed === true;
  }
  get streamPosition(): string {
    return this.position.toString();
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private child(parentId: string, name: string): Node | undefined {
    return this.children(parentId).find((n) => n.name.toLowerCase() === name.toLowerCase());
  }

  private event(type: string, id: string): void {
    this.position += 1n;
    this.events.push({ position: this.position, type, id });
    for (const wake of [...this.waiters]) wake();
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse, routes: [string, RegExp, Handler][]): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/^\/(api\/)?2\.0/, '');
      const r = Object.assign(req, { body: Buffer.concat(chunks), url: url.pathname, query: url.searchParams });
      for (const [route, pattern, handler] of routes) {
        const m = pattern.exec(`${req.method} ${path}`);
        if (!m) continue;
        this.counts.set(route, this.count(route) + 1);
        this.headersSeen.set(route, req.headers);
        const fault = this.faults.get(route)?.shift();
        if (fault && 'dropConnection' in fault) {
          if (route === 'GET /d/:id') return this.dropMidBody(res, m[1]!);
          return void req.socket.destroy();
        }
        if (fault) {
          const headers: http.OutgoingHttpHeaders = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
          if (fault.status === 401) headers['www-authenticate'] = 'Bearer realm="Service", error="invalid_token"';
          if (fault.status === 202 || fault.status === 401) return void res.writeHead(fault.status, headers).end();
          return this.error(res, fault.status, fault.code ?? (fault.status === 429 ? 'rate_limit_exceeded' : 'unavailable'), 'Injected', undefined, headers);
        }
        const needsToken = routes !== this.dlRoutes && !route.startsWith('POST /oauth2') && route !== 'GET /subscribe';
        if (needsToken && !this.authorized(req)) {
          return void res.writeHead(401, { 'www-authenticate': 'Bearer realm="Service", error="invalid_token"' }).end();
        }
        try {
          return handler(r, res, m.slice(1));
        } catch (e) {
          return this.error(res, 400, 'bad_request', String(e));
        }
      }
      this.error(res, 404, 'not_found', 'Not Found');
    });
  }

  private authorized(req: http.IncomingMessage): boolean {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return token !== undefined && this.tokens.get(token)?.expired === false;
  }

  private dropMidBody(res: http.ServerResponse, id: string): void {
    const f = this.file(id);
    const data = f?.content ?? Buffer.alloc(0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    res.write(data.subarray(0, Math.floor(data.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string, contextInfo?: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    this.json(res, status, { type: 'error', status, code, message, ...(contextInfo ? { context_info: contextInfo } : {}), request_id: randomBytes(6).toString('hex') }, headers);
  }

  private fields(req: Req, full: Record<string, unknown>): Record<string, unknown> {
    const asked = req.query.get('fields');
    if (!asked) return full;
    const keep = new Set(['type', 'id', 'etag', ...asked.split(',')]);
    return Object.fromEntries(Object.entries(full).filter(([k]) => keep.has(k)));
  }

  private itemJson(n: Node): Record<string, unknown> {
    const base = { type: n.type, id: n.id, etag: String(n.etag), sequence_id: String(n.etag), name: n.name };
    if (n.type === 'folder') return { ...base, ...(n.parentId ? { parent: { type: 'folder', id: n.parentId } } : {}) };
    return { ...base, size: n.content.length, sha1: n.sha1, parent: { type: 'folder', id: n.parentId }, file_version: { type: 'file_version', id: `${n.id}v${n.versions}`, sha1: n.sha1 } };
  }

  /** 409 item_name_in_use: `conflicts` is a list for folders, one object for file uploads (as Box answers). */
  private clash(res: http.ServerResponse, existing: Node, asList: boolean): void {
    const mini = this.itemJson(existing);
    this.error(res, 409, 'item_name_in_use', 'Item with the same name already exists', { conflicts: asList ? [mini] : mini });
  }

  private ifMatchFails(req: Req, n: Node): boolean {
    const want = req.headers['if-match'];
    return typeof want === 'string' && want !== String(n.etag);
  }

  private store(res: http.ServerResponse, target: { folderId?: string; fileId?: string; name: string }, data: Buffer, status = 201): void {
    let f: FakeFile;
    const existing = target.fileId ? this.file(target.fileId) : undefined;
    if (existing) {
      Object.assign(existing, { content: data, sha1: sha1hex(data), etag: existing.etag + 1, versions: existing.versions + 1 });
      f = existing;
    } else {
      const parent = this.folder(target.folderId ?? '');
      if (!parent || parent.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      const clash = this.child(parent.id, target.name);
      if (clash) return this.clash(res, clash, false);
      const id = String(this.nextId++);
      f = { type: 'file', id, name: target.name, parentId: parent.id, content: data, sha1: sha1hex(data), etag: 0, trashed: false, versions: 1 };
      this.nodes.set(id, f);
    }
    this.event('ITEM_UPLOAD', f.id);
    this.json(res, status, { total_count: 1, entries: [this.itemJson(f)] });
  }

  private multipart(req: Req): Map<string, Buffer> {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
    const sep = Buffer.from(`--${boundary?.[1] ?? boundary?.[2]}`);
    const parts = new Map<string, Buffer>();
    let at = req.body.indexOf(sep);
    while (at >= 0) {
      const next = req.body.indexOf(sep, at + sep.length);
      if (next < 0) break;
      const part = req.body.subarray(at + sep.length + 2, next - 2);
      const split = part.indexOf('\r\n\r\n');
      const name = /name="([^"]+)"/.exec(part.subarray(0, split).toString())?.[1];
      if (name) parts.set(name, part.subarray(split + 4));
      at = next;
    }
    return parts;
  }

  private upload(req: Req, res: http.ServerResponse, fileId?: string): void {
    const parts = this.multipart(req);
    const attributes = JSON.parse(parts.get('attributes')?.toString() ?? '{}') as { name?: string; parent?: { id?: string } };
    const data = parts.get('file');
    if (!data || !attributes.name) return this.error(res, 400, 'bad_request', 'attributes and file are required');
    const md5 = req.headers['content-md5'];
    if (typeof md5 === 'string' && md5.toLowerCase() !== sha1hex(data)) return this.error(res, 400, 'bad_digest', 'The specified content-md5 did not match what we received');
    if (fileId !== undefined) {
      const f = this.file(fileId);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      if (this.ifMatchFails(req, f)) return this.error(res, 412, 'precondition_failed', 'The resource has been modified');
    }
    this.store(res, { folderId: attributes.parent?.id, fileId, name: attributes.name }, data);
  }

  private createSession(req: Req, res: http.ServerResponse, fileId?: string): void {
    const body = JSON.parse(req.body.toString()) as { folder_id?: string; file_size?: number; file_name?: string };
    const size = body.file_size ?? 0;
    if (size < this.minSessionSize) return this.error(res, 400, 'file_size_too_small', 'File is too small for an upload session');
    if (fileId !== undefined && !this.file(fileId)) return this.error(res, 404, 'not_found', 'Not Found');
    if (fileId === undefined) {
      if (!this.folder(body.folder_id ?? '')) return this.error(res, 404, 'not_found', 'Not Found');
      const clash = this.child(body.folder_id!, body.file_name ?? '');
      if (clash) return this.clash(res, clash, false);
    }
    const id = randomBytes(8).toString('hex').toUpperCase();
    const name = body.file_name ?? this.file(fileId ?? '')?.name ?? '';
    this.sessions.set(id, { id, ...(fileId ? { fileId } : { folderId: body.folder_id! }), name, size, partSize: this.partSize, parts: new Map() });
    const url = `${this.apiOrigin}/api/2.0/files/upload_sessions/${id}`;
    this.json(res, 201, {
      id, type: 'upload_session', session_expires_at: new Date(Date.now() + 86_400_000).toISOString(), part_size: this.partSize,
      total_parts: this.totalParts ?? Math.ceil(size / this.partSize), num_parts_processed: 0,
      session_endpoints: { upload_part: url, commit: `${url}/commit`, abort: url, list_parts: `${url}/parts`, status: url, log_event: `${url}/log` },
    });
  }

  private uploadPart(req: Req, res: http.ServerResponse, sid: string): void {
    const s = this.sessions.get(sid);
    if (!s) return this.error(res, 404, 'not_found', 'Not Found');
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
    if (!range) return this.error(res, 400, 'bad_request', 'content-range required');
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    const lastPart = end === s.size - 1;
    if (total !== s.size || start % s.partSize !== 0 || (!lastPart && end - start + 1 !== s.partSize) || end - start + 1 !== req.body.length) {
      return this.error(res, 416, 'range_not_satisfiable', 'Content-Range does not fit the session');
    }
    const digest = /^sha=(.+)$/.exec(String(req.headers['digest'] ?? ''))?.[1];
    const got = createHash('sha1').update(req.body).digest('base64');
    if (digest !== got) return this.error(res, 400, 'bad_digest', 'The digest did not match what we received');
    const part = { id: randomBytes(4).toString('hex').toUpperCase(), data: req.body, sha1: sha1hex(req.body) };
    s.parts.set(start, part);
    this.json(res, 200, { part: { part_id: part.id, offset: start, size: req.body.length, sha1: part.sha1 } });
  }

  private commit(req: Req, res: http.ServerResponse, sid: string): void {
    const s = this.sessions.get(sid);
    if (!s) return this.error(res, 404, 'not_found', 'Not Found');
    const body = JSON.parse(req.body.toString()) as { parts?: { part_id: string; offset: number; size: number }[] };
    const listed = [...(body.parts ?? [])].sort((a, b) => a.offset - b.offset);
    const stored = [...s.parts.entries()].sort((a, b) => a[0] - b[0]);
    if (listed.length !== stored.length || listed.some((p, i) => p.part_id !== stored[i]![1].id || p.offset !== stored[i]![0])) {
      return this.error(res, 400, 'bad_request', 'The parts listed do not match the parts uploaded');
    }
    const data = Buffer.concat(stored.map(([, p]) => p.data));
    if (data.length !== s.size) return this.error(res, 400, 'bad_request', 'Parts do not cover the file');
    const digest = /^sha=(.+)$/.exec(String(req.headers['digest'] ?? ''))?.[1];
    if (digest !== createHash('sha1').update(data).digest('base64')) return this.error(res, 400, 'bad_digest', 'The digest did not match what we received');
    this.sessions.delete(sid);
    this.store(res, { folderId: s.folderId, fileId: s.fileId, name: s.name }, data);
  }

  private longPoll(req: Req, res: http.ServerResponse): void {
    const since = BigInt(req.query.get('stream_position') ?? '0');
    const answer = (message: string): void => {
      this.waiters.delete(wake);
      clearTimeout(timer);
      if (!res.writableEnded && !res.destroyed) this.json(res, 200, { message });
    };
    const wake = (): void => answer('new_change');
    const timer = setTimeout(() => answer('reconnect'), this.longPollHoldMs);
    res.on('close', () => { this.waiters.delete(wake); clearTimeout(timer); });
    if (this.events.some((e) => e.position > since)) return wake();
    this.waiters.add(wake);
  }

  private getEvents(req: Req, res: http.ServerResponse): void {
    const asked = req.query.get('stream_position') ?? '0';
    // Positions are written raw: JSON numbers beyond 2^53, as Box sends them.
    const write = (next: bigint, entries: unknown[]): void =>
      void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"chunk_size":${entries.length},"next_stream_position":${next},"entries":${JSON.stringify(entries)}}`);
    if (asked === 'now') return write(this.position, []);
    const limit = Number(req.query.get('limit') ?? '100');
    const picked = this.events.filter((e) => e.position > BigInt(asked)).slice(0, limit);
    const entries = picked.map((e) => ({ type: 'event', event_id: `e${e.position}`, event_type: e.type, source: { type: 'file', id: e.id } }));
    write(picked.at(-1)?.position ?? BigInt(asked), entries);
  }

  private readonly dlRoutes: [string, RegExp, Handler][] = [
    ['GET /hop', /^GET \/hop$/, (req, res) => void res.writeHead(302, { location: req.query.get('to') ?? '/' }).end()],
    ['GET /loop', /^GET \/loop$/, (_q, res) => void res.writeHead(302, { location: '/loop' }).end()],
    ['GET /d/:id', /^GET \/d\/(\d+)$/, (_q, res, [id]) => {
      const f = this.file(id!);
      if (!f || f.trashed) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.content.length }).end(f.content);
    }],
  ];

  private readonly apiRoutes: [string, RegExp, Handler][] = [
    ['POST /oauth2/token', /^POST \/oauth2\/token$/, (req, res) => {
      const form = new URLSearchParams(req.body.toString());
      if (form.get('grant_type') !== 'client_credentials') return this.json(res, 400, { error: 'unsupported_grant_type', error_description: 'Grant type not supported' });
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return this.json(res, 400, { error: 'invalid_client', error_description: 'The client credentials are invalid' });
      const type = form.get('box_subject_type');
      const subject = form.get('box_subject_id');
      if ((type !== 'enterprise' && type !== 'user') || !subject) return this.json(res, 400, { error: 'invalid_grant', error_description: 'Grant credentials are invalid' });
      this.subjects.push(`${type}:${subject}`);
      const token = randomBytes(16).toString('hex');
      this.tokens.set(token, { expired: false });
      this.json(res, 200, { access_token: token, expires_in: this.tokenTtlSec, token_type: 'bearer', restricted_to: [] });
    }],
    ['GET /folders/:id', /^GET \/folders\/(\d+)$/, (req, res, [id]) => {
      const f = this.folder(id!);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      this.json(res, 200, this.fields(req, this.itemJson(f)));
    }],
    ['GET /folders/:id/items', /^GET \/folders\/(\d+)\/items$/, (req, res, [id]) => {
      if (!this.folder(id!) || this.folder(id!)!.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      const all = this.children(id!).sort((a, b) => (a.type === b.type ? Number(a.id) - Number(b.id) : a.type === 'folder' ? -1 : 1));
      const limit = Math.min(Number(req.query.get('limit') ?? '100'), this.pageSize);
      const useMarker = req.query.get('usemarker') === 'true';
      const marker = req.query.get('marker');
      const offset = useMarker ? (marker ? Number(Buffer.from(marker, 'base64url').toString()) : 0) : Number(req.query.get('offset') ?? '0');
      const entries = all.slice(offset, offset + limit).map((n) => this.fields(req, this.itemJson(n)));
      const more = offset + limit < all.length;
      if (useMarker) return this.json(res, 200, { entries, limit, next_marker: more ? Buffer.from(String(offset + limit)).toString('base64url') : null });
      this.json(res, 200, { entries, total_count: all.length, offset, limit, order: [{ by: 'type', direction: 'ASC' }] });
    }],
    ['POST /folders', /^POST \/folders$/, (req, res) => {
      const body = JSON.parse(req.body.toString()) as { name?: string; parent?: { id?: string } };
      const parent = this.folder(body.parent?.id ?? '');
      if (!parent || parent.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      if (!body.name) return this.error(res, 400, 'bad_request', 'name required');
      const clash = this.child(parent.id, body.name);
      if (clash) return this.clash(res, clash, true);
      const id = this.addFolder(parent.id, body.name);
      this.json(res, 201, this.fields(req, this.itemJson(this.folder(id)!)));
    }],
    ['DELETE /folders/:id', /^DELETE \/folders\/(\d+)$/, (req, res, [id]) => {
      const f = this.folder(id!);
      if (!f || f.trashed || f.parentId === undefined) return this.error(res, 404, 'not_found', 'Not Found');
      if (this.ifMatchFails(req, f)) return this.error(res, 412, 'precondition_failed', 'The resource has been modified');
      const trash = (n: Node): void => {
        for (const c of this.children(n.id)) trash(c);
        n.trashed = true;
      };
      if (this.children(f.id).length > 0 && req.query.get('recursive') !== 'true') return this.error(res, 400, 'folder_not_empty', 'Cannot delete – folder not empty');
      trash(f);
      this.event('ITEM_TRASH', f.id);
      res.writeHead(204).end();
    }],
    ['GET /files/:id', /^GET \/files\/(\d+)$/, (req, res, [id]) => {
      const f = this.file(id!);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      this.json(res, 200, this.fields(req, this.itemJson(f)));
    }],
    ['PUT /files/:id', /^PUT \/files\/(\d+)$/, (req, res, [id]) => {
      const f = this.file(id!);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      if (this.ifMatchFails(req, f)) return this.error(res, 412, 'precondition_failed', 'The resource has been modified');
      const body = JSON.parse(req.body.toString()) as { name?: string; parent?: { id?: string } };
      const parentId = body.parent?.id ?? f.parentId;
      if (!this.folder(parentId) || this.folder(parentId)!.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      const clash = this.child(parentId, body.name ?? f.name);
      if (clash && clash.id !== f.id) return this.clash(res, clash, true);
      Object.assign(f, { name: body.name ?? f.name, parentId, etag: f.etag + 1 });
      this.event('ITEM_MOVE', f.id);
      this.json(res, 200, this.fields(req, this.itemJson(f)));
    }],
    ['DELETE /files/:id', /^DELETE \/files\/(\d+)$/, (req, res, [id]) => {
      const f = this.file(id!);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      if (this.ifMatchFails(req, f)) return this.error(res, 412, 'precondition_failed', 'The resource has been modified');
      f.trashed = true;
      this.event('ITEM_TRASH', f.id);
      res.writeHead(204).end();
    }],
    ['GET /files/:id/content', /^GET \/files\/(\d+)\/content$/, (_q, res, [id]) => {
      const f = this.file(id!);
      if (!f || f.trashed) return this.error(res, 404, 'not_found', 'Not Found');
      const dl = `${this.dlOrigin}/d/${f.id}`;
      res.writeHead(302, { location: this.contentLocation ? this.contentLocation(dl) : dl }).end();
    }],
    ['POST /files/content', /^POST \/files\/content$/, (req, res) => this.upload(req, res)],
    ['POST /files/:id/content', /^POST \/files\/(\d+)\/content$/, (req, res, [id]) => this.upload(req, res, id)],
    ['POST /files/upload_sessions', /^POST \/files\/upload_sessions$/, (req, res) => this.createSession(req, res)],
    ['POST /files/:id/upload_sessions', /^POST \/files\/(\d+)\/upload_sessions$/, (req, res, [id]) => this.createSession(req, res, id)],
    ['PUT /files/upload_sessions/:id', /^PUT \/files\/upload_sessions\/([0-9A-F]+)$/, (req, res, [sid]) => this.uploadPart(req, res, sid!)],
    ['POST /files/upload_sessions/:id/commit', /^POST \/files\/upload_sessions\/([0-9A-F]+)\/commit$/, (req, res, [sid]) => this.commit(req, res, sid!)],
    ['DELETE /files/upload_sessions/:id', /^DELETE \/files\/upload_sessions\/([0-9A-F]+)$/, (_q, res, [sid]) => {
      this.sessions.delete(sid!);
      res.writeHead(204).end();
    }],
    ['OPTIONS /events', /^OPTIONS \/events$/, (_q, res) => {
      this.json(res, 200, { chunk_size: 1, entries: [{ type: 'realtime_server', url: `${this.apiOrigin}/subscribe?channel=fake&stream_type=all`, ttl: 10, max_retries: '10', retry_timeout: 610 }] });
    }],
    ['GET /events', /^GET \/events$/, (req, res) => this.getEvents(req, res)],
    ['GET /subscribe', /^GET \/subscribe$/, (req, res) => this.longPoll(req, res)],
  ];
}
