// The Box inbox and outbox, through the real box-node-sdk, against the fake Box server
// (test/helpers/fake-box.ts). Retry waits go through an injected sleep that records the delays
// and returns at once: the tests check the delays asked for, not the wall clock.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBoxInbox } from '../../src/cloud/box/box-inbox.js';
import { createBoxOutbox } from '../../src/cloud/box/box-outbox.js';
import { createBoxSession, type BoxConnection, type BoxSession } from '../../src/cloud/box/box-session.js';
import { RemoteError, type RemoteFile, type RemoteInbox } from '../../src/cloud/remote-folder.js';
import { FakeBox, type FakeBoxOptions } from '../helpers/fake-box.js';

const PHI_NAME = 'DOE^JOHN_MRN12345.dcm';
const sha1 = (b: Buffer | string): string => createHash('sha1').update(b).digest('hex');

const tmp = mkdtempSync(join(tmpdir(), 'deid-box-'));
const agent = new http.Agent();
let fake: FakeBox;
let sleeps: number[];

afterAll(() => {
  agent.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

async function startFake(options: FakeBoxOptions = {}): Promise<FakeBox> {
  fake = new FakeBox(options);
  await fake.start();
  return fake;
}

function connection(extra: Partial<BoxConnection> = {}): BoxConnection {
  return { clientId: fake.clientId, clientSecret: fake.clientSecret, enterpriseId: '42', baseUrls: fake.baseUrls, httpAgent: agent, ...extra };
}

function session(extra: Partial<BoxConnection> = {}): BoxSession {
  return createBoxSession(connection(extra), {
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, maxAttempts: 4 },
  });
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function localFile(name: string, content: Buffer | string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

async function caught(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RemoteError);
    return e as RemoteError;
  }
  throw new Error('expected a RemoteError');
}

beforeEach(async () => {
  sleeps = [];
  await startFake({ pageSize: 2 });
});
afterEach(async () => {
  await fake.stop();
});

describe('auth', () => {
  it('ten concurrent calls share one CCG token request, for the enterprise subject', async () => {
    const s = session();
    await Promise.all(Array.from({ length: 10 }, () => s.client.folders.getFolderById('0')));
    expect(fake.count('GET /folders/:id')).toBe(10);
    expect(fake.count('POST /oauth2/token')).toBe(1);
    expect(fake.subjects).toEqual(['enterprise:42']);
  });

  it('asks for a user subject when a user id is given', async () => {
    await session({ userId: '7' }).client.folders.getFolderById('0');
    expect(fake.subjects).toEqual(['user:7']);
  });

  it('an expired token mid-run: one refresh for ten concurrent calls, and they all succeed', async () => {
    const s = session();
    await s.client.folders.getFolderById('0');
    fake.expireTokens();
    await Promise.all(Array.from({ length: 10 }, () => s.client.folders.getFolderById('0')));
    expect(fake.count('POST /oauth2/token')).toBe(2);
    expect(fake.count('GET /folders/:id')).toBe(1 + 10 + 10); // each of the ten: a 401, then success
  });

  it('wrong credentials fail without retry storms and without the secret in the message', async () => {
    const inbox = createBoxInbox(session({ clientSecret: 'wrong-secret-value' }), { folderId: '0', ack: 'delete' });
    const e = await caught(inbox.prepare());
    expect(e.retryable).toBe(false);
    expect(e.message).not.toContain('wrong-secret-value');
    expect(fake.count('POST /oauth2/token')).toBe(1);
  });
});

describe('retries', () => {
  it('honours Retry-After on a 429 (the delay asked for is at least the header)', async () => {
    const inbox = createBoxInbox(session(), { folderId: '0', ack: 'delete' });
    await inbox.prepare();
    fake.addFile('0', 'a.dcm', 'A');
    fake.failNext('GET /folders/:id/items', { status: 429, retryAfter: 3 });
    expect((await all(inbox.list())).map((f) => f.name)).toEqual(['a.dcm']);
    expect(fake.count('GET /folders/:id/items')).toBe(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(3000);
  });

  it('a 503 then success: one backoff, capped exponential with the injected jitter', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    fake.failNext('POST /files/content', { status: 503 });
    expect(await outbox.put('x.dcm', localFile('x', 'X'), sha1('X'))).toEqual({ kind: 'stored' });
    expect(fake.count('POST /files/content')).toBe(2);
    expect(sleeps).toEqual([1000]); // base 1 s × 2^0 × (0.5 + 0.5)
  });

  it('a dropped connection on upload is retried', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    fake.failNext('POST /files/content', { dropConnection: true });
    expect(await outbox.put('y.dcm', localFile('y', 'Y'), sha1('Y'))).toEqual({ kind: 'stored' });
    expect(fake.at('0', 'y.dcm')).toBeDefined();
  });

  it('persistent 503s end as a retry result, after a bounded number of attempts', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    fake.failNext('POST /files/content', { status: 503 }, 10);
    const r = await outbox.put('z.dcm', localFile('z', 'Z'), sha1('Z'));
    expect(r).toMatchObject({ kind: 'retry' });
    expect(fake.count('POST /files/content')).toBe(4);
  });

  it('a Retry-After beyond the in-process cap is handed to the caller', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    fake.failNext('POST /files/content', { status: 429, retryAfter: 3600 });
    expect(await outbox.put('w.dcm', localFile('w', 'W'), sha1('W'))).toEqual({ kind: 'retry', reason: 'box: 429 rate_limit_exceeded', retryAfterMs: 3_600_000 });
    expect(sleeps).toEqual([]);
  });
});

