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
