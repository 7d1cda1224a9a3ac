import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type StoreResult, storeFiles } from '../../src/net/dimse-store.js';
import { writeLargeCt } from '../../scripts/large-ct.mjs';
import { REPO, SAMPLES } from '../helpers/corpus.js';
import { BIG_ENDIAN_ONLY_PROFILE, StoreScp, freePort } from '../helpers/dicom-peers.js';

const MiB = 1024 * 1024;

/** SHA-256 of a file's last `length` bytes (the pixel data of these files), 16-bit words swapped if asked. */
async function tailSha256(path: string, length: number, swap16 = false): Promise<string> {
  const hash = createHash('sha256');
  const start = statSync(path).size - length;
  // 1 MiB reads from an even offset: every chunk holds whole words.
  for await (const chunk of createReadStream(path, { start, highWaterMark: MiB })) {
    const b = chunk as Buffer;
    if (swap16) b.swap16();
    hash.update(b);
  }
  return hash.digest('hex');
}

interface ChildRun { results: Array<[string, StoreResult]>; peakRssKiB: number }

/**
 * Runs storeFiles (the built one) in a fresh node process and reports its results and peak RSS
 * (VmHWM): the test runner's own memory would hide what the send costs.
 */
function storeInChild(dir: string, port: number, paths: string[]): ChildRun {
  const script = join(dir, 'send.mjs');
  writeFileSync(script, `
import { readFileSync } from 'node:fs';
import { storeFiles } from ${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'src', 'net', 'dimse-store.js')).href)};
const [port, ...paths] = process.argv.slice(2);
const results = await storeFiles({ host: '127.0.0.1', port: Number(port), calledAET: 'DEST', callingAET: 'DEIDAGENT' }, paths);
const peakRssKiB = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
console.log(JSON.stringify({ results: [...results], peakRssKiB }));
`);
  const out = execFileSync(process.execPath, [script, String(port), ...paths], { encoding: 'utf8', maxBuffer: 16 * MiB });
  return JSON.parse(out) as ChildRun;
}


/**
 * A loopback TCP proxy in front of storescp. It drops both connections once the client has sent
 * more than `dropAfter` bytes (a destination that goes away in the middle of a data set), and
 * runs `onConnect` before it passes on anything (after storeFiles has read the headers).
 */
