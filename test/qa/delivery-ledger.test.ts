import { mkdtempSync, readFileSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchOutputs, listBatches } from '../../src/qa/batches.js';
import { DeliveryLedger } from '../../src/qa/delivery-ledger.js';
import { deliveriesDir, localDay, requestsDir } from '../../src/qa/qa-paths.js';

// The delivery ledger on a real file system: group-committed appends, one file per local day and
// per retrieval request, 0600, and what readers make of it (one line per output, newest batch first).

const sop = (i: number): string => `2.25.${1000 + i}`;
const outputOf = (outbox: string, i: number): string => join(outbox, 'QA_001', '2.25.1', '2.25.2', `${sop(i)}.dcm`);

describe('DeliveryLedger', () => {
  it('records 300 concurrent deliveries, each on disk when its record resolves, mode 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-qa-ledger-'));
    const store = join(root, 'store.json');
    const ledger = new DeliveryLedger(store, 'P', join(root, 'out'), () => new Date(2026, 11, 2, 10, 0, 0));
    await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.record({ outputPath: outputOf(join(root, 'out'), i) }, i % 3 === 0 ? 'request-0123456789ab' : undefined)));
    // Resolved: on disk already, before close.
    const day = join(deliveriesDir(store, 'P'), '2026-12-02.jsonl');
    const lines = readFileSync(day, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sop: string; path: string; request?: string; at: string });
    expect(lines).toHaveLength(300);
    expect(lines[0]).toEqual({ at: new Date(2026, 11, 2, 10, 0, 0).toISOString(), sop: sop(0), path: `QA_001/2.25.1/2.25.2/${sop(0)}.dcm`, request: 'request-0123456789ab' });
    expect(readFileSync(join(requestsDir(store, 'P'), 'request-0123456789ab.jsonl'), 'utf8').trim().split('\n')).toHaveLength(100);
    expect(statSync(day).mode & 0o777).toBe(0o600);
    expect(statSync(deliveriesDir(store, 'P')).mode & 0o777).toBe(0o700);
    await ledger.close();
    await expect(ledger.record({ outputPath: outputOf(join(root, 'out'), 1) })).rejects.toThrow(/closed/);
  });

  it('starts a new file on a new local day; readers keep one line per output and list the newest batch first', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-qa-ledger-'));
    const store = join(root, 'store.json');
    let now = new Date(2026, 10, 30, 23, 59, 59);
    const ledger = new DeliveryLedger(store, 'P', join(root, 'out'), () => now);
    await ledger.record({ outputPath: outputOf(join(root, 'out'), 1) });
    await ledger.record({ outputPath: outputOf(join(root, 'out'), 2) });
    now = new Date(2026, 11, 1, 0, 0, 1);
    await ledger.record({ outputPath: outputOf(join(root, 'out'), 3) });
    await ledger.record({ outputPath: outputOf(join(root, 'out'), 3) }); // a redone input
    await ledger.close();
    expect(readdirSync(deliveriesDir(store, 'P')).sort()).toEqual(['2026-11-30.jsonl', '2026-12-01.jsonl']);
    expect((await batchOutputs(store, 'P', 'day-2026-11-30')).map((l) => l.sop)).toEqual([sop(1), sop(2)]);
    expect((await batchOutputs(store, 'P', 'day-2026-12-01')).map((l) => l.sop)).toEqual([sop(3)]);
    utimesSync(join(deliveriesDir(store, 'P'), '2026-11-30.jsonl'), new Date(2026, 10, 30), new Date(2026, 10, 30));
    expect((await listBatches(store, 'P')).map((b) => b.id)).toEqual(['day-2026-12-01', 'day-2026-11-30']);
    expect(await listBatches(store, 'nothing')).toEqual([]);
    expect(localDay(new Date(2026, 0, 5, 0, 30))).toBe('2026-01-05');
  });
});
