import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphInbox } from '../../src/cloud/graph/graph-inbox.js';
import { createGraphSession } from '../../src/cloud/graph/graph-session.js';
import { createLogger } from '../../src/log/logger.js';
import { CloudInbox } from '../../src/sources/cloud-inbox.js';
import { WorkArea, remoteTagOf } from '../../src/sources/work-area.js';
import { waitFor } from '../helpers/agent-process.js';
import { FakeGraph, type FakeItem } from '../helpers/fake-graph.js';

for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];

const INBOX = '/in';
let fake: FakeGraph;
beforeAll(async () => {
  fake = new FakeGraph({ pageSize: 2 });
  await fake.start();
  fake.addFolder(INBOX);
});
afterAll(() => fake.stop());

/** A CloudInbox over the fake with its own work area; `delivered` collects its claims. */
function source(root: string, ack: 'delete' | 'archive' = 'delete', folder = INBOX): { inbox: CloudInbox; work: WorkArea; delivered: string[] } {
  const session = createGraphSession({ tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: fake.clientSecret, authorityHost: fake.authorityHost, baseUrl: fake.baseUrl },
    { sleep: async () => undefined });
  const work = new WorkArea(join(root, 'work'));
  const delivered: string[] = [];
  const inbox = new CloudInbox(createGraphInbox(session, { driveId: fake.driveId, path: folder, ack }), work, join(root, 'work.cloud'),
    (claimed) => delivered.push(claimed), createLogger('silent'), 'T', { pollIntervalMs: 100, transfers: 2, changeIntervalMs: 50 });
  return { inbox, work, delivered };
}
const processing = (): FakeItem[] => fake.childrenOf(fake.byPath(`${INBOX}/.deid-processing`)?.id ?? '');

