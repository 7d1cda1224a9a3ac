import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, settledCount, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, SAMPLES, requireCorpus } from '../helpers/corpus.js';
import { StoreScp, freePort } from '../helpers/dicom-peers.js';
import { type Description, dcmdump, describe as pydescribe, runCli } from '../helpers/tools.js';

interface ForwardStatus { forwarded: number; pending: number; failed: number; retryingSince: string | null; lastError: string | null }
const forwardStatus = (config: string): ForwardStatus | undefined =>
  (JSON.parse(runCli(['status', '--config', config, '--json']).stdout) as Array<{ forward?: ForwardStatus }>)[0]?.forward;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function agentFor(root: string, port: number, extra: Record<string, unknown> = {}): Promise<{ agent: AgentProcess; dirs: ReturnType<typeof writeProjectConfig> }> {
  const dirs = writeProjectConfig(root, { ...extra, forward: { host: '127.0.0.1', port, calledAET: 'DEST', callingAET: 'DEIDAGENT', firstRetryDelayMs: 200, maxRetryDelayMs: 1000 } });
  const agent = new AgentProcess(dirs);
  cleanup.push(() => agent.stop('SIGKILL'));
  await agent.started();
  return { agent, dirs };
}

describe('C-STORE forwarding to dcmtk storescp', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-fwd-'));

  it('forwards every delivered instance, de-identified and intact, after writing the outbox copy', async () => {
    requireCorpus();
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'a-received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const { agent, dirs } = await agentFor(join(root, 'a'), port);
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm']) copyFileSync(join(SAMPLES, f), join(dirs.inbox, f));
    await waitFor(() => readdirSync(scp.dir).length === 4, 30_000, 'storescp to receive 4 instances');
    await waitFor(() => forwardStatus(dirs.config)?.forwarded === 4, 5000, 'the queue to drain');
    expect(forwardStatus(dirs.config)).toMatchObject({ pending: 0, failed: 0 });
    // What arrived is what the outbox holds (same elements, same pixels), and carries no PHI.
    const outbox = filesUnder(dirs.outbox);
    const received = readdirSync(scp.dir).map((f) => join(scp.dir, f));
    const d = pydescribe([...outbox, ...received]);
    const bySop = (paths: string[]) => new Map(paths.map((p) => [(d[p] as Description).elements.find(([t]) => t === '00080018')?.[2], d[p] as Description]));
    const sent = bySop(outbox);
    for (const [sop, got] of bySop(received)) {
      const want = sent.get(sop);
      expect(want, `received ${sop}`).toBeDefined();
      expect(got.elements.map(([p, , v]) => `${p}=${v}`)).toEqual(want?.elements.map(([p, , v]) => `${p}=${v}`));
      expect(got.pixelSha256).toBe(want?.pixelSha256);
    }
    for (const f of received) {
      const dump = dcmdump(f);
      expect(dump).toMatch(/\(0010,0010\) PN \[HOLD_00\d\]/);
      for (const phi of ['Doe', 'MRN12345', 'Roe^John', 'Princeton']) expect(dump).not.toContain(phi);
    }
    expect((await agent.stop()).code).toBe(0);
  });

  it('loses nothing while the destination is down, across an agent restart, and sends each instance once', async () => {
    const port = await freePort();
    const first = await agentFor(join(root, 'b'), port);
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-b-mr-no-patient-id.dcm']) copyFileSync(join(SAMPLES, f), join(first.dirs.inbox, f));
    await waitFor(() => {
      const s = forwardStatus(first.dirs.config);
      return s?.pending === 3 && s.retryingSince !== null;
    }, 20_000, `three instances to be retrying: ${JSON.stringify(forwardStatus(first.dirs.config))}`);
    expect(forwardStatus(first.dirs.config)?.lastError).toMatch(/ECONNREFUSED|network error/);
    expect(settledCount(first.dirs).outbox).toBe(3); // the outbox copy is written first
    expect((await first.agent.stop()).code).toBe(0);

    const second = new AgentProcess(first.dirs);
    cleanup.push(() => second.stop('SIGKILL'));
    await second.started();
    const scp = new StoreScp(port, join(root, 'b-received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    await waitFor(() => forwardStatus(first.dirs.config)?.forwarded === 3, 30_000, 'the queue to drain after the restart');
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate send would show up by now
    expect(readdirSync(scp.dir)).toHaveLength(3);
    expect(forwardStatus(first.dirs.config)).toMatchObject({ pending: 0, failed: 0 });
    expect((await second.stop()).code).toBe(0);
  });

  it('fails compressed instances a destination that accepts only uncompressed cannot take, with the reason', async () => {
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'c-received')); // storescp's default: uncompressed syntaxes only
    cleanup.push(() => scp.stop());
    await scp.ready();
    const { agent, dirs } = await agentFor(join(root, 'c'), port);
    copyFileSync(join(PYDICOM_TEST_FILES, 'MR_small_jp2klossless.dcm'), join(dirs.inbox, 'a.dcm'));
    copyFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(dirs.inbox, 'b.dcm'));
    await waitFor(() => {
      const s = forwardStatus(dirs.config);
      return s?.forwarded === 1 && s.failed === 1;
    }, 30_000, 'one forwarded, one failed');
    expect(forwardStatus(dirs.config)?.lastError).toContain('accepts none of the offered transfer syntaxes');
    expect(readdirSync(scp.dir)).toHaveLength(1);
    expect(settledCount(dirs).outbox).toBe(2); // both still delivered to the outbox
    const status = runCli(['status', '--config', dirs.config]).stdout;
    expect(status).toContain('HOLD → DEST@127.0.0.1');
    await agent.stop();
  });

  it('forwards deflated and big-endian instances in their own syntax to a destination that accepts them', async () => {
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'd-received'), 'DEST', ['+xa']); // accept every syntax dcmtk knows
    cleanup.push(() => scp.stop());
    await scp.ready();
    // image_dfl.dcm is a secondary capture: no burned-in rules here, so it reaches the outbox.
    const { agent, dirs } = await agentFor(join(root, 'd'), port, { burnedInRules: [] });
    copyFileSync(join(PYDICOM_TEST_FILES, 'image_dfl.dcm'), join(dirs.inbox, 'a.dcm'));
    copyFileSync(join(PYDICOM_TEST_FILES, 'MR_small_bigendian.dcm'), join(dirs.inbox, 'b.dcm'));
    await waitFor(() => forwardStatus(dirs.config)?.forwarded === 2, 30_000, 'both forwarded');
    const syntaxes = readdirSync(scp.dir).map((f) => /\(0002,0010\) UI =(\w+)/.exec(dcmdump(join(scp.dir, f)))?.[1]).sort();
    expect(syntaxes).toEqual(['BigEndianExplicit', 'DeflatedLittleEndianExplicit']);
    await agent.stop();
  });
});

