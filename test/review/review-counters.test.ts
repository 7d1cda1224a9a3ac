import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPathOf } from '../../src/audit/audit-log.js';
import { formatStatuses, projectStatusesOf } from '../../src/cli/status.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ResolvedConfig } from '../../src/config/schema.js';
import { type RunningAgent, startAgent } from '../../src/pipeline/agent.js';
import { batchOutputs } from '../../src/qa/batches.js';
import { localDay } from '../../src/qa/qa-paths.js';
import { discardItem, releaseItem, sendBackToFailed } from '../../src/review/quarantine-actions.js';
import { listQuarantine } from '../../src/review/quarantine-items.js';
import type { ReviewDesk } from '../../src/review/review-desk.js';
import { waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';

// Review actions through the running agent's own desk (reviewProcessing, as the console uses it):
// a release lands in the day's delivery ledger, and each action moves its input out of
// quarantined in the store's counters (into delivered, discarded, failed), so status keeps
// received = delivered + quarantined + failed + discarded + pending.

let dir: string;
let config: ResolvedConfig;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deid-review-counters-'));
  const p = { name: 'DEMO', prefix: 'DEMO_', inbox: join(dir, 'inbox'), outbox: join(dir, 'outbox'), quarantine: join(dir, 'quarantine'), failed: join(dir, 'failed'), watch: { stabilityMs: 300 } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ store: join(dir, 'store.json'), workers: 0, projects: [p] }));
  config = await loadConfig(join(dir, 'config.json'));
  agent = await startAgent(config, pino({ level: 'silent' }));
  // Three ultrasound images (held for burned-in text), made distinct by their SOP Instance UIDs.
  const staging = join(dir, 'staging');
  mkdirSync(staging);
  for (let i = 1; i <= 3; i++) {
    const f = join(staging, `us-${i}.dcm`);
    copyFileSync(join(SAMPLES, 'study-c-us.dcm'), f);
    execFileSync('dcmodify', ['-nb', '-m', `(0008,0018)=1.2.826.0.1.3680043.2.1143.77.${i}`, f]);
    renameSync(f, join(p.inbox, `us-${i}.dcm`));
  }
  const held = (): boolean => readdirSync(p.quarantine, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.json')).length === 3;
  await waitFor(() => readdirSync(p.inbox).length === 0 && existsSync(p.quarantine) && held(), 60_000, 'three items held');
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('review actions and the agent\'s counters', () => {
  it('release, discard and back to failed: the ledger has the release, status moves each out of quarantined', async () => {
    const processing = agent?.reviewProcessing('DEMO');
    if (!processing) throw new Error('no review processing');
    const desk: ReviewDesk = { ...processing, auditPath: auditPathOf(config.store) };
    const req = { who: 'console:alice', comment: 'checked' };
    const [a, b, c] = await listQuarantine(config.projects[0]?.quarantine as string);
    if (!a || !b || !c) throw new Error('not held');
    const released = await releaseItem(desk, a.id, req);
    await discardItem(desk, b.id, req);
    await sendBackToFailed(desk, c.id, req);
    await agent?.stop();
    agent = undefined;
    if (released.kind !== 'released') throw new Error('not released');
    const lines = await batchOutputs(config.store, 'DEMO', `day-${localDay(new Date())}`);
    expect(lines.map((l) => l.path)).toEqual([relative(config.projects[0]?.outbox as string, released.outputPath)]);
    const [s] = await projectStatusesOf(config);
    expect(s).toMatchObject({ received: 3, delivered: 1, quarantined: 0, failed: 1, discarded: 1, pending: 0 });
    if (!s) throw new Error('no status');
    expect(s.received).toBe(s.delivered + s.quarantined + s.failed + s.discarded + s.pending);
    expect(formatStatuses([s])).toMatch(/discarded/);
  });
});
