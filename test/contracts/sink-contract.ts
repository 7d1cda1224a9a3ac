// One contract for every Sink (rclone's fstests, unstorage's testDriver): each implementation
// gives a harness (the sink, and a way to look at what its destination holds) and runs the same
// tests. What a destination cannot be told to do (inject a fault, hold a clashing file) its harness
// leaves out, and the test says it was skipped.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sink } from '../../src/sinks/sink.js';
import { outboxPathOf } from '../../src/sinks/cloud-outbox-sink.js';
import { filesUnder } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { CLI } from '../helpers/tools.js';

export type SinkFault = 'retry-after' | 'unavailable' | 'expired-token' | 'drop';

export interface SinkHarness {
  readonly sink: Sink;
  /** Whether the destination holds `path`'s instance as sent (same bytes, or same data set for C-STORE). */
  holds(path: string): Promise<boolean>;
  /** Instances the destination holds. */
  count(): Promise<number>;
  /** The next `times` requests that carry an instance fail this way. */
  inject?(fault: SinkFault, times: number): void;
  /** The faults `inject` can make (default: all of them); the others are skipped, and say so. */
  readonly faults?: readonly SinkFault[];
  /** Forgets the faults still queued. */
  clearFaults?(): void;
  /** Puts a different file where `path`'s instance would go (another file of the same name). */
  clash?(path: string): Promise<void>;
  /** A file over the sink's streaming threshold (an upload session), as big as it needs. */
  readonly large?: number;
  close(): Promise<void>;
}

/** De-identified instances to put: the samples run through `anonymize` once. */
export function deidentifiedSamples(): { files: () => string[]; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'deid-sink-contract-'));
  let files: string[] = [];
  beforeAll(() => {
    const input = join(root, 'in');
    mkdirSync(input);
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm']) copyFileSync(join(SAMPLES, f), join(input, f));
    execFileSync(process.execPath, [CLI, 'anonymize', input, '--out', join(root, 'out'), '--quarantine', join(root, 'q'), '--failed', join(root, 'f'),
      '--prefix', 'SINK_', '--store', join(root, 'store.json'), '--shift-days', '-10']);
    files = filesUnder(join(root, 'out')).sort();
  });
  return { files: () => files, root };
}

/** A copy of the first little-endian instance of `paths` with its pixel data grown to `bytes` (same header): a large instance. */
export async function largeCopy(paths: readonly string[], bytes: number, to: string, variant: number): Promise<string> {
  const pixelTag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
  const path = paths.find((p) => readFileSync(p).lastIndexOf(pixelTag) > 0);
  if (!path) throw new Error('no little-endian instance');
  const original = readFileSync(path);
  // The samples end in their pixel data (OW, explicit length): append and fix that length.
  const at = original.lastIndexOf(pixelTag);
  if (at < 0) throw new Error('no pixel data');
  const explicit = original.subarray(at + 4, at + 6).toString('latin1') === 'OW';
  const headerEnd = at + (explicit ? 12 : 8);
  const extra = bytes - original.length;
  const grown = Buffer.alloc(original.length + extra + (extra % 2));
  original.copy(grown, 0, 0, headerEnd);
  // A SOP Instance UID of its own (same length: the last 3 digits), wherever the header has it.
  const sop = (await outboxPathOf(path))?.split('/').pop()?.replace(/\.dcm$/, '') ?? '';
  const mine = Buffer.from(`${sop.slice(0, -3)}${String(100 + variant).slice(-3)}`);
  for (let i = grown.indexOf(sop, 0, 'latin1'); i >= 0 && i < headerEnd; i = grown.indexOf(sop, i + 1, 'latin1')) mine.copy(grown, i);
  const pixels = grown.length - headerEnd;
  if (explicit) grown.writeUInt32LE(pixels, at + 8);
  else grown.writeUInt32LE(pixels, at + 4);
  for (let i = headerEnd; i < grown.length; i++) grown[i] = (i * 31) & 0xff;
  writeFileSync(to, grown);
  return to;
}

export function sinkContract(name: string, harnessOf: () => Promise<SinkHarness>): void {
  describe(`Sink contract: ${name}`, () => {
    const samples = deidentifiedSamples();
    let h: SinkHarness;
    beforeAll(async () => { h = await harnessOf(); });
    afterAll(async () => { await h?.close(); });
    const one = async (path: string) => (await h.sink.put([path])).get(path);

    it('stores each instance of a batch, as sent', async () => {
      const files = samples.files();
      const results = await h.sink.put(files);
      for (const f of files) expect(results.get(f)).toEqual({ kind: 'stored' });
      for (const f of files) expect(await h.holds(f)).toBe(true);
      expect(await h.count()).toBe(files.length);
    });

    it('stores an instance put twice once', async () => {
      const [f] = samples.files() as [string];
      expect(await one(f)).toEqual({ kind: 'stored' });
      expect(await one(f)).toEqual({ kind: 'stored' });
      expect(await h.count()).toBe(samples.files().length);
    });

    it('refuses a different file of the same name, leaving it alone, and names no file', async (ctx) => {
      if (!h.clash) return ctx.skip();
      const f = await largeCopy(samples.files(), 200_000, join(samples.root, 'clash.dcm'), 30);
      await h.clash(f);
      const r = await one(f);
      expect(r?.kind).toBe('failed');
      expect(await h.holds(f)).toBe(false);
      const target = await outboxPathOf(f);
      expect(JSON.stringify(r)).not.toContain(target?.split('/').pop());
    });

    it('streams a large instance through and stores it exactly', async (ctx) => {
      if (!h.large) return ctx.skip();
      const big = await largeCopy(samples.files(), h.large, join(samples.root, 'large.dcm'), 1);
      expect(await one(big)).toEqual({ kind: 'stored' });
      expect(await h.holds(big)).toBe(true);
    });

    for (const [n, fault] of (['retry-after', 'unavailable', 'expired-token', 'drop'] as const).entries()) {
      it(`meets ${fault} once and still stores, and never a partial file`, async (ctx) => {
        if (!h.inject || !(h.faults?.includes(fault) ?? true)) return ctx.skip();
        const f = await largeCopy(samples.files(), h.large ?? 600_000, join(samples.root, `${fault}.dcm`), 10 + n);
        const before = await h.count();
        h.inject(fault, 1);
        const r = await one(f);
        // Retried inside the put (its own retries) or answered retry for the drainer: never failed.
        expect(r?.kind, JSON.stringify(r)).not.toBe('failed');
        if (r?.kind === 'retry') expect(await one(f)).toEqual({ kind: 'stored' });
        expect(await h.holds(f)).toBe(true);
        // One more file, and nothing left of the failed attempt.
        expect(await h.count()).toBe(before + 1);
      });
    }

    it('answers retry, with the wait the destination asked for, while it keeps refusing', async (ctx) => {
      if (!h.inject || !(h.faults?.includes('retry-after') ?? true)) return ctx.skip();
      const fresh = await largeCopy(samples.files(), h.large ?? 700_000, join(samples.root, 'refused.dcm'), 20);
      h.inject('retry-after', 50);
      const r = await one(fresh);
      expect(r?.kind, JSON.stringify(r)).toBe('retry');
      if (r?.kind === 'retry') expect(r.retryAfterMs ?? 0).toBeGreaterThanOrEqual(1000);
      h.clearFaults?.();
    });
  });
}
