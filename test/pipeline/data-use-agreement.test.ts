// The data use agreement's expiry, on an injected clock: the agent (inbox → mounted-share outbox
// through its spool drainer) delivers up to the last day and holds from the next; a drainer with
// instances spooled sends nothing while the agreement has expired, and logs why once.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProjectRecord } from '../../src/config/project-record.js';
import type { ResolvedProjectConfig } from '../../src/config/schema.js';
import { SHARE_MARKER } from '../../src/fs/share-folder.js';
import { anonymize } from '../../src/cli/anonymize.js';
import { duaExpired, duaHold, localDate } from '../../src/pipeline/data-use-agreement.js';
import { ProjectRunner } from '../../src/pipeline/project-runner.js';
import { projectOf } from '../../src/pipeline/project.js';
import { createRemoteOutboxSink } from '../../src/sinks/cloud-outbox-sink.js';
import { createFolderOutbox } from '../../src/sinks/folder-outbox.js';
import { ForwardLedger } from '../../src/sinks/forward-ledger.js';
import { SinkDrainer } from '../../src/sinks/sink-drainer.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { waitFor } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, requireCorpus } from '../helpers/corpus.js';
import { makeShare } from '../helpers/share.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const RECORD: ProjectRecord = { protocolId: 'IRB-1', principalInvestigator: 'Dr. A', duaExpires: '2026-01-31' };
const REASON = "the project's data use agreement expired on 2026-01-31; renew the record in the config";
/** Local times: the agreement is valid through its last day where the agent runs. */
const LAST_MINUTE = new Date(2026, 0, 31, 23, 59, 59);
const AFTER_MIDNIGHT = new Date(2026, 1, 1, 0, 0, 1);

const walk = (dir: string): string[] => (existsSync(dir)
  ? readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)])).sort()
  : []);
const outputsOn = (share: string): string[] => walk(share).filter((f) => f.endsWith('.dcm'));
const sidecarReasons = (quarantine: string): string[] => walk(quarantine).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { reason: string }).reason);