describe('a store written before forwarding had its own ledger', () => {
  it('has its pending queue moved into the ledger at start and forwarded, and emptied from the store', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-legacy-'));
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const dirs = writeProjectConfig(join(root, 'p'), { forward: { host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 200, maxRetryDelayMs: 1000 } });
    // An output of an earlier run, queued in the old store format, plus an entry whose output never came to be.
    mkdirSync(join(dirs.outbox, 'HOLD_001'), { recursive: true });
    const output = join(dirs.outbox, 'HOLD_001', 'x.dcm');
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), output);
    const entry = (path: string) => ({ path, enqueuedAt: '2026-01-01T00:00:00.000Z', attempts: 2, nextAttemptAt: '2026-01-01T00:00:00.000Z', retryingSince: null, lastError: null, state: 'pending', status: null });
    writeFileSync(dirs.store, JSON.stringify({
      formatVersion: 1,
      projects: { HOLD: {
        prefix: 'HOLD_', dateShiftDays: -321, uidSecret: 'ab'.repeat(32), nextIndex: 2, createdAt: '2026-01-01T00:00:00.000Z', patients: {},
        forwardQueue: { '1.2.3.4': entry(output), '1.2.3.5': entry(join(dirs.outbox, 'never-written.dcm')) },
      } },
    }), { mode: 0o600 });
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    await waitFor(() => forwardStatus(dirs.config)?.forwarded === 1, 20_000, 'the migrated instance to be forwarded');
    expect(readdirSync(scp.dir)).toHaveLength(1);
    expect(agent.log()).toMatch(/"queued":1,"missing":1.*forward queue moved from the store to the ledger/);
    expect((await agent.stop()).code).toBe(0);
    expect((JSON.parse(readFileSync(dirs.store, 'utf8')) as { projects: { HOLD: { forwardQueue?: object } } }).projects.HOLD.forwardQueue).toEqual({});
  });
});