async function proxy(targetPort: number, dropAfter: number, onConnect?: () => void): Promise<{ port: number; server: Server }> {
  const server = createServer((client: Socket) => {
    onConnect?.();
    const upstream = connect(targetPort, '127.0.0.1');
    let sent = 0;
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      sent += d.length;
      if (sent > dropAfter) drop();
      else upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, server };
}

const root = mkdtempSync(join(tmpdir(), 'deid-stream-fwd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('streaming C-STORE to dcmtk storescp', () => {
  it('forwards a 1 GiB instance intact in its own syntax, with a peak RSS far below its size', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(root, 'big-'));
    const source = join(dir, 'big.dcm');
    const pixelBytes = writeLargeCt(source, 1024, '1.2.826.0.1.3680043.10.1137.77.1');
    const port = await freePort();
    // +B: storescp writes what it receives as it comes, instead of holding a 1 GiB data set.
    const scp = new StoreScp(port, join(dir, 'received'), 'DEST', ['+B']);
    cleanup.push(() => scp.stop());
    await scp.ready();

    const run = storeInChild(dir, port, [source]);
    expect(run.results).toEqual([[source, { kind: 'stored', status: 0 }]]);
    // Today's whole-buffer send held the file and its encodings: several GiB.
    expect(run.peakRssKiB * 1024).toBeLessThan(300 * MiB);

    const [received] = readdirSync(scp.dir);
    expect(received).toBeDefined();
    const got = join(scp.dir, received as string);
    rmSync(join(dir, 'send.mjs'));
    expect(await tailSha256(got, pixelBytes)).toBe(await tailSha256(source, pixelBytes));
    rmSync(got);
    rmSync(source);
  });

  it('forwards a 256 MiB instance to a big-endian-only storescp: header rewritten, pixel words swapped as they stream', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(root, 'be-'));
    const source = join(dir, 'big.dcm');
    const pixelBytes = writeLargeCt(source, 256, '1.2.826.0.1.3680043.10.1137.77.2');
    const profile = join(dir, 'big-endian-only.cfg');
    writeFileSync(profile, BIG_ENDIAN_ONLY_PROFILE);
    const port = await freePort();
    const scp = new StoreScp(port, join(dir, 'received'), 'DEST', ['+B', '-xf', profile, 'BigEndianOnly']);
    cleanup.push(() => scp.stop());
    await scp.ready();

    const run = storeInChild(dir, port, [source]);
    expect(run.results).toEqual([[source, { kind: 'stored', status: 0 }]]);
    expect(run.peakRssKiB * 1024).toBeLessThan(200 * MiB);
    const [received] = readdirSync(scp.dir);
    const got = join(scp.dir, received as string);
    expect(execFileSync('dcmdump', ['-q', '+L', '-M', got], { encoding: 'latin1' })).toContain('(0002,0010) UI =BigEndianExplicit');
    expect(await tailSha256(got, pixelBytes, true)).toBe(await tailSha256(source, pixelBytes));
  });

  it('a destination that drops the connection mid-transfer: what was answered is stored, the rest is retried', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(root, 'drop-'));
    const big = join(dir, 'big.dcm');
    writeLargeCt(big, 64, '1.2.826.0.1.3680043.10.1137.77.3');
    // All three in explicit VR little endian: they go over one association.
    const small = join(SAMPLES, 'study-a-ct-1.dcm');
    const after = join(dir, 'after.dcm');
    writeLargeCt(after, 32, '1.2.826.0.1.3680043.10.1137.77.4');
    const port = await freePort();
    const scp = new StoreScp(port, join(dir, 'received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const dropping = await proxy(port, 8 * MiB);
    cleanup.push(() => new Promise((r) => dropping.server.close(r)));

    const results = await storeFiles({ host: '127.0.0.1', port: dropping.port, calledAET: 'DEST', callingAET: 'DEIDAGENT' }, [small, big, after]);
    expect(results.get(small)).toEqual({ kind: 'stored', status: 0 });
    expect(results.get(big)?.kind).toBe('retry');
    expect(results.get(after)?.kind).toBe('retry');
    expect(readdirSync(scp.dir)).toHaveLength(1);
  });

  it('a destination that aborts the association during a data set: every unanswered instance is retried, with the reason', async () => {
    const dir = mkdtempSync(join(root, 'abort-'));
    const port = await freePort();
    const scp = new StoreScp(port, join(dir, 'received'), 'DEST', ['--abort-during']);
    cleanup.push(() => scp.stop());
    await scp.ready();
    const paths = [join(SAMPLES, 'study-a-ct-1.dcm'), join(SAMPLES, 'study-a-ct-2-implicit.dcm')];
    const results = await storeFiles({ host: '127.0.0.1', port, calledAET: 'DEST', callingAET: 'DEIDAGENT' }, paths);
    for (const p of paths) {
      const r = results.get(p);
      expect(r?.kind, p).toBe('retry');
      expect(r?.kind === 'retry' ? r.reason : '').toContain('association aborted by the peer');
    }
  });

  it('a file gone when its turn comes (after its header was read) is retried, and the association goes on with the next one', async () => {
    const dir = mkdtempSync(join(root, 'missing-'));
    const port = await freePort();
    const scp = new StoreScp(port, join(dir, 'received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const vanishing = join(dir, 'vanishing.dcm');
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), vanishing);
    const ok = join(SAMPLES, 'study-a-ct-2-implicit.dcm');
    const missing = join(dir, 'not-there.dcm');
    // The headers are read before the association opens; the file goes once it is connecting.
    const deleting = await proxy(port, Number.POSITIVE_INFINITY, () => rmSync(vanishing, { force: true }));
    cleanup.push(() => new Promise((r) => deleting.server.close(r)));
    const results = await storeFiles({ host: '127.0.0.1', port: deleting.port, calledAET: 'DEST', callingAET: 'DEIDAGENT' }, [missing, vanishing, ok]);
    expect(results.get(missing)).toEqual({ kind: 'retry', reason: 'cannot read the de-identified file yet (ENOENT)' });
    expect(results.get(vanishing)).toEqual({ kind: 'retry', reason: 'cannot read the de-identified file yet (ENOENT)' });
    expect(results.get(ok)).toEqual({ kind: 'stored', status: 0 });
    expect(readdirSync(scp.dir)).toHaveLength(1);
  });
});