describe('CloudInbox: a claim is acked on the service only after it settled locally', () => {
  it('claims and downloads into the work area, keeps the remote file until settlement, then acks it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-cloud-inbox-'));
    const item = fake.addFile(`${INBOX}/study/one.dcm`, Buffer.from('first input'));
    const s = source(root);
    await s.work.init();
    await s.inbox.start();
    s.inbox.run();
    await waitFor(() => s.delivered.length === 1, 10_000, 'the claim');
    const claimed = s.delivered[0] as string;
    expect(readFileSync(claimed, 'utf8')).toBe('first input');
    expect(remoteTagOf(claimed.split('/').pop() as string)).toBe(Buffer.from(item.id).toString('hex'));
    // Claimed on the service (moved into the processing folder), not acked: the claim has not settled.
    await new Promise((r) => setTimeout(r, 300));
    expect(processing().map((i) => i.id)).toEqual([item.id]);
    await s.inbox.beforeSettle(claimed);
    rmSync(claimed); // the runner's settlement (delivered)
    s.inbox.afterSettle(claimed);
    await waitFor(() => processing().length === 0, 10_000, 'the ack');
    expect(fake.items.has(item.id)).toBe(false);
    await s.inbox.stop();
    expect(readdirSync(join(root, 'work.cloud', 'acks'))).toEqual([]);
  });

  it('after a crash: a claim with no local copy is downloaded again; one settled but not acked is acked, not downloaded', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-cloud-inbox-crash-'));
    const a = fake.addFile(`${INBOX}/a.dcm`, Buffer.from('a'));
    const b = fake.addFile(`${INBOX}/b.dcm`, Buffer.from('b'));
    const first = source(root);
    await first.work.init();
    await first.inbox.start();
    first.inbox.run();
    await waitFor(() => first.delivered.length === 2, 10_000, 'both claims');
    const byContent = new Map(first.delivered.map((p) => [readFileSync(p, 'utf8'), p]));
    // b settles (its marker is written, its local claim removed) and the process dies before the ack;
    // a's local copy is lost with the crash (say, it was still downloading).
    const bClaim = byContent.get('b') as string;
    await first.inbox.beforeSettle(bClaim);
    rmSync(bClaim);
    rmSync(byContent.get('a') as string);
    await first.inbox.stop(); // stopped, never told b settled: as a crash leaves it
    expect(processing().map((i) => i.id).sort()).toEqual([a.id, b.id].sort());
    const downloads = fake.count('download');

    const next = source(root);
    await next.inbox.start();
    next.inbox.run();
    await waitFor(() => next.delivered.length === 1 && !processing().some((i) => i.id === b.id), 10_000, 'a again, and b acked');
    expect(readFileSync(next.delivered[0] as string, 'utf8')).toBe('a');
    expect(fake.count('download') - downloads).toBe(1); // b was not downloaded again
    await next.inbox.stop();
  });

  /** Settles every claim delivered so far, as the runner does (marker, local end, ack). */
  const settleAll = async (s: ReturnType<typeof source>, done: Set<string>): Promise<void> => {
    for (const claimed of s.delivered) {
      if (done.has(claimed)) continue;
      done.add(claimed);
      await s.inbox.beforeSettle(claimed);
      rmSync(claimed);
      s.inbox.afterSettle(claimed);
    }
  };

  it('two agents on one inbox take each file once: the processing folder is shared, the claims are not', async () => {
    fake.addFolder('/shared');
    const ids = Array.from({ length: 5 }, (_, i) => fake.addFile(`/shared/${i}.dcm`, Buffer.from(`input ${i}`)).id);
    const [x, y] = [source(mkdtempSync(join(tmpdir(), 'deid-cloud-x-')), 'delete', '/shared'), source(mkdtempSync(join(tmpdir(), 'deid-cloud-y-')), 'delete', '/shared')];
    for (const s of [x, y]) { await s.work.init(); await s.inbox.start(); s.inbox.run(); }
    await waitFor(() => x.delivered.length + y.delivered.length >= 5, 10_000, 'five claims');
    await new Promise((r) => setTimeout(r, 400)); // more rounds: a second taker would show now
    expect(x.delivered.length + y.delivered.length).toBe(5);
    const done = new Set<string>();
    await settleAll(x, done);
    await settleAll(y, done);
    await waitFor(() => ids.every((id) => !fake.items.has(id)), 10_000, 'every ack');
    for (const s of [x, y]) await s.inbox.stop();
  });

  it('archives settled inputs under their claimed names and takes each once', async () => {
    fake.addFolder('/arch');
    const ids = [fake.addFile('/arch/p.dcm', Buffer.from('p')).id, fake.addFile('/arch/q.dcm', Buffer.from('q')).id];
    const s = source(mkdtempSync(join(tmpdir(), 'deid-cloud-arch-')), 'archive', '/arch');
    await s.work.init();
    await s.inbox.start();
    s.inbox.run();
    await waitFor(() => s.delivered.length === 2, 10_000, 'both claims');
    await settleAll(s, new Set());
    const archive = fake.byPath('/arch/.deid-archive');
    await waitFor(() => fake.childrenOf(archive?.id ?? '').length === 2, 10_000, 'both archived');
    await new Promise((r) => setTimeout(r, 400));
    expect(s.delivered).toHaveLength(2);
    expect(fake.childrenOf(archive?.id ?? '').map((i) => i.name).sort()).toEqual(ids.map((id) => `${id}.dcm`).sort());
    expect(fake.childrenOf(fake.byPath('/arch/.deid-processing')?.id ?? '')).toEqual([]);
    await s.inbox.stop();
  });

  it('backs off an input whose download keeps failing instead of fetching it every round', async () => {
    fake.addFolder('/bad');
    const bad = fake.addFile('/bad/bad.dcm', Buffer.from('corrupt on the way'));
    fake.corrupt.add(bad.id);
    const s = source(mkdtempSync(join(tmpdir(), 'deid-cloud-bad-')), 'delete', '/bad');
    await s.work.init();
    const before = fake.count('download');
    await s.inbox.start();
    s.inbox.run();
    await new Promise((r) => setTimeout(r, 1500)); // 30 rounds of 50 ms
    expect(fake.count('download') - before).toBe(1); // the next try is 5 s away
    expect(s.delivered).toEqual([]);
    await s.inbox.stop();
  });
});
