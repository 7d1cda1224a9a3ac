import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { inThisThread } from '../../src/pipeline/instance-workers.js';
import { processingSpec } from '../helpers/processing-spec.js';
import { CStoreForwarder } from '../../src/sinks/cstore-forwarder.js';
import { ForwardLedger, forwardLedgerDir } from '../../src/sinks/forward-ledger.js';
import { waitFor } from '../helpers/agent-process.js';
import { SAMPLES, dcmFiles } from '../helpers/corpus.js';
import { StoreScp, freePort } from '../helpers/dicom-peers.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('a drain running while outputs are written and queued', () => {
  it('sends every instance exactly once and fails none: nothing is visible before it is complete', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-window-'));
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const outbox = join(root, 'outbox');
    const ledgerDir = forwardLedgerDir(outbox, 'W');
    const config = forwardConfigSchema.parse({ host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 50, maxRetryDelayMs: 100, batchSize: 3 });
    const forwarder = new CStoreForwarder('W', config, ledgerDir, createLogger('silent'));
    cleanup.push(() => forwarder.stop());
    // A drain every millisecond, racing the writes: with the queue entry made before the output
    // (the old order), drains met missing files.
    forwarder.start(1);
    let n = 0;
    const processor = inThisThread(processingSpec('W', outbox, {}, [ledgerDir]), { pseudonymFor: () => Promise.resolve(`W_${String(++n).padStart(3, '0')}`) });
    const inputs = dcmFiles(SAMPLES).filter((f) => f.includes('-ct-') || f.includes('-mr-'));
    const outcomes = await Promise.all(inputs.map((f) => processor.process(f)));
    const delivered = outcomes.filter((o) => o.kind === 'delivered').length;
    expect(delivered).toBeGreaterThan(2);
    await waitFor(() => readdirSync(scp.dir).length === delivered, 15_000, 'every instance to arrive');
    const ledger = new ForwardLedger(ledgerDir);
    await forwarder.stop();
    expect(await ledger.counts()).toMatchObject({ pending: 0, failed: 0 });
    expect((await ledger.readState()).forwarded).toBe(delivered);
  });
});

describe('a forwarding attempt whose ledger write fails', () => {
  it('is logged and retried; it never becomes an unhandled rejection', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-fwdfault-'));
    const ledgerDir = join(root, 'ledger');
    const ledger = new ForwardLedger(ledgerDir);
    const output = join(root, 'x.dcm');
    (await import('node:fs')).copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), output);
    await ledger.enqueue('1.2.3.5', output);
    // The state file's place taken by a folder: every write of it fails (EISDIR), deterministically.
    mkdirSync(join(ledgerDir, 'state.json'));
    const port = await freePort(); // nothing listens: the attempt reaches nothing and must record that
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } });
    const forwarder = new CStoreForwarder('F', forwardConfigSchema.parse({ host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 10, maxRetryDelayMs: 20 }), ledgerDir, log);
    cleanup.push(() => forwarder.stop());
    forwarder.start(20);
    await waitFor(() => lines.filter((l) => l.includes('forwarding attempt failed')).length >= 2, 10_000, 'two failed attempts logged');
    rmSync(join(ledgerDir, 'state.json'), { recursive: true });
    await waitFor(() => lines.some((l) => l.includes('destination unreachable')), 10_000, 'an attempt recorded once writes work');
    expect(lines.some((l) => l.includes('"code":"EISDIR"'))).toBe(true);
    expect((await ledger.readState()).retryingSince).not.toBeNull();
    expect((await ledger.counts()).pending).toBe(1);
  });
});
