import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { type FileHandle, readdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyRange } from '../../src/fs/file-io.js';
import { createFolderInbox } from '../../src/sources/folder-inbox.js';
import { makeShare } from '../helpers/share.js';
import { filesUnder } from '../helpers/agent-process.js';
import { createBoxInbox } from '../../src/cloud/box/box-inbox.js';
import { createBoxSession } from '../../src/cloud/box/box-session.js';
import { FakeBox, type Fault as BoxFault } from '../helpers/fake-box.js';
import { createGraphInbox } from '../../src/cloud/graph/graph-inbox.js';
import { createGraphSession } from '../../src/cloud/graph/graph-session.js';
import { type SourceFault, sourceContract } from '../contracts/source-contract.js';
import { FakeGraph, type Fault as GraphFault, type Route as GraphRoute } from '../helpers/fake-graph.js';

for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];

const INBOX = '/Research/ILIAC/inbox';

sourceContract('SharePoint/OneDrive (Graph fake, real @azure/identity)', async () => {
  const fake = new FakeGraph({ pageSize: 2 });
  await fake.start();
  fake.addFolder(INBOX);
  const session = createGraphSession({ tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: fake.clientSecret, authorityHost: fake.authorityHost, baseUrl: fake.baseUrl },
    { sleep: async () => undefined });
  const under = (id: string): number => fake.childrenOf(id).reduce((n, c) => n + (c.folder ? under(c.id) : 1), 0);
  return {
    inbox: () => createGraphInbox(session, { driveId: fake.driveId, path: INBOX, ack: 'delete' }),
    add: async (path, content) => { fake.addFile(`${INBOX}/${path}`, content); },
    remaining: async () => under(fake.byPath(INBOX)?.id ?? ''),
    inject: (fault: SourceFault, on, times) => {
      if (fault === 'expired-token') return fake.expireTokens();
      const f: GraphFault = fault === 'retry-after' ? { status: 429, retryAfter: 1 } : fault === 'unavailable' ? { status: 503 } : { dropConnection: true };
      const route: GraphRoute = on === 'list' ? 'children' : 'download';
      fake.failNext(route, f, { times });
    },
    close: () => fake.stop(),
  };
});

sourceContract('Box (Box fake, real box-node-sdk)', async () => {
  const fake = new FakeBox({ pageSize: 2, longPollHoldMs: 300 });
  await fake.start();
  const agent = new Agent();
  const inboxId = fake.addFolder('0', 'inbox');
  const session = createBoxSession({ clientId: fake.clientId, clientSecret: fake.clientSecret, enterpriseId: '42', baseUrls: fake.baseUrls, httpAgent: agent },
    { retry: { sleep: async () => undefined, random: () => 0.5 } });
  const under = (id: string): number => fake.children(id).reduce((n, c) => n + (c.type === 'folder' ? under(c.id) : 1), 0);
  return {
    inbox: () => createBoxInbox(session, { folderId: inboxId, ack: 'delete' }),
    add: async (path, content) => {
      const parts = path.split('/');
      let parent = inboxId;
      for (const dir of parts.slice(0, -1)) parent = fake.at(parent, dir)?.id ?? fake.addFolder(parent, dir);
      fake.addFile(parent, parts[parts.length - 1] as string, content);
    },
    remaining: async () => under(inboxId),
    inject: (fault: SourceFault, on, times) => {
      if (fault === 'expired-token') return fake.expireTokens();
      const f: BoxFault = fault === 'retry-after' ? { status: 429, retryAfter: 1 } : fault === 'unavailable' ? { status: 503 } : { dropConnection: true };
      fake.failNext(on === 'list' ? 'GET /folders/:id/items' : 'GET /d/:id', f, times);
    },
    close: async () => { await fake.stop(); agent.destroy(); },
  };
});

sourceContract('mounted folder (a real directory; share faults injected in reads and copies)', async () => {
  const root = makeShare(mkdtempSync(join(tmpdir(), 'deid-source-folder-')));
  const faults = { list: [] as string[], download: [] as string[] };
  const fail = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });
  return {
    inbox: () => createFolderInbox(root, {
      ack: 'delete', stabilityMs: 0,
      readdir: async (dir: string): Promise<Dirent[]> => {
        const code = faults.list.shift();
        if (code) throw fail(code);
        return readdir(dir, { withFileTypes: true });
      },
      // Half the file, then the share goes: the copy must not count.
      copy: async (source: FileHandle, out: FileHandle, size: number): Promise<void> => {
        const code = faults.download.shift();
        if (!code) return copyRange(source, out, 0, size);
        await copyRange(source, out, 0, Math.floor(size / 2));
        throw fail(code);
      },
    }),
    add: async (path, content) => { const to = join(root, ...path.split('/')); mkdirSync(dirname(to), { recursive: true }); writeFileSync(to, content); },
    // Files in the share and its processing folder (filesUnder leaves out only .deid-* folders' contents; count the processing folder's too).
    remaining: async () => filesUnder(root).length - 1 + filesUnder(join(root, '.deid-processing')).length, // less the marker
    faults: ['unavailable', 'drop'],
    inject: (fault: SourceFault, on, times) => { for (let i = 0; i < times; i++) faults[on].push(fault === 'unavailable' ? 'EIO' : 'ESTALE'); },
    close: async () => undefined,
  };
});
