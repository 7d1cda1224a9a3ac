// The agent as a real process, with cloud folders as its inbox and outbox: the real SDKs inside it
// talk to the fakes in this process (loopback only). What a researcher drops into the cloud inbox
// comes out de-identified in the cloud outbox; the inbox is emptied only after settlement; a
// SIGKILL in the middle loses and duplicates nothing.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, type ProjectDirs, filesUnder, waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { FakeBox } from '../helpers/fake-box.js';
import { FakeGraph, type FakeItem } from '../helpers/fake-graph.js';
import { dcmdump, runCli } from '../helpers/tools.js';

for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[v];

const SAMPLE_PHI = ['Doe', 'Jane', 'MRN12345', 'Roe^John', 'House', 'Princeton', '19770412', 'ACC20240315001'];
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A project whose inbox and outbox are folders of the fake Graph drive, the rest local under `root`. */
function graphProject(root: string, fake: FakeGraph): ProjectDirs {
  return cloudProject(root, { graph: fake }, { graph: { driveId: fake.driveId, path: '/Research/in' } }, { graph: { driveId: fake.driveId, path: '/Research/out' } });
}

/** A project with the given cloud inbox and outbox, the rest local under `root`. */
function cloudProject(root: string, apps: { box?: FakeBox; graph?: FakeGraph }, inbox: Record<string, Record<string, unknown>>, outbox: Record<string, Record<string, unknown>>): ProjectDirs {
  mkdirSync(root, { recursive: true });
  const dirs: ProjectDirs = {
    root, inbox: join(root, '.deid-inbox-CLOUD'), outbox: join(root, '.deid-spool-CLOUD'), quarantine: join(root, 'quarantine'),
    failed: join(root, 'failed'), work: join(root, 'work'), store: join(root, 'store.json'), config: join(root, 'config.json'), log: join(root, 'agent.log'),
  };
  const fast = { changeIntervalMs: 200, pollIntervalMs: 1000 };
  const [inKind, inFolder] = Object.entries(inbox)[0] as [string, Record<string, unknown>];
  const { box, graph } = apps;
  writeFileSync(dirs.config, JSON.stringify({
    store: dirs.store,
    ...(graph ? { graph: { tenantId: graph.tenantId, clientId: graph.clientId, clientSecret: { env: 'DEID_TEST_GRAPH_SECRET' }, authorityHost: graph.authorityHost, baseUrl: graph.baseUrl } } : {}),
    ...(box ? { box: { clientId: box.clientId, clientSecret: { env: 'DEID_TEST_BOX_SECRET' }, enterpriseId: '42', baseUrls: box.baseUrls } } : {}),
    projects: [{ name: 'CLOUD', prefix: 'CLOUD_', dateShiftDays: -321, quarantine: dirs.quarantine, failed: dirs.failed, work: dirs.work,
      inbox: { [inKind]: { ...inFolder, ...fast } }, outbox }],
  }));
  return dirs;
}

const filesBelow = (fake: FakeGraph, path: string): FakeItem[] => {
  const root = fake.byPath(path);
  const walk = (id: string): FakeItem[] => fake.childrenOf(id).flatMap((c) => (c.folder ? walk(c.id) : [c]));
  return root ? walk(root.id) : [];
};

async function startAgent(dirs: ProjectDirs, secret: string, boxSecret?: string): Promise<AgentProcess> {
  process.env.DEID_TEST_GRAPH_SECRET = secret;
  if (boxSecret) process.env.DEID_TEST_BOX_SECRET = boxSecret;
  const agent = new AgentProcess(dirs);
  cleanup.push(() => agent.stop('SIGKILL'));
  await agent.started();
  return agent;
}

