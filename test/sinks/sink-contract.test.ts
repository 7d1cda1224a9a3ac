import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { createBoxOutbox } from '../../src/cloud/box/box-outbox.js';
import { createBoxSession } from '../../src/cloud/box/box-session.js';
import { FakeBox, type Fault as BoxFault } from '../helpers/fake-box.js';
import { createGraphOutbox } from '../../src/cloud/graph/graph-outbox.js';
import { createGraphSession } from '../../src/cloud/graph/graph-session.js';
import { createCStoreSink } from '../../src/sinks/cstore-sink.js';
import { createFolderOutbox } from '../../src/sinks/folder-outbox.js';
import { makeShare } from '../helpers/share.js';
import { copyRange } from '../../src/fs/file-io.js';
import { filesUnder } from '../helpers/agent-process.js';
import { createRemoteOutboxSink, outboxPathOf } from '../../src/sinks/cloud-outbox-sink.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { type SinkFault, type SinkHarness, sinkContract } from '../contracts/sink-contract.js';
import { StoreScp, freePort } from '../helpers/dicom-peers.js';
import { FakeGraph } from '../helpers/fake-graph.js';
import { type Description, describe as pydescribe } from '../helpers/tools.js';

for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];

const OUT = '/Research/ILIAC/outbox';

sinkContract('SharePoint/OneDrive (Graph fake, real @azure/identity)', async () => {
  const fake = new FakeGraph({ pageSize: 3 });
  await fake.start();
  // Retries wait for nothing here: the faults are deterministic, and the waits asked for are checked by the graph tests.
  const session = createGraphSession({ tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: fake.clientSecret, authorityHost: fake.authorityHost, baseUrl: fake.baseUrl },
    { sleep: async () => undefined });
  const large = 700 * 1024;
  const outbox = createGraphOutbox(session, { driveId: fake.driveId, path: OUT, sessionFrom: 512 * 1024, fragmentSize: 320 * 1024 });
  const at = async (path: string) => fake.byPath(`${OUT}/${(await outboxPathOf(path)) ?? 'none'}`);
  const files = (id: string): number => fake.childrenOf(id).reduce((n, c) => n + (c.folder ? files(c.id) : 1), 0);
  return {
    sink: createRemoteOutboxSink(outbox, 2),
    holds: async (path) => (await at(path))?.content.equals(readFileSync(path)) ?? false,
    count: async () => { const root = fake.byPath(OUT); return root ? files(root.id) : 0; },
    inject: (fault: SinkFault, times: number) => {
      if (fault === 'expired-token') return fake.expireTokens();
      fake.clearFaults();
      const f = fault === 'retry-after' ? { status: 429, retryAfter: 2 } : fault === 'unavailable' ? { status: 503 } : { dropConnection: true as const };
      fake.failNext('fragment', f, { times, after: 1 });
    },
    clearFaults: () => fake.clearFaults(),
    clash: async (path) => { fake.addFile(`${OUT}/${(await outboxPathOf(path)) ?? 'none'}`, Buffer.from('another file of the same name')); },
    large,
    close: () => fake.stop(),
  } satisfies SinkHarness;
});

sinkContract('C-STORE (dcmtk storescp)', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'deid-sink-scp-'));
  const scp = new StoreScp(port, dir);
  await scp.ready();
  const received = (): string[] => readdirSync(dir).map((f) => join(dir, f));
  const sopOf = (d: Description): string | undefined => d.elements.find(([t]) => t === '00080018')?.[2];
  return {
    sink: createCStoreSink(forwardConfigSchema.parse({ host: '127.0.0.1', port, calledAET: 'DEST' })),
    // The same data set (every element, the pixel data's hash) under the same SOP Instance UID: storescp writes its own meta group.
    holds: async (path) => {
      const all = received();
      const d = pydescribe([path, ...all]);
      const sent = d[path] as Description;
      const got = all.map((f) => d[f] as Description).find((x) => sopOf(x) === sopOf(sent));
      return !!got && got.pixelSha256 === sent.pixelSha256 && JSON.stringify(got.elements) === JSON.stringify(sent.elements);
    },
    // storescp names files by SOP Instance UID: the same instance twice is one file.
    count: async () => new Set(received().map((f) => f.split('/').pop()?.replace(/^[A-Z]{2}\./, ''))).size,
    close: () => scp.stop(),
  } satisfies SinkHarness;
});

