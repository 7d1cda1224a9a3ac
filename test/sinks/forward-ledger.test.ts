import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ForwardLedger } from '../../src/sinks/forward-ledger.js';
import { SAMPLES } from '../helpers/corpus.js';

const MINUTE = 60_000;
const T0 = 29_000_000 * MINUTE; // a fixed clock: buckets are minutes

function ledgerWithOutput(): { ledger: ForwardLedger; output: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'deid-ledger-'));
  const output = join(root, 'outbox', 'x.dcm');
  mkdirSync(join(root, 'outbox'));
  copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), output);
  return { ledger: new ForwardLedger(join(root, 'outbox', '.deid-forward')), output, root };
}

describe('the forward ledger', () => {
  it('queues a link to the complete output, due from now on, oldest minute first', async () => {
    const { ledger, output } = ledgerWithOutput();
    await ledger.enqueue('1.2.3.2', output, T0 + MINUTE);
    await ledger.enqueue('1.2.3.1', output, T0);
    expect(await ledger.due(10, T0 - 1)).toEqual([]);
    const due = await ledger.due(10, T0 + MINUTE);
    expect(due.map((d) => d.sop)).toEqual(['1.2.3.1', '1.2.3.2']);
    expect(statSync(due[0]?.path ?? '').ino).toBe(statSync(output).ino);
    expect(await ledger.due(1, T0 + MINUTE)).toHaveLength(1);
  });

  it('keeps queued bytes when the outbox copy is taken away', async () => {
    const { ledger, output } = ledgerWithOutput();
    const bytes = readFileSync(output);
    await ledger.enqueue('1.2.3', output, T0);
    execFileSync('rm', [output]);
    const [entry] = await ledger.due(1, T0);
    expect(readFileSync(entry?.path ?? '').equals(bytes)).toBe(true);
  });

  it('replaces an entry queued again for the same instance', async () => {
    const { ledger, output, root } = ledgerWithOutput();
    await ledger.enqueue('1.2.3', output, T0);
    const newer = join(root, 'outbox', 'y.dcm');
    writeFileSync(newer, 'newer');
    await ledger.enqueue('1.2.3', newer, T0);
    const due = await ledger.due(10, T0);
    expect(due).toHaveLength(1);
    expect(readFileSync(due[0]?.path ?? '', 'utf8')).toBe('newer');
  });

  it('defers a retried instance to its own later minute, counting attempts and the first failure', async () => {
    const { ledger, output } = ledgerWithOutput();
    await ledger.enqueue('1.2.3', output, T0);
    const [entry] = await ledger.due(1, T0);
    await ledger.retryLater(entry as NonNullable<typeof entry>, 5 * MINUTE, T0);
    expect(await ledger.due(10, T0 + 4 * MINUTE)).toEqual([]);
    const [again] = await ledger.due(10, T0 + 5 * MINUTE);
    expect(again).toMatchObject({ sop: '1.2.3', attempts: 1, sinceMs: T0 });
    await ledger.retryLater(again as NonNullable<typeof again>, MINUTE, T0 + 5 * MINUTE);
    expect((await ledger.due(10, T0 + 6 * MINUTE))[0]).toMatchObject({ attempts: 2, sinceMs: T0 });
  });

  it('keeps a refused instance under failed/ with its reason and status, and counts it', async () => {
    const { ledger, output } = ledgerWithOutput();
    await ledger.enqueue('1.2.3', output, T0);
    await ledger.enqueue('1.2.4', output, T0);
    const [entry] = await ledger.due(1, T0);
    await ledger.fail(entry as NonNullable<typeof entry>, 'status 0xA900 refused by the destination', 0xa900, T0);
    expect(await ledger.counts()).toEqual({ pending: 1, failed: 1, lastFailure: 'status 0xA900 refused by the destination' });
    expect(readdirSync(ledger.failedDir).sort()).toEqual([`${entry?.sop}.dcm`, `${entry?.sop}.json`]);
  });

  it('refuses a SOP Instance UID that is not a UID (it becomes a file name)', async () => {
    const { ledger, output } = ledgerWithOutput();
    await expect(ledger.enqueue('../../etc/passwd', output)).rejects.toThrow(/not a UID/);
  });

  it('ignores foreign names in its folders', async () => {
    const { ledger, output } = ledgerWithOutput();
    await ledger.enqueue('1.2.3', output, T0);
    const bucket = readdirSync(ledger.queueDir)[0] ?? '';
    writeFileSync(join(ledger.queueDir, bucket, 'notes.txt'), 'x');
    mkdirSync(join(ledger.queueDir, 'stray'));
    expect((await ledger.due(10, T0)).map((d) => d.sop)).toEqual(['1.2.3']);
    expect((await ledger.counts()).pending).toBe(1);
  });

  it('holds a week-long outage of 300,000 queued instances in a small, fixed heap', () => {
    const { ledger } = ledgerWithOutput();
    // 300,000 entries over a week of minutes, made directly (empty files: a file takes at most
    // 65,000 links).
    const perBucket = 30;
    for (let b = 0; b < 10_000; b++) {
      const dir = join(ledger.queueDir, String(29_000_000 + b).padStart(13, '0'));
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < perBucket; i++) closeSync(openSync(join(dir, `1.2.${b}.${i}.dcm`), 'w'));
    }
    // A child with a 24 MiB heap: 300,000 queue entries as objects would need far more.
    const script = `
      const { ForwardLedger } = await import(${JSON.stringify(resolve('dist/src/sinks/forward-ledger.js'))});
      const l = new ForwardLedger(${JSON.stringify(ledger.dir)});
      const due = await l.due(100, ${T0 + 20_000 * MINUTE});
      const counts = await l.counts();
      process.stdout.write(JSON.stringify({ due: due.length, first: due[0].sop, pending: counts.pending }));`;
    const out = execFileSync(process.execPath, ['--max-old-space-size=24', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ due: 100, first: expect.stringMatching(/^1\.2\.0\./) as unknown, pending: 300_000 });
  }, 120_000);
});