describe('cloud folders end to end (agent process, Graph fake over HTTPS)', () => {
  it('takes a drop from the cloud inbox, delivers it de-identified to the cloud outbox, and empties the inbox only after settling', async () => {
    const fake = new FakeGraph({ pageSize: 3 });
    await fake.start();
    cleanup.push(() => fake.stop());
    const dirs = graphProject(mkdtempSync(join(tmpdir(), 'deid-cloud-e2e-')), fake);
    const agent = await startAgent(dirs, fake.clientSecret);
    const inputs = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-d-sc-burned-in.dcm', 'not-dicom.txt'];
    for (const f of inputs) fake.addFile(`/Research/in/Doe^Jane MRN12345/${f}`, readFileSync(join(SAMPLES, f)));

    await waitFor(() => filesBelow(fake, '/Research/out').length === 3, 60_000, '3 instances in the cloud outbox');
    await waitFor(() => filesBelow(fake, '/Research/in').length === 0, 30_000, 'the cloud inbox (and its processing folder) to empty');
    expect(filesUnder(dirs.quarantine).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(filesUnder(dirs.failed).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    // Uploaded under the outbox layout, de-identified; the spool keeps nothing once uploaded.
    const check = join(dirs.root, 'check');
    mkdirSync(check);
    for (const item of filesBelow(fake, '/Research/out')) {
      expect(item.name).toMatch(/^[0-9.]+\.dcm$/);
      const local = join(check, item.name);
      writeFileSync(local, item.content);
      const dump = dcmdump(local);
      expect(dump).toMatch(/\(0010,0010\) PN \[CLOUD_00\d\]/);
      for (const phi of SAMPLE_PHI) expect(dump, phi).not.toContain(phi);
    }
    expect(filesUnder(dirs.outbox)).toEqual([]);
    const status = JSON.parse(runCli(['status', '--config', dirs.config, '--json']).stdout) as Array<{ upload?: { forwarded: number; pending: number; failed: number }; source?: { position: string | null } }>;
    expect(status[0]?.upload).toMatchObject({ forwarded: 3, pending: 0, failed: 0 });
    expect(status[0]?.source?.position).toBeTruthy();
    expect((await agent.stop()).code).toBe(0);
    const log = agent.log();
    for (const phi of [...SAMPLE_PHI, 'study-a', 'not-dicom.txt', fake.clientSecret]) expect(log, phi).not.toContain(phi);
  });

  it('survives SIGKILL mid-transfer: after a restart every input is delivered once, and nothing stays behind', async () => {
    const fake = new FakeGraph({ pageSize: 4 });
    await fake.start();
    cleanup.push(() => fake.stop());
    const dirs = graphProject(mkdtempSync(join(tmpdir(), 'deid-cloud-kill-')), fake);
    // Twelve instances of three studies (the samples, with fresh UIDs per copy so each is its own instance).
    const sources = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm'];
    const sent = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const bytes = Buffer.from(readFileSync(join(SAMPLES, sources[i % 3] as string)));
      // Give each copy its own SOP Instance UID: the samples' UIDs end in a digit we can vary.
      const sop = /1\.2\.826\.0\.1\.3680043\.[0-9.]+/g;
      let n = 0;
      const text = bytes.toString('latin1').replace(sop, (m) => (n++ >= 0 && m.length > 12 ? `${m.slice(0, -2)}${String(10 + i).slice(-2)}` : m));
      fake.addFile(`/Research/in/batch/${i}.dcm`, Buffer.from(text, 'latin1'));
      sent.add(String(i));
    }
    let agent = await startAgent(dirs, fake.clientSecret);
    await waitFor(() => filesBelow(fake, '/Research/out').length >= 1, 60_000, 'the first upload');
    expect((await agent.stop('SIGKILL')).signal).toBe('SIGKILL');
    agent = await startAgent(dirs, fake.clientSecret);
    await waitFor(() => filesBelow(fake, '/Research/in').length === 0, 60_000, 'the cloud inbox to empty after the restart');
    const out = (): FakeItem[] => filesBelow(fake, '/Research/out');
    await waitFor(() => JSON.parse(runCli(['status', '--config', dirs.config, '--json']).stdout)[0]?.upload?.pending === 0, 60_000, 'the upload queue to drain');
    const names = out().map((i) => i.name);
    expect(new Set(names).size).toBe(names.length); // no instance twice
    expect(names.length + filesUnder(dirs.quarantine).filter((f) => f.endsWith('.json')).length + filesUnder(dirs.failed).filter((f) => f.endsWith('.json')).length).toBe(sent.size);
    expect(filesUnder(dirs.failed)).toEqual([]);
    expect(filesUnder(dirs.work).filter((f) => !f.split('/').pop()?.startsWith('.'))).toEqual([]);
    expect((await agent.stop()).code).toBe(0);
  });

  for (const direction of ['Box to SharePoint', 'SharePoint to Box'] as const) {
    it(`delivers a study dropped into a ${direction.split(' to ')[0]} inbox to a ${direction.split(' to ')[1]} outbox`, async () => {
      const box = new FakeBox({ pageSize: 3, longPollHoldMs: 500 });
      const graph = new FakeGraph({ pageSize: 3 });
      await box.start();
      await graph.start();
      cleanup.push(() => box.stop(), () => graph.stop());
      const boxIn = box.addFolder('0', 'inbox');
      const boxOut = box.addFolder('0', 'outbox');
      const fromBox = direction === 'Box to SharePoint';
      const dirs = cloudProject(mkdtempSync(join(tmpdir(), 'deid-cloud-both-')), { box, graph },
        fromBox ? { box: { folderId: boxIn } } : { graph: { driveId: graph.driveId, path: '/Research/in' } },
        fromBox ? { graph: { driveId: graph.driveId, path: '/Research/out' } } : { box: { folderId: boxOut } });
      const agent = await startAgent(dirs, graph.clientSecret, box.clientSecret);
      const study = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm'];
      if (fromBox) {
        const folder = box.addFolder(box.addFolder(boxIn, 'Doe^Jane'), 'CT 2024');
        for (const f of study) box.addFile(folder, f, readFileSync(join(SAMPLES, f)));
      } else {
        for (const f of study) graph.addFile(`/Research/in/Doe^Jane/CT 2024/${f}`, readFileSync(join(SAMPLES, f)));
      }
      const boxFiles = (id: string): Array<{ name: string; content: Buffer }> => box.children(id).flatMap((c) => (c.type === 'folder' ? boxFiles(c.id) : [c]));
      const delivered = (): Array<{ name: string; content: Buffer }> => (fromBox ? filesBelow(graph, '/Research/out') : boxFiles(boxOut));
      const waiting = (): number => (fromBox ? boxFiles(boxIn).length : filesBelow(graph, '/Research/in').length);
      await waitFor(() => delivered().length === 3, 60_000, '3 instances in the outbox');
      await waitFor(() => waiting() === 0, 30_000, 'the inbox to empty');
      const check = join(dirs.root, 'check');
      mkdirSync(check);
      for (const item of delivered()) {
        const local = join(check, item.name);
        writeFileSync(local, item.content);
        const dump = dcmdump(local);
        expect(dump).toMatch(/\(0010,0010\) PN \[CLOUD_001\]/);
        for (const phi of SAMPLE_PHI) expect(dump, phi).not.toContain(phi);
      }
      expect((await agent.stop()).code).toBe(0);
      for (const phi of [...SAMPLE_PHI, 'Doe^Jane', 'study-a', box.clientSecret, graph.clientSecret]) expect(agent.log(), phi).not.toContain(phi);
    });
  }
});