/** A pino logger whose lines the test reads. */
function capturedLog(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => { out.push(s); } }), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('data use agreement expiry', () => {
  it('is valid through its last local day', () => {
    expect(localDate(LAST_MINUTE)).toBe('2026-01-31');
    expect(duaExpired(RECORD, LAST_MINUTE)).toBeUndefined();
    expect(duaExpired(RECORD, AFTER_MIDNIGHT)).toBe(REASON);
    expect(duaExpired(undefined, new Date(2999, 0, 1))).toBeUndefined();
    expect(duaHold(undefined)).toBeUndefined();
  });

  it('the agent delivers before midnight of the last day and holds after it, on the clock of each input', async () => {
    requireCorpus();
    const root = mkdtempSync(join(tmpdir(), 'deid-dua-agent-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const share = makeShare(join(root, 'share'));
    const project: ResolvedProjectConfig = {
      name: 'D', prefix: 'D_', inbox: join(root, 'inbox'), outbox: join(root, 'spool'), quarantine: join(root, 'q'), failed: join(root, 'failed'),
      work: join(root, 'work'), dateShiftDays: -10, watch: { stabilityMs: 100 }, record: RECORD,
      remoteOutbox: { folder: { path: share, onConflict: 'fail', transfers: 2 } },
    };
    let now = LAST_MINUTE;
    const { log, lines } = capturedLog();
    const store = await ProjectStore.open(join(root, 'store.json'));
    cleanup.push(() => store.close());
    const runner = new ProjectRunner(project, store, log, 1, undefined, undefined, { outbox: createFolderOutbox(share) }, () => now);
    await runner.start();
    cleanup.push(() => runner.stop());

    mkdirSync(project.inbox, { recursive: true });
    copyFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(project.inbox, 'ct.dcm'));
    await waitFor(() => outputsOn(share).length === 1, 20_000, 'the first input delivered to the share');

    now = AFTER_MIDNIGHT;
    copyFileSync(join(PYDICOM_TEST_FILES, 'MR_small.dcm'), join(project.inbox, 'mr.dcm'));
    await waitFor(() => sidecarReasons(project.quarantine).length === 1, 20_000, 'the second input held');
    expect(sidecarReasons(project.quarantine)).toEqual([REASON]);
    await new Promise((r) => setTimeout(r, 1500)); // several drainer ticks
    expect(outputsOn(share)).toHaveLength(1);
    expect(walk(project.outbox).filter((f) => f.endsWith('.dcm') && !f.includes('/.deid-sinks/'))).toEqual([]);
    // The drainer says once why it holds; nothing of the input is in the reason.
    const held = lines().filter((l) => l.msg === 'sending held; queued instances stay spooled');
    expect(held).toHaveLength(1);
    expect(held[0]?.reason).toBe(REASON);
    const settled = lines().filter((l) => l.msg === 'settled').map((l) => [l.outcome, l.reason ?? null]);
    expect(settled).toEqual([['delivered', null], ['quarantined', REASON]]);
  }, 60_000);

  it('anonymize holds too, input by input', async () => {
    requireCorpus();
    const root = mkdtempSync(join(tmpdir(), 'deid-dua-cli-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const base = projectOf({ name: 'D', prefix: 'D_', inbox: join(root, 'in'), outbox: join(root, 'out'), quarantine: join(root, 'q'), failed: join(root, 'f'), work: join(root, 'w'), dateShiftDays: -10, record: RECORD });
    // One input at a time, in input order: the clock is asked once per input, and crosses midnight after the first.
    const times = [LAST_MINUTE, AFTER_MIDNIGHT, AFTER_MIDNIGHT];
    const summary = await anonymize({
      inputs: [join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(PYDICOM_TEST_FILES, 'MR_small.dcm')], project: base, storePath: join(root, 'store.json'),
      concurrency: 1, workers: 0, clock: () => times.shift() ?? AFTER_MIDNIGHT,
    });
    expect([summary.delivered, summary.quarantined]).toEqual([1, 1]);
    expect(walk(join(root, 'out')).filter((f) => f.endsWith('.dcm'))).toHaveLength(1);
    expect(sidecarReasons(join(root, 'q'))).toEqual([REASON]);
  }, 60_000);

  it('a spool drainer sends nothing while expired: the instance stays queued, and goes once the hold lifts', async () => {
    requireCorpus();
    const root = mkdtempSync(join(tmpdir(), 'deid-dua-drain-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    // A real de-identified output to queue, made while the agreement held.
    const base = projectOf({ name: 'D', prefix: 'D_', inbox: join(root, 'in'), outbox: join(root, 'spool'), quarantine: join(root, 'q'), failed: join(root, 'f'), work: join(root, 'w'), dateShiftDays: -10, record: RECORD });
    await anonymize({ inputs: [join(PYDICOM_TEST_FILES, 'CT_small.dcm')], project: base, storePath: join(root, 'store.json'), workers: 0, clock: () => LAST_MINUTE });
    const [output] = walk(join(root, 'spool')).filter((f) => f.endsWith('.dcm'));
    expect(output).toBeDefined();
    const share = makeShare(join(root, 'share'));
    const ledgerDir = join(root, 'spool', '.deid-sinks', 'folder');
    await new ForwardLedger(ledgerDir).enqueue('1.2.3.4', output as string);

    let now = AFTER_MIDNIGHT;
    const { log, lines } = capturedLog();
    const drainer = new SinkDrainer('D', createRemoteOutboxSink(createFolderOutbox(share), 2), { retryForHours: 1, firstRetryDelayMs: 10, maxRetryDelayMs: 20 },
      ledgerDir, log, duaHold(RECORD, () => now));
    drainer.start(20);
    cleanup.push(() => drainer.stop());
    await new Promise((r) => setTimeout(r, 500)); // ~25 ticks
    expect(outputsOn(share)).toEqual([]);
    expect((await drainer.ledger.counts()).pending).toBe(1);
    expect(lines().filter((l) => l.msg === 'sending held; queued instances stay spooled')).toHaveLength(1);
    expect(readdirSync(share)).toEqual([SHARE_MARKER]);

    // Renewed (in the agent: the config edited and the agent restarted): the spooled instance goes.
    now = LAST_MINUTE;
    await waitFor(() => outputsOn(share).length === 1, 10_000, 'sent once the hold lifted');
    await waitFor(() => lines().some((l) => l.msg === 'forwarded'), 10_000, 'forwarded logged');
    expect(lines().filter((l) => l.msg === 'sending resumed')).toHaveLength(1);
  }, 60_000);
});
