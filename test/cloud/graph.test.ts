// The Graph inbox and outbox, with the real @microsoft/microsoft-graph-client and @azure/identity,
// against the fake Graph + Entra server (test/helpers/fake-graph.ts) over HTTPS on 127.0.0.1.
// Retries sleep through an injected recorder, so Retry-After and backoff are checked, not waited for.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGraphInbox } from '../../src/cloud/graph/graph-inbox.js';
import { createGraphOutbox, type GraphOutboxOptions } from '../../src/cloud/graph/graph-outbox.js';
import { createGraphSession, type GraphSession } from '../../src/cloud/graph/graph-session.js';
import { QuickXorHash } from '../../src/cloud/graph/quick-xor-hash.js';
import type { RemoteFile, RemoteInbox } from '../../src/cloud/remote-folder.js';
import { RemoteError } from '../../src/cloud/remote-folder.js';
import { FakeGraph, type FakeGraphOptions } from '../helpers/fake-graph.js';

// All traffic stays on 127.0.0.1: no proxy from the environment (Azure's pipeline reads these).
for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete process.env[k];
process.env.NO_PROXY = '127.0.0.1,localhost';

const TAINT = 'DOE^JOHN_MRN12345.dcm';
const KiB = 1024;

let fake: FakeGraph;
let dir: string;
let sleeps: number[];
let session: GraphSession;

async function setup(opts: FakeGraphOptions = {}, cert = false): Promise<void> {
  fake = new FakeGraph(opts);
  await fake.start();
  sleeps = [];
  session = createGraphSession(
    {
      tenantId: fake.tenantId, clientId: fake.clientId, authorityHost: fake.authorityHost, baseUrl: fake.baseUrl,
      ...(cert ? { certificatePath: new URL('../fixtures/tls/client-cert.pem', import.meta.url).pathname } : { clientSecret: fake.clientSecret }),
    },
    { sleep: async (ms) => { sleeps.push(ms); } },
  );
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graph-test-'));
  await setup();
});
afterEach(async () => {
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
async function inbox(ack: 'delete' | 'archive' = 'delete'): Promise<RemoteInbox> {
  fake.addFolder('Inbox');
  const box = createGraphInbox(session, { driveId: fake.driveId, path: 'Inbox', ack });
  await box.prepare();
  return box;
}
async function localFile(name: string, bytes: Buffer): Promise<{ path: string; sha1: string }> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, sha1: createHash('sha1').update(bytes).digest('hex') };
}
function outbox(o: Partial<GraphOutboxOptions> = {}): ReturnType<typeof createGraphOutbox> {
  fake.addFolder('Out');
  return createGraphOutbox(session, { driveId: fake.driveId, path: 'Out', ...o });
}
async function caught(p: Promise<unknown>): Promise<RemoteError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

