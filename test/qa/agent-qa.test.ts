import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchOutputs } from '../../src/qa/batches.js';
import { localDay, retainedDir } from '../../src/qa/qa-paths.js';
import { pruneRetained } from '../../src/qa/qa-retention.js';
import { qaScopeOf } from '../../src/qa/qa-scope.js';
import { loadConfig } from '../../src/config/load-config.js';
import { AgentProcess, filesUnder, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { makeShare } from '../helpers/share.js';
import { runCli } from '../helpers/tools.js';
import { inputIdentifiers } from './qa-fixture.js';

// The running agent (a real process) with a spooled outbox (a mounted share, emptied as it
// uploads): each delivered output is in the day's ledger and kept under <store>.qa for
// inspection, so a report can still be drawn once the spool is empty; the kept copies are pruned
// by age.

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => { for (const c of cleanup) await c(); });

const INPUTS = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm'];

describe('sample inspection in the agent, with a spooled outbox', () => {
  it('records each delivery and keeps its de-identified copy after the spool lets it go', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-qa-agent-'));
    const share = makeShare(join(root, 'share'));
    const dirs = writeProjectConfig(root, { outbox: { folder: { path: share } }, pixels: { inspect: { CT: 'header', MR: 'header' } }, qa: { min: 4 } });
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    mkdirSync(dirs.inbox, { recursive: true });
    for (const n of INPUTS) copyFileSync(join(SAMPLES, n), join(dirs.inbox, n));
    const outputs = (): string[] => filesUnder(share).filter((f) => f.endsWith('.dcm'));
    await waitFor(() => outputs().length === INPUTS.length, 60_000, 'every output on the share');
    expect((await agent.stop()).code).toBe(0);

    const lines = await batchOutputs(dirs.store, 'HOLD', `day-${localDay(new Date())}`);
    expect(lines).toHaveLength(INPUTS.length);
    const onShare = new Map(outputs().map((f) => [relative(share, f), f]));
    const kept = retainedDir(dirs.store, 'HOLD');
    for (const l of lines) {
      const delivered = [...onShare].find(([rel]) => rel.endsWith(`${l.sop}.dcm`))?.[1];
      if (!delivered) throw new Error('a ledger line without its output on the share');
      expect(readFileSync(join(kept, l.path)).equals(readFileSync(delivered))).toBe(true);
    }
    // Kept beside the store, in folders only the agent's account can enter.
    expect(statSync(kept).mode & 0o077).toBe(0);
    expect(statSync(`${dirs.store}.qa`).mode & 0o077).toBe(0);
    // The spool itself holds no output any more: the report reads the kept copies.
    const spool = qaScopeOf(await loadConfig(dirs.config, { secrets: false }), 'HOLD').outbox;
    expect(spool).not.toBe(share);
    expect(filesUnder(spool).filter((f) => f.endsWith('.dcm'))).toEqual([]);
    const ledgerText = readFileSync(join(`${dirs.store}.qa`, 'HOLD', 'deliveries', `${localDay(new Date())}.jsonl`), 'utf8');
    for (const id of await inputIdentifiers(INPUTS.map((n) => join(SAMPLES, n)))) expect(ledgerText).not.toContain(id);
    const out = join(root, 'report.html');
    const r = runCli(['qa', 'report', '--project', 'HOLD', '--config', dirs.config, '--out', out, '--draw']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${INPUTS.length} sample(s), not signed off`);
    expect(r.stdout).not.toContain('no longer available');
    expect((readFileSync(out, 'utf8').match(/src="data:image\/png;base64,/g) ?? []).length).toBe(INPUTS.length);
  }, 120_000);

  it('lets a claim wait, not fail, while the ledger cannot be written, and records it once it can', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-qa-agent-'));
    const dirs = writeProjectConfig(root, { pixels: { inspect: { CT: 'header' } } });
    writeFileSync(`${dirs.store}.qa`, 'in the way'); // a file where the ledger's folder goes: ENOTDIR/EEXIST
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    mkdirSync(dirs.inbox, { recursive: true });
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(dirs.inbox, 'a.dcm'));
    await waitFor(() => agent.log().includes('deferred; will retry'), 30_000, 'the claim deferred');
    expect(filesUnder(dirs.failed)).toEqual([]);
    rmSync(`${dirs.store}.qa`);
    await waitFor(() => existsSync(join(`${dirs.store}.qa`, 'HOLD', 'deliveries')), 60_000, 'the ledger written after the retry');
    await waitFor(() => filesUnder(dirs.work).filter((f) => !f.split('/').pop()?.startsWith('.')).length === 0, 30_000, 'the claim settled');
    expect((await agent.stop()).code).toBe(0);
    const lines = await batchOutputs(dirs.store, 'HOLD', `day-${localDay(new Date())}`);
    expect(lines.map((l) => l.path)).toEqual(filesUnder(dirs.outbox).map((f) => relative(dirs.outbox, f)));
    expect(filesUnder(dirs.failed)).toEqual([]);
  }, 120_000);

  it('prunes kept outputs older than retainDays, and the folders they leave empty', async () => {
    const kept = mkdtempSync(join(tmpdir(), 'deid-qa-kept-'));
    const old = join(kept, 'P_001', '2.25.1', '2.25.2', '2.25.3.dcm');
    const fresh = join(kept, 'P_002', '2.25.4', '2.25.5', '2.25.6.dcm');
    for (const f of [old, fresh]) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, 'x');
    }
    const now = new Date('2026-12-02T12:00:00Z');
    utimesSync(old, new Date('2026-11-17T11:00:00Z'), new Date('2026-11-17T11:00:00Z')); // 15 days
    utimesSync(fresh, new Date('2026-11-19T13:00:00Z'), new Date('2026-11-19T13:00:00Z')); // 13 days
    expect(await pruneRetained(kept, 14, now)).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(join(kept, 'P_001'))).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(kept)).toBe(true);
  });
});