describe('inbox', () => {
  let inbox: RemoteInbox;
  beforeEach(async () => {
    inbox = createBoxInbox(session(), { folderId: '0', ack: 'archive' });
    await inbox.prepare();
  });
  const find = async (name: string): Promise<RemoteFile> => (await all(inbox.list())).find((f) => f.name === name)!;

  it('prepare finds or makes its folders (a 409 on create names the existing one)', async () => {
    const processing = fake.at('0', '.deid-processing')!.id;
    const again = createBoxInbox(session(), { folderId: '0', ack: 'archive' });
    await again.prepare();
    expect(fake.children('0').filter((n) => n.type === 'folder')).toHaveLength(2);
    fake.addFile(processing, 'p.dcm', 'P');
    expect((await all(again.claimed())).map((f) => f.id)).toHaveLength(1);
  });

  it('list recurses nested folders across pages and leaves out its own folders', async () => {
    const a = fake.addFolder('0', 'A');
    const b = fake.addFolder(a, 'B');
    for (let i = 0; i < 5; i++) fake.addFile('0', `top${i}.dcm`, `t${i}`);
    fake.addFile(a, 'a1.dcm', 'a1');
    fake.addFile(b, 'b1.dcm', 'b1');
    fake.addFile(b, 'b2.dcm', 'b2');
    fake.addFile(fake.at('0', '.deid-processing')!.id, 'claimed.dcm', 'c');
    fake.addFile(fake.at('0', '.deid-archive')!.id, 'archived.dcm', 'd');
    const files = await all(inbox.list());
    expect(files.map((f) => f.name).sort()).toEqual(['a1.dcm', 'b1.dcm', 'b2.dcm', 'top0.dcm', 'top1.dcm', 'top2.dcm', 'top3.dcm', 'top4.dcm']);
    // Root: 2 own folders + A + 5 files = 8 items in pages of 2: 4 pages; A: 2 items, 1 page; B: 1 page.
    expect(fake.count('GET /folders/:id/items')).toBe(6);
    const b1 = files.find((f) => f.name === 'b1.dcm')!;
    expect(b1).toMatchObject({ size: 2, digest: { algorithm: 'sha1', value: sha1('b1') } });
    expect(b1.etag).toBeDefined();
  });

  it('claim moves into processing under its id (and extension), and claimed() lists it', async () => {
    const id = fake.addFile('0', 'c.dcm', 'CC');
    const claimed = await inbox.claim(await find('c.dcm'));
    expect(claimed).toMatchObject({ id, name: `${id}.dcm`, size: 2 });
    expect(fake.file(id)!.parentId).toBe(fake.at('0', '.deid-processing')!.id);
    expect(fake.file(id)!.name).toBe(`${id}.dcm`);
    expect(await all(inbox.claimed())).toEqual([claimed]);
    expect(await all(inbox.list())).toEqual([]);
  });

  it('claim of a changed file (etag mismatch) or a gone one answers undefined and moves nothing', async () => {
    const id = fake.addFile('0', 'd.dcm', 'D');
    const listed = await find('d.dcm');
    fake.file(id)!.etag++;
    expect(await inbox.claim(listed)).toBeUndefined();
    expect(fake.file(id)!.parentId).toBe('0');
    expect(await inbox.claim({ ...listed, id: '999999' })).toBeUndefined();
  });

  it('download streams the bytes (302 to another origin) and checks the SHA-1', async () => {
    const content = Buffer.alloc(300_000, 7);
    fake.addFile('0', 'e.dcm', content);
    const to = join(tmp, 'e.out');
    await inbox.download(await find('e.dcm'), to);
    expect(readFileSync(to).equals(content)).toBe(true);
    expect(fake.count('GET /files/:id/content')).toBe(1);
    expect(fake.count('GET /d/:id')).toBe(1);
    expect(fake.lastHeaders('GET /d/:id')!.authorization).toBeUndefined(); // no token to the other origin
  });

  it('download redirects: a few hops are followed, a loop ends after 5, other schemes are refused without the URL', async () => {
    const content = Buffer.alloc(50_000, 5);
    fake.addFile('0', PHI_NAME, content);
    const file = await find(PHI_NAME);
    const to = join(tmp, 'r.out');
    const hop = (url: string): string => `${fake.dlOrigin}/hop?to=${encodeURIComponent(url)}`;
    // http: is allowed here only because the fake's configured base URL is http: (see download-redirect.test.ts).
    fake.contentLocation = (dl) => hop(hop(dl));
    await inbox.download(file, to);
    expect(readFileSync(to).equals(content)).toBe(true);
    expect(fake.count('GET /hop')).toBe(2);
    expect(fake.lastHeaders('GET /hop')!.authorization).toBeUndefined();

    fake.contentLocation = () => `${fake.dlOrigin}/loop`;
    const loop = await caught(inbox.download(file, to));
    expect(loop.message).toBe('box download: redirected too many times');
    expect(loop.retryable).toBe(true);
    expect(fake.count('GET /loop')).toBe(5);

    for (const target of [`file:///etc/${encodeURIComponent(PHI_NAME)}`, hop(`ftp://127.0.0.1/${encodeURIComponent(PHI_NAME)}?sig=SECRET`)]) {
      fake.contentLocation = () => target;
      const e = await caught(inbox.download(file, to));
      expect(e.message).toBe('box download: redirect to a URL that is not https refused');
      expect(e.retryable).toBe(false);
    }
  });

  it('a connection dropped mid-download is a retryable error; the next download succeeds', async () => {
    const content = Buffer.alloc(200_000, 3);
    fake.addFile('0', 'f.dcm', content);
    const file = await find('f.dcm');
    const to = join(tmp, 'f.out');
    fake.failNext('GET /d/:id', { dropConnection: true });
    const e = await caught(inbox.download(file, to));
    expect(e.retryable).toBe(true);
    await inbox.download(file, to);
    expect(readFileSync(to).equals(content)).toBe(true);
  });

  it('a SHA-1 mismatch after download is a retryable RemoteError', async () => {
    const id = fake.addFile('0', 'g.dcm', 'GGG');
    fake.file(id)!.sha1 = sha1('something else');
    const e = await caught(inbox.download(await find('g.dcm'), join(tmp, 'g.out')));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/SHA-1/);
  });

  it('ack archive moves into the archive folder; an ack of a gone file is fine', async () => {
    const id = fake.addFile('0', 'h.dcm', 'H');
    const claimed = (await inbox.claim(await find('h.dcm')))!;
    await inbox.ack(claimed);
    expect(fake.file(id)!.parentId).toBe(fake.at('0', '.deid-archive')!.id);
    expect(await all(inbox.claimed())).toEqual([]);
    await inbox.ack({ ...claimed, id: '999999' });
  });

  it('ack delete sends the file to the trash; twice is fine', async () => {
    const del = createBoxInbox(session(), { folderId: '0', ack: 'delete' });
    const id = fake.addFile('0', 'i.dcm', 'I');
    const claimed = (await del.claim((await all(del.list())).find((f) => f.id === id)!))!;
    await del.ack(claimed);
    expect(fake.isTrashed(id)).toBe(true);
    await del.ack(claimed);
    expect(fake.count('DELETE /files/:id')).toBe(2);
  });

  it('empty subfolders left by claims are removed once seen empty for the window; never the inbox, own folders, or a folder with something in it', async () => {
    let t = 0;
    const pruning = createBoxInbox(session(), { folderId: '0', ack: 'delete', emptyFolderAfterMs: 1000, now: () => t });
    await pruning.prepare();
    const study = fake.addFolder('0', 'study');
    const series = fake.addFolder(study, 'series');
    fake.addFile(series, 'a.dcm', 'A');
    const busy = fake.addFolder('0', 'busy');
    const nested = fake.addFolder('0', 'other-agent');
    const othersOwn = fake.addFolder(nested, '.deid-processing');
    const [a] = await all(pruning.list());
    await pruning.ack((await pruning.claim(a!))!);

    await all(pruning.list()); // t = 0: series and busy seen empty
    t = 999;
    await all(pruning.list());
    expect(fake.folder(series)!.trashed).toBe(false);
    fake.addFile(busy, 'new.dcm', 'N'); // something arrived: busy starts its window again
    t = 1000;
    expect((await all(pruning.list())).map((f) => f.name)).toEqual(['new.dcm']);
    expect(fake.folder(series)!.trashed).toBe(true);
    expect(fake.lastHeaders('DELETE /folders/:id')!['if-match']).toBe('0');
    expect(fake.folder(study)!.trashed).toBe(false); // it still held series when listed
    t = 2000;
    await all(pruning.list()); // study seen empty from now on: one window per level
    expect(fake.folder(study)!.trashed).toBe(false);
    t = 3000;
    await all(pruning.list());
    expect(fake.folder(study)!.trashed).toBe(true);
    expect(fake.folder(busy)!.trashed).toBe(false);
    // Never the inbox itself, its own folders (empty here), nor an own-named folder of another agent.
    t = 1e9;
    await all(pruning.list());
    expect(fake.folder(othersOwn)!.trashed).toBe(false);
    expect(fake.folder(nested)!.trashed).toBe(false);
    expect(fake.at('0', '.deid-processing')).toBeDefined();
    expect(fake.folder('0')!.trashed).toBe(false);
    // A refusal (a file landed after our listing: folder_not_empty) is left for a later listing.
    const late = fake.addFolder('0', 'late');
    await all(pruning.list());
    t += 1000;
    fake.failNext('DELETE /folders/:id', { status: 400, code: 'folder_not_empty' });
    await all(pruning.list());
    expect(fake.folder(late)!.trashed).toBe(false);
    await all(pruning.list()); // its window starts again
    t += 1000;
    await all(pruning.list());
    expect(fake.folder(late)!.trashed).toBe(true);
    expect(fake.count('DELETE /folders/:id')).toBe(4);
  });

  it('changes: no cursor gives the current position (exact, beyond 2^53) and changed = true', async () => {
    const r = await inbox.changes(undefined, 1000);
    expect(r).toEqual({ cursor: fake.streamPosition, changed: true });
    expect(BigInt(r.cursor) > 2n ** 53n).toBe(true);
  });

  it('changes: a file added during the long poll wakes it, and the position advances', async () => {
    const start = await inbox.changes(undefined, 1000);
    const timer = setTimeout(() => fake.addFile('0', 'new.dcm', 'N'), 100);
    const r = await inbox.changes(start.cursor, 10_000);
    clearTimeout(timer);
    expect(r.changed).toBe(true);
    expect(BigInt(r.cursor)).toBeGreaterThan(BigInt(start.cursor));
    expect(r.cursor).toBe(fake.streamPosition);
    expect(fake.count('GET /subscribe')).toBe(1);
  });

  it('changes: nothing within the wait answers changed = false with the same cursor', async () => {
    const start = await inbox.changes(undefined, 1000);
    const r = await inbox.changes(start.cursor, 300);
    expect(r).toEqual({ cursor: start.cursor, changed: false });
  });

  it('changes: events already past the cursor answer at once', async () => {
    const start = await inbox.changes(undefined, 1000);
    fake.addFile('0', 'early.dcm', 'E');
    const r = await inbox.changes(start.cursor, 10_000);
    expect(r).toEqual({ cursor: fake.streamPosition, changed: true });
  });
});