describe('QuickXorHash', () => {
  // A literal reading of the definition: input bit b of byte n lands on register bit (11n + b) mod 160;
  // then the 64-bit little-endian length is XORed into the last 8 of the 20 bytes.
  function bitByBit(data: Buffer): string {
    const bits = new Uint8Array(160);
    for (let n = 0; n < data.length; n++) for (let b = 0; b < 8; b++) if ((data[n]! >> b) & 1) bits[(n * 11 + b) % 160] = bits[(n * 11 + b) % 160]! ^ 1;
    const out = Buffer.alloc(20);
    for (let i = 0; i < 160; i++) out[i >> 3] = out[i >> 3]! | (bits[i]! << (i & 7));
    let len = BigInt(data.length);
    for (let i = 12; i < 20; i++, len >>= 8n) out[i] = out[i]! ^ Number(len & 0xffn);
    return out.toString('base64');
  }

  it('matches hand-derived and published vectors', () => {
    // 0xb5 at bit 0; 0xb4 at bit 11: (0xb4 << 3) & 0xff = 0xa0 into byte 1, 0xb4 >> 5 = 0x05 into byte 2; length 2 into byte 12.
    expect(new QuickXorHash().update(Buffer.from([0xb5, 0xb4])).digest()).toBe(Buffer.from([0xb5, 0xa0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]).toString('base64'));
    // Vectors published with rclone's implementation (backend/onedrive/quickxorhash).
    for (const [input, expected] of [['', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='], ['Sg==', 'SgAAAAAAAAAAAAAAAQAAAAAAAAA='], ['tbQ=', 'taAFAAAAAAAAAAAAAgAAAAAAAAA='], ['/aNzzCFPS/A=', '/RjFHJgRgicsAR4ACAAAAAAAAAA=']] as const) {
      expect(new QuickXorHash().update(Buffer.from(input, 'base64')).digest()).toBe(expected);
      expect(bitByBit(Buffer.from(input, 'base64'))).toBe(expected);
    }
  });

  it('agrees with the bit-by-bit definition on long input fed in odd chunks', () => {
    for (const size of [1, 159, 160, 161, 320, 1000, 5003]) {
      const data = randomBytes(size);
      const h = new QuickXorHash();
      for (let i = 0; i < size; i += 7 + (i % 13)) h.update(data.subarray(i, Math.min(size, i + 7 + (i % 13))));
      expect(h.digest()).toBe(bitByBit(data));
    }
  });
});

describe('graph session', () => {
  it('gets an app-only token from the fake authority with ClientSecretCredential, scoped to the Graph origin', async () => {
    const token = await session.token();
    expect(token).toMatch(/^tok-/);
    expect(fake.count('openid')).toBeGreaterThanOrEqual(1);
    expect(fake.count('token')).toBe(1);
    expect(fake.tokenScopes[0]!.split(' ')).toContain(`${fake.baseUrl}/.default`);
    await inbox(); // and the token opens the API
  });

  it('gets a token with ClientCertificateCredential (signed client assertion)', async () => {
    await fake.stop();
    await setup({}, true);
    await inbox();
    expect(fake.count('token')).toBe(1);
  });

  it('shares one token request among 10 concurrent callers', async () => {
    const tokens = await Promise.all(Array.from({ length: 10 }, () => session.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(fake.count('token')).toBe(1);
    fake.addFolder('A');
    const answers = await Promise.all(Array.from({ length: 10 }, () => session.call(`/drives/${fake.driveId}/root:/A:`)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(fake.count('token')).toBe(1);
  });

  it('refreshes a token the service stopped accepting, once, and goes on', async () => {
    const box = await inbox();
    fake.addFile('Inbox/a.dcm', Buffer.from('a'));
    fake.expireTokens();
    expect((await collect(box.list())).length).toBe(1);
    expect(fake.count('token')).toBe(2);
    // A 401 that a new token does not cure is answered, not looped on.
    fake.failNext('children', { status: 401 }, { times: 2 });
    await expect(collect(box.list())).rejects.toMatchObject({ status: 401 });
    expect(fake.count('token')).toBe(3);
  });

  it('honours Retry-After on 429 through the injected sleep', async () => {
    fake.failNext('item', { status: 429, retryAfter: 7 });
    await inbox();
    expect(sleeps).toEqual([7000]);
  });

  it('retries a 503 with backoff, then succeeds; gives up after maxAttempts', async () => {
    const box = await inbox();
    fake.addFile('Inbox/a.dcm', Buffer.from('a'));
    fake.failNext('children', { status: 503 });
    expect((await collect(box.list())).length).toBe(1);
    expect(sleeps).toEqual([1000]);
    fake.failNext('children', { status: 503 }, { times: 5 });
    const err = await caught(collect(box.list()));
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(503);
    expect(sleeps).toEqual([1000, 1000, 2000, 4000, 8000]);
  });
});

describe('graph inbox', () => {
  it('lists every file under the folder through paged children, nested folders included, own folders excluded', async () => {
    const box = await inbox('archive');
    for (const p of ['Inbox/1.dcm', 'Inbox/2.dcm', 'Inbox/3.dcm', 'Inbox/sub/4.dcm', 'Inbox/sub/deeper/5.dcm']) fake.addFile(p, Buffer.from(p));
    fake.addFile('Inbox/.deid-processing/claimed.dcm', Buffer.from('x'));
    fake.addFile('Inbox/.deid-archive/done.dcm', Buffer.from('y'));
    const files = await collect(box.list());
    expect(files.map((f) => f.name).sort()).toEqual(['1.dcm', '2.dcm', '3.dcm', '4.dcm', '5.dcm']);
    // 6 children at the top with pages of 2: the nextLinks were followed.
    expect(fake.count('children')).toBeGreaterThanOrEqual(5);
    expect(files[0]!.digest?.algorithm).toBe('quickXorHash');
    // prepare() found the folders again rather than making twins.
    await box.prepare();
    expect(fake.childrenOf(fake.byPath('Inbox')!.id).filter((i) => i.name.startsWith('.deid')).length).toBe(2);
  });

  it('claims into the processing folder with If-Match; a changed file is not claimed', async () => {
    const box = await inbox();
    fake.addFile('Inbox/a.dcm', Buffer.from('aaa'));
    fake.addFile('Inbox/b.dcm', Buffer.from('bbb'));
    const [a, b] = (await collect(box.list())).sort((x, y) => x.name.localeCompare(y.name)) as [RemoteFile, RemoteFile];
    fake.modify(b.id, Buffer.from('bbb, changed'));
    const claimed = await box.claim(a);
    expect(claimed).toMatchObject({ id: a.id, name: `${a.id}.dcm`, size: 3 });
    expect(fake.items.get(a.id)!.parentId).toBe(fake.byPath('Inbox/.deid-processing')!.id);
    expect(await box.claim(b)).toBeUndefined();
    expect(fake.items.get(b.id)!.parentId).toBe(fake.byPath('Inbox')!.id);
    expect(await box.claim(a)).toBeUndefined(); // eTag moved on with the claim itself
    expect((await collect(box.claimed())).map((f) => f.id)).toEqual([a.id]);
    expect((await collect(box.list())).map((f) => f.id)).toEqual([b.id]);
  });

  it('downloads through the 302 to the second origin without the token, and checks quickXorHash', async () => {
    const box = await inbox();
    const bytes = randomBytes(300 * KiB + 17);
    fake.addFile('Inbox/a.dcm', bytes);
    const [file] = await collect(box.list());
    const to = join(dir, 'local-1');
    await writeFile(to, Buffer.alloc(1024 * KiB, 1)); // longer: must be truncated
    await box.download(file!, to);
    expect((await readFile(to)).equals(bytes)).toBe(true);
    expect(fake.count('content')).toBe(1);
    expect(fake.count('download')).toBe(1);
    expect(fake.authOnPreauth).toBe(0);

    fake.corrupt.add(file!.id);
    const err = await caught(box.download(file!, to));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/quickXorHash/);
  });

  it('follows download redirects only to https, at most 5, without the token, and never names the URL', async () => {
    const box = await inbox();
    const bytes = randomBytes(1000);
    fake.addFile(`Inbox/${TAINT}`, bytes);
    const [file] = await collect(box.list());
    const to = join(dir, 'redirected');
    // A chain of hops on the pre-authenticated side is followed, still without the token.
    const hop = (url: string): string => `${fake.preOrigin}/hop?to=${encodeURIComponent(url)}`;
    fake.contentLocation = (dl) => hop(hop(dl));
    await box.download(file!, to);
    expect((await readFile(to)).equals(bytes)).toBe(true);
    expect(fake.count('hop')).toBe(2);
    expect(fake.authOnPreauth).toBe(0);

    // Plaintext, file: and other schemes are refused, first hop or later, before any request goes there.
    let plainHits = 0;
    const plain = createHttpServer((_q, s) => { plainHits++; s.end('PHI in the clear'); });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/dl/${encodeURIComponent(TAINT)}?sig=SECRET`;
    try {
      for (const target of [plainUrl, hop(plainUrl), `file:///etc/${encodeURIComponent(TAINT)}`, `ftp://127.0.0.1/${encodeURIComponent(TAINT)}`]) {
        fake.contentLocation = () => target;
        const err = await caught(box.download(file!, to));
        expect(err.message).toBe('graph: content download: redirect to a URL that is not https refused');
        expect(err.retryable).toBe(false);
      }
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
    expect(plainHits).toBe(0);

    // A redirect loop ends after 5 hops, with a retryable error.
    fake.contentLocation = () => `${fake.preOrigin}/loop`;
    const hops = fake.count('hop');
    const loop = await caught(box.download(file!, to));
    expect(loop.message).toBe('graph: content download redirected too many times');
    expect(loop.retryable).toBe(true);
    expect(fake.count('hop') - hops).toBe(5);
    expect(fake.count('download')).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('verifies sha1Hash where the drive reports it (personal OneDrive)', async () => {
    await fake.stop();
    await setup({ hashes: 'sha1Hash' });
    const box = await inbox();
    fake.addFile('Inbox/a.dcm', randomBytes(5000));
    const [file] = await collect(box.list());
    expect(file!.digest?.algorithm).toBe('sha1');
    await box.download(file!, join(dir, 'x'));
    fake.corrupt.add(file!.id);
    expect((await caught(box.download(file!, join(dir, 'x')))).message).toMatch(/sha1/);
  });

  it('acks by deleting, or by moving to the archive; a file already gone is fine', async () => {
    const box = await inbox();
    fake.addFile('Inbox/a.dcm', Buffer.from('a'));
    const claimed = (await box.claim((await collect(box.list()))[0]!))!;
    await box.ack(claimed);
    expect(fake.items.has(claimed.id)).toBe(false);
    await box.ack(claimed);

    const archiving = createGraphInbox(session, { driveId: fake.driveId, path: 'Inbox', ack: 'archive' });
    await archiving.prepare();
    fake.addFile('Inbox/b.dcm', Buffer.from('b'));
    const c2 = (await archiving.claim((await collect(archiving.list()))[0]!))!;
    await archiving.ack(c2);
    expect(fake.items.get(c2.id)!.parentId).toBe(fake.byPath('Inbox/.deid-archive')!.id);
    expect(await collect(archiving.claimed())).toEqual([]);
    fake.items.delete(c2.id);
    await archiving.ack(c2);
  });

  it('delta: a fresh cursor, changed only when something changed, own claims ignored, 410 → resync', async () => {
    const box = await inbox();
    const first = await box.changes(undefined, 30_000);
    expect(first.changed).toBe(true);
    expect(first.cursor).toMatch(/\/delta\?token=\d+$/);
    const quiet = await box.changes(first.cursor, 30_000);
    expect(quiet.changed).toBe(false);
    for (let i = 0; i < 5; i++) fake.addFile(`Inbox/f${i}.dcm`, Buffer.from(String(i)));
    const busy = await box.changes(quiet.cursor, 30_000);
    expect(busy.changed).toBe(true);
    expect(fake.count('delta')).toBeGreaterThanOrEqual(5); // paged through nextLinks to the deltaLink
    expect((await box.changes(busy.cursor, 30_000)).changed).toBe(false);
    const mine = await box.claim((await collect(box.list()))[0]!);
    expect(mine).toBeDefined();
    const afterClaim = await box.changes(busy.cursor, 30_000);
    expect(afterClaim.changed).toBe(false);
    fake.failNext('delta', { status: 410 });
    const resync = await box.changes(afterClaim.cursor, 30_000);
    expect(resync.changed).toBe(true);
    expect(resync.cursor).toMatch(/token=\d+$/);
    expect(sleeps).toEqual([]); // delta answers at once; nothing waited
  });

  it('delta falls back to the drive root where folder delta is refused', async () => {
    await fake.stop();
    await setup({ deltaRootOnly: true });
    const box = await inbox();
    const first = await box.changes(undefined, 1000);
    expect(first.cursor).toContain(`/items/${fake.rootId}/delta`);
    fake.addFile('Inbox/new.dcm', Buffer.from('n'));
    expect((await box.changes(first.cursor, 1000)).changed).toBe(true);
  });
});

describe('graph outbox', () => {
  it('puts a small file with one PUT, making the folders of its path', async () => {
    const box = outbox();
    const bytes = randomBytes(100 * KiB);
    const { path, sha1 } = await localFile('small', bytes);
    expect(await box.put('study/series/x.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(fake.byPath('Out/study/series/x.dcm')!.content.equals(bytes)).toBe(true);
    expect(fake.count('simpleUpload')).toBe(1);
    expect(fake.count('createSession')).toBe(0);
  });

  it('puts a file of more than 4 MiB through an upload session in 320 KiB multiples', async () => {
    const box = outbox();
    const bytes = randomBytes(4 * 1024 * KiB + 123_457);
    const { path, sha1 } = await localFile('big', bytes);
    expect(await box.put('big.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(fake.byPath('Out/big.dcm')!.content.equals(bytes)).toBe(true);
    expect(fake.count('simpleUpload')).toBe(0);
    expect(fake.count('createSession')).toBe(1);
    expect(fake.count('fragment')).toBe(Math.ceil(bytes.length / (3200 * KiB)));
    expect(fake.authOnPreauth).toBe(0);
  });

  it('resumes an upload session from nextExpectedRanges after a dropped fragment, lost or applied', async () => {
    const box = outbox({ sessionFrom: 256 * KiB, fragmentSize: 320 * KiB });
    const bytes = randomBytes(5 * 320 * KiB + 999);
    const { path, sha1 } = await localFile('mid', bytes);
    fake.failNext('fragment', { dropConnection: true }, { after: 1 }); // 2nd fragment never arrives
    fake.failNext('fragment', { acceptThenDrop: true }, { after: 1 }); // a later one arrives, its answer is lost
    expect(await box.put('a/mid.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(fake.byPath('Out/a/mid.dcm')!.content.equals(bytes)).toBe(true);
    expect(fake.count('sessionStatus')).toBe(2);
    // 6 fragments + the lost one sent again; the applied one was not sent twice (the fake answers 416 to that).
    expect(fake.count('fragment')).toBe(7);
    expect(fake.authOnPreauth).toBe(0);
  });

  it('an upload session whose 202s make no progress ends as retry after 5 such rounds, and is cancelled', async () => {
    const box = outbox({ sessionFrom: 256 * KiB, fragmentSize: 320 * KiB });
    const bytes = randomBytes(3 * 320 * KiB + 5);
    const { path, sha1 } = await localFile('stuck', bytes);
    // The first fragment is taken, then the session keeps asking for the same byte (and once for an earlier one).
    fake.failNext('fragment', { answer: 202, body: { nextExpectedRanges: [`${320 * KiB}-`] } }, { after: 1, times: 4 });
    fake.failNext('fragment', { answer: 202, body: { nextExpectedRanges: ['0-'] } });
    fake.failNext('fragment', { answer: 202, body: { nextExpectedRanges: [`${320 * KiB}-`] } }, { times: 100 });
    expect(await box.put('stuck.dcm', path, sha1)).toEqual({ kind: 'retry', reason: 'graph: upload session makes no progress' });
    expect(fake.count('fragment')).toBe(1 + 6); // the fragment taken, then 5 stalled rounds tolerated and a 6th ended it
    expect(fake.count('sessionDelete')).toBe(1);
    expect(fake.byPath('Out/stuck.dcm')).toBeUndefined();
    expect(sleeps).toEqual([]);
  });

  it('an upload session expecting bytes beyond the end of the file is an error (retry), in a 202 or a status answer', async () => {
    const box = outbox({ sessionFrom: 256 * KiB, fragmentSize: 320 * KiB });
    const bytes = randomBytes(2 * 320 * KiB + 5);
    const { path, sha1 } = await localFile('beyond', bytes);
    const reason = 'graph: upload session expects bytes beyond the end of the file';
    fake.failNext('fragment', { answer: 202, body: { nextExpectedRanges: [`${bytes.length + 1}-`] } });
    expect(await box.put('beyond.dcm', path, sha1)).toEqual({ kind: 'retry', reason });
    fake.failNext('fragment', { status: 416 });
    fake.failNext('sessionStatus', { answer: 200, body: { nextExpectedRanges: ['99999999999999999999-'] } });
    expect(await box.put('beyond.dcm', path, sha1)).toEqual({ kind: 'retry', reason });
    // A start that is no number at all (a negative one included) stays an unreadable range.
    fake.failNext('fragment', { answer: 202, body: { nextExpectedRanges: ['-5-'] } });
    expect(await box.put('beyond.dcm', path, sha1)).toEqual({ kind: 'retry', reason: 'graph: upload status answered an unreadable range' });
    expect(fake.byPath('Out/beyond.dcm')).toBeUndefined();
    expect(await box.put('beyond.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(fake.byPath('Out/beyond.dcm')!.content.equals(bytes)).toBe(true);
  });

  it('is idempotent: the same content already there is stored without another upload', async () => {
    const box = outbox({ sessionFrom: 256 * KiB });
    for (const size of [1000, 700 * KiB]) {
      const bytes = randomBytes(size);
      const { path, sha1 } = await localFile(`same-${size}`, bytes);
      expect(await box.put(`s${size}.dcm`, path, sha1)).toEqual({ kind: 'stored' });
      const version = fake.byPath(`Out/s${size}.dcm`)!.version;
      const fragments = fake.count('fragment');
      expect(await box.put(`s${size}.dcm`, path, sha1)).toEqual({ kind: 'stored' });
      expect(fake.byPath(`Out/s${size}.dcm`)!.version).toBe(version);
      expect(fake.count('fragment')).toBe(fragments); // the session was refused (409) before any byte went
    }
  });

  it('a different file at the path: fail → failed; replace → replaced', async () => {
    fake.addFile(`Out/${TAINT}`, Buffer.from('theirs'));
    const { path, sha1 } = await localFile('mine', Buffer.from('mine'));
    const failing = outbox();
    const r = await failing.put(TAINT, path, sha1);
    expect(r.kind).toBe('failed');
    expect(JSON.stringify(r)).not.toMatch(/DOE|MRN/);
    expect(fake.byPath(`Out/${TAINT}`)!.content.toString()).toBe('theirs');
    const replacing = createGraphOutbox(session, { driveId: fake.driveId, path: 'Out', onConflict: 'replace' });
    expect(await replacing.put(TAINT, path, sha1)).toEqual({ kind: 'stored' });
    expect(fake.byPath(`Out/${TAINT}`)!.content.toString()).toBe('mine');
  });

  it('an item at the path without hashes yet (SharePoint hashes later) is retried after a while, never a conflict', async () => {
    const box = outbox({ sessionFrom: 256 * KiB });
    const replacing = createGraphOutbox(session, { driveId: fake.driveId, path: 'Out', onConflict: 'replace', sessionFrom: 256 * KiB });
    const late = { kind: 'retry', reason: 'the item at the target path has no hash yet', retryAfterMs: 60_000 };
    for (const size of [1000, 700 * KiB]) {
      const bytes = randomBytes(size);
      const { path, sha1 } = await localFile(`late-${size}`, bytes);
      expect(await box.put(`late-${size}.dcm`, path, sha1)).toEqual({ kind: 'stored' });
      const item = fake.byPath(`Out/late-${size}.dcm`)!;
      fake.hashless.add(item.id);
      expect(await box.put(`late-${size}.dcm`, path, sha1)).toEqual(late);
      expect(await replacing.put(`late-${size}.dcm`, path, sha1)).toEqual(late);
      expect(fake.byPath(`Out/late-${size}.dcm`)!.version).toBe(item.version); // not replaced
      fake.hashless.delete(item.id);
      expect(await box.put(`late-${size}.dcm`, path, sha1)).toEqual({ kind: 'stored' });
    }
    // A size that differs is a conflict at once, hashes or not; a present, different hash too.
    const other = fake.addFile('Out/other.dcm', Buffer.from('theirs, longer'));
    fake.hashless.add(other.id);
    const { path, sha1 } = await localFile('mine', Buffer.from('mine'));
    expect((await box.put('other.dcm', path, sha1)).kind).toBe('failed');
    fake.addFile('Out/same-size.dcm', Buffer.from('MINE'));
    expect((await box.put('same-size.dcm', path, sha1)).kind).toBe('failed');
  });

  it('compares by sha1Hash where the drive reports it', async () => {
    await fake.stop();
    await setup({ hashes: 'sha1Hash' });
    const box = outbox();
    const { path, sha1 } = await localFile('p', Buffer.from('personal'));
    expect(await box.put('p.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(await box.put('p.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect((await box.put('p.dcm', path, '0'.repeat(40))).kind).toBe('failed');
  });

  it('maps service answers to PutResult: throttling → retry with Retry-After, a dropped PUT is repeated', async () => {
    const box = outbox();
    const { path, sha1 } = await localFile('t', Buffer.from('t'));
    fake.failNext('simpleUpload', { status: 429, retryAfter: 30 }, { times: 5 });
    expect(await box.put('t.dcm', path, sha1)).toEqual({ kind: 'retry', reason: expect.stringContaining('429'), retryAfterMs: 30_000 });
    fake.failNext('simpleUpload', { dropConnection: true });
    expect(await box.put('t.dcm', path, sha1)).toEqual({ kind: 'stored' });
    expect(await box.put('../escape.dcm', path, sha1)).toMatchObject({ kind: 'failed' });
    expect(await box.put('x.dcm', join(dir, 'missing'), sha1)).toEqual({ kind: 'failed', reason: 'local file unreadable (ENOENT)' });
  });
});

it('never lets a file name into an error or a result', async () => {
  const messages: string[] = [];
  const note = (e: unknown): void => {
    for (let c: unknown = e; c instanceof Error; c = c.cause) messages.push(c.message, String(c.stack));
  };
  const box = await inbox();
  fake.addFile(`Inbox/${TAINT}`, Buffer.from('phi'));
  const [file] = await collect(box.list());
  fake.corrupt.add(file!.id);
  await box.download(file!, join(dir, 'd')).catch(note);
  fake.failNext('move', { status: 500 }, { times: 5 });
  await box.claim(file!).catch(note);
  fake.failNext('content', { status: 403 });
  await box.download(file!, join(dir, 'd')).catch(note);
  fake.items.delete(file!.id);
  await box.download(file!, join(dir, 'd')).catch(note);
  fake.failNext('delete', { status: 400 });
  await box.ack(file!).catch(note);
  const out = outbox();
  const { path, sha1 } = await localFile('l', Buffer.from('x'));
  fake.failNext('simpleUpload', { status: 400 });
  messages.push(JSON.stringify(await out.put(`dir/${TAINT}`, path, sha1)));
  fake.addFile(`Out/dir2/${TAINT}`, Buffer.from('other'));
  messages.push(JSON.stringify(await out.put(`dir2/${TAINT}`, path, sha1)));
  expect(messages.length).toBeGreaterThanOrEqual(8);
  for (const m of messages) expect(m).not.toMatch(/DOE|JOHN|MRN12345/);
});