sinkContract('Box (Box fake, real box-node-sdk)', async () => {
  const large = 700 * 1024;
  const fake = new FakeBox({ pageSize: 3, minSessionSize: 512 * 1024, partSize: 256 * 1024 });
  await fake.start();
  const agent = new Agent();
  const out = fake.addFolder('0', 'outbox');
  const session = createBoxSession({ clientId: fake.clientId, clientSecret: fake.clientSecret, enterpriseId: '42', baseUrls: fake.baseUrls, httpAgent: agent },
    { retry: { sleep: async () => undefined, random: () => 0.5 } });
  const outbox = createBoxOutbox(session, { folderId: out, chunkedFrom: 512 * 1024 });
  const at = async (path: string) => fake.at(out, (await outboxPathOf(path)) ?? 'none');
  const files = (id: string): number => fake.children(id).reduce((n, c) => n + (c.type === 'folder' ? files(c.id) : 1), 0);
  return {
    sink: createRemoteOutboxSink(outbox, 2),
    holds: async (path) => { const n = await at(path); return n?.type === 'file' && n.content.equals(readFileSync(path)); },
    count: async () => files(out),
    inject: (fault: SinkFault, times: number) => {
      if (fault === 'expired-token') return fake.expireTokens();
      fake.clearFaults();
      const f: BoxFault = fault === 'retry-after' ? { status: 429, retryAfter: 2 } : fault === 'unavailable' ? { status: 503 } : { dropConnection: true };
      fake.failNext('PUT /files/upload_sessions/:id', f, times);
    },
    clearFaults: () => fake.clearFaults(),
    clash: async (path) => {
      const parts = ((await outboxPathOf(path)) ?? 'none').split('/');
      let parent = out;
      for (const dir of parts.slice(0, -1)) parent = fake.at(parent, dir)?.id ?? fake.addFolder(parent, dir);
      fake.addFile(parent, parts[parts.length - 1] as string, Buffer.from('another file of the same name'));
    },
    large,
    close: async () => { await fake.stop(); agent.destroy(); },
  } satisfies SinkHarness;
});

sinkContract('mounted folder (a real directory; disk faults injected in the copy)', async () => {
  const root = makeShare(mkdtempSync(join(tmpdir(), 'deid-sink-folder-')));
  const large = 9 * 1024 * 1024; // over two kernel-copy chunks
  // Faults a share meets: full (ENOSPC) or gone mid-write (EIO), each after half the file is written.
  const queued: string[] = [];
  const copy = async (source: FileHandle, out: FileHandle, size: number): Promise<void> => {
    const code = queued.shift();
    if (!code) return copyRange(source, out, 0, size);
    await copyRange(source, out, 0, Math.floor(size / 2));
    throw Object.assign(new Error(`${code}: injected`), { code });
  };
  const outbox = createFolderOutbox(root, { copy });
  const at = async (path: string) => join(root, ...((await outboxPathOf(path)) ?? 'none').split('/'));
  return {
    sink: createRemoteOutboxSink(outbox, 2),
    holds: async (path) => { try { return readFileSync(await at(path)).equals(readFileSync(path)); } catch { return false; } },
    // Every file under the root, temporaries included: a partial write left behind is counted.
    count: async () => filesUnder(root).length - 1, // less the marker
    faults: ['unavailable', 'drop'],
    inject: (fault: SinkFault, times: number) => { for (let i = 0; i < times; i++) queued.push(fault === 'unavailable' ? 'ENOSPC' : 'EIO'); },
    clearFaults: () => { queued.length = 0; },
    clash: async (path) => { const target = await at(path); mkdirSync(join(target, '..'), { recursive: true }); writeFileSync(target, 'another file of the same name'); },
    large,
    close: async () => undefined,
  } satisfies SinkHarness;
});