describe('outbox', () => {
  it('put small: folders made along the path, Content-MD5 carries the SHA-1, folder ids cached', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    const content = 'small file';
    expect(await outbox.put('p1/p2/a.dcm', localFile('s1', content), sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.lastHeaders('POST /files/content')!['content-md5']).toBe(sha1(content));
    expect((fake.at('0', 'p1/p2/a.dcm') as { content: Buffer }).content.toString()).toBe(content);
    expect(await outbox.put('p1/p2/b.dcm', localFile('s2', 'b'), sha1('b'))).toEqual({ kind: 'stored' });
    expect(fake.count('POST /folders')).toBe(2);
  });

  it('an existing folder on the path (409 on create) is used', async () => {
    const p = fake.addFolder('0', 'exists');
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    expect(await outbox.put('exists/a.dcm', localFile('s3', 'a'), sha1('a'))).toEqual({ kind: 'stored' });
    expect(fake.at(p, 'a.dcm')).toBeDefined();
  });

  it('a local file that does not match its SHA-1 is refused by Box (bad_digest) and fails', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    expect(await outbox.put('bad.dcm', localFile('s4', 'actual'), sha1('claimed'))).toEqual({ kind: 'failed', reason: 'box: 400 bad_digest' });
  });

  it('put large through an upload session (threshold injected), parts read one at a time', async () => {
    fake.partSize = 1024 * 1024;
    fake.minSessionSize = 0;
    const content = Buffer.alloc(3_500_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
    const outbox = createBoxOutbox(session(), { folderId: '0', chunkedFrom: 3_000_000 });
    expect(await outbox.put('big/large.dcm', localFile('l1', content), sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.count('POST /files/content')).toBe(0);
    expect(fake.count('POST /files/upload_sessions')).toBe(1);
    expect(fake.count('PUT /files/upload_sessions/:id')).toBe(4);
    expect((fake.at('0', 'big/large.dcm') as { content: Buffer }).content.equals(content)).toBe(true);
  });

  it('an upload session asking for a part size out of bounds, or with inconsistent total_parts, is refused and deleted', async () => {
    fake.minSessionSize = 0;
    const content = Buffer.alloc(2_500_000, 4);
    const outbox = createBoxOutbox(session(), { folderId: '0', chunkedFrom: 2_000_000 });
    const path = localFile('l-bounds', content);
    const refused = { kind: 'failed', reason: 'box upload: the upload session asks for an unusable part size' };
    let sessions = 0;
    for (const [partSize, totalParts] of [[128 * 1024, undefined], [256 * 1024 * 1024, undefined], [1024 * 1024, 1]] as const) {
      fake.partSize = partSize;
      fake.totalParts = totalParts;
      expect(await outbox.put('bounds.dcm', path, sha1(content))).toEqual(refused);
      expect(fake.count('POST /files/upload_sessions')).toBe(++sessions);
      expect(fake.count('DELETE /files/upload_sessions/:id')).toBe(sessions);
    }
    expect(fake.count('PUT /files/upload_sessions/:id')).toBe(0);
    fake.partSize = 1024 * 1024;
    fake.totalParts = undefined;
    expect(await outbox.put('bounds.dcm', path, sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.count('PUT /files/upload_sessions/:id')).toBe(3);
  });

  it('a 202 + Retry-After on commit is waited out and the commit retried', async () => {
    fake.partSize = 1024 * 1024;
    fake.minSessionSize = 0;
    const content = Buffer.alloc(2_500_000, 9);
    const outbox = createBoxOutbox(session(), { folderId: '0', chunkedFrom: 2_000_000 });
    fake.failNext('POST /files/upload_sessions/:id/commit', { status: 202, retryAfter: 2 });
    expect(await outbox.put('c.dcm', localFile('l2', content), sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.count('POST /files/upload_sessions/:id/commit')).toBe(2);
    expect(sleeps).toEqual([2000]);
    expect((fake.at('0', 'c.dcm') as { content: Buffer }).content.equals(content)).toBe(true);
  });

  it('put a real 20,000,000-byte file with the default threshold and Box part size', async () => {
    const content = Buffer.alloc(20_000_000, 1);
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    expect(await outbox.put('huge.dcm', localFile('l3', content), sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.count('PUT /files/upload_sessions/:id')).toBe(3);
    expect(fake.file(fake.at('0', 'huge.dcm')!.id)!.sha1).toBe(sha1(content));
  });

  it('idempotent: the same file again is stored without a new file or version', async () => {
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    const path = localFile('s5', 'same');
    expect(await outbox.put('d/same.dcm', path, sha1('same'))).toEqual({ kind: 'stored' });
    const id = fake.at('0', 'd/same.dcm')!.id;
    expect(await outbox.put('d/same.dcm', path, sha1('same'))).toEqual({ kind: 'stored' });
    expect(fake.file(id)).toMatchObject({ versions: 1, etag: 0 });
    expect(fake.children(fake.at('0', 'd')!.id)).toHaveLength(1);
  });

  it("a different file at the path: 'fail' fails (no names), 'replace' uploads a new version", async () => {
    const id = fake.addFile('0', PHI_NAME, 'old');
    const failing = createBoxOutbox(session(), { folderId: '0' });
    const r = await failing.put(PHI_NAME, localFile('s6', 'new'), sha1('new'));
    expect(r).toEqual({ kind: 'failed', reason: 'box: a different file is at the target path' });
    expect(fake.file(id)!.content.toString()).toBe('old');
    const replacing = createBoxOutbox(session(), { folderId: '0', onConflict: 'replace' });
    expect(await replacing.put(PHI_NAME, localFile('s6', 'new'), sha1('new'))).toEqual({ kind: 'stored' });
    expect(fake.file(id)).toMatchObject({ versions: 2 });
    expect(fake.file(id)!.content.toString()).toBe('new');
    expect(fake.count('POST /files/:id/content')).toBe(1);
  });

  it("'replace' of a large file goes through an upload session for the existing file", async () => {
    fake.partSize = 1024 * 1024;
    fake.minSessionSize = 0;
    const id = fake.addFile('0', 'r.dcm', 'old');
    const content = Buffer.alloc(2_200_000, 5);
    const outbox = createBoxOutbox(session(), { folderId: '0', onConflict: 'replace', chunkedFrom: 2_000_000 });
    expect(await outbox.put('r.dcm', localFile('l4', content), sha1(content))).toEqual({ kind: 'stored' });
    expect(fake.count('POST /files/:id/upload_sessions')).toBe(1);
    expect(fake.file(id)!.content.equals(content)).toBe(true);
  });

  it('a folder at the target path fails; a bad relative path fails', async () => {
    fake.addFolder('0', 'dir.dcm');
    const outbox = createBoxOutbox(session(), { folderId: '0' });
    expect(await outbox.put('dir.dcm', localFile('s7', 'x'), sha1('x'))).toMatchObject({ kind: 'failed' });
    expect(await outbox.put('../x.dcm', localFile('s7', 'x'), sha1('x'))).toMatchObject({ kind: 'failed' });
  });
});

describe('no file name in errors or logs', () => {
  it('errors, results and console output never carry a remote file name', async () => {
    const seen: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void seen.push(a.map(String).join(' '))));
    const record = (e: unknown): void => {
      seen.push(String(e), (e as Error).message, (e as Error).stack ?? '', JSON.stringify(e));
      if ((e as Error).cause !== undefined) seen.push(String((e as Error).cause));
    };
    try {
      const inbox = createBoxInbox(session(), { folderId: '0', ack: 'archive' });
      await inbox.prepare();
      const id = fake.addFile('0', PHI_NAME, 'phi bytes');
      const [file] = await all(inbox.list());
      // Claim failing for good (500s until the retries run out), then a 400.
      fake.failNext('PUT /files/:id', { status: 500 }, 4);
      await inbox.claim(file!).catch(record);
      fake.failNext('PUT /files/:id', { status: 400, code: 'bad_request' });
      await inbox.claim(file!).catch(record);
      // Download: a SHA-1 mismatch, then a drop.
      fake.file(id)!.sha1 = sha1('other');
      await inbox.download((await all(inbox.list()))[0]!, join(tmp, 'taint.out')).catch(record);
      fake.failNext('GET /d/:id', { dropConnection: true });
      await inbox.download(file!, join(tmp, 'taint.out')).catch(record);
      // Ack failing; listing failing.
      fake.failNext('PUT /files/:id', { status: 403, code: 'access_denied_insufficient_permissions' });
      await inbox.ack(file!).catch(record);
      fake.failNext('GET /folders/:id/items', { status: 404, code: 'not_found' });
      await all(inbox.list()).catch(record);
      // Outbox: conflict 'fail', a 400 on upload, retries exhausted, an unusable path.
      const outbox = createBoxOutbox(session(), { folderId: '0' });
      const local = localFile('taint-src', 'different');
      const results = [await outbox.put(PHI_NAME, local, sha1('different'))];
      fake.failNext('POST /files/content', { status: 400, code: 'item_name_invalid' });
      results.push(await outbox.put(`x/${PHI_NAME}`, local, sha1('different')));
      fake.failNext('POST /files/content', { status: 503 }, 4);
      results.push(await outbox.put(`y/${PHI_NAME}`, local, sha1('different')));
      results.push(await outbox.put(`../${PHI_NAME}`, local, sha1('different')));
      seen.push(JSON.stringify(results));
      expect(results.map((r) => r.kind)).toEqual(['failed', 'failed', 'retry', 'failed']);
      expect(seen.filter((s) => s.includes('RemoteError')).length).toBeGreaterThanOrEqual(6);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const text = seen.join('\n');
    expect(text).not.toContain('DOE^JOHN');
    expect(text).not.toContain('MRN12345');
    expect(readdirSync(tmp).join('\n')).not.toContain('MRN12345');
  });
});
