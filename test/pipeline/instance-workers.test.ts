import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PatientIdentity } from '../../src/deid/patient-identity.js';
import { InstanceWorkers, inThisThread } from '../../src/pipeline/instance-workers.js';
import type { ProcessingSpec } from '../../src/pipeline/project-context.js';
import { DEFAULT_BURNED_IN_RULES } from '../../src/detect/burned-in-rules.js';
import { DEFAULT_PIXEL_POLICY } from '../../src/detect/pixel-text-detector.js';
import type { Project } from '../../src/pipeline/project.js';
import { ForwardLedger, forwardLedgerDir } from '../../src/sinks/forward-ledger.js';
import { processingSpec } from '../helpers/processing-spec.js';
import { EXPECTED_FAILURES, PYDICOM_TEST_FILES, SAMPLES, dcmFiles } from '../helpers/corpus.js';

const spec = (name: string, outbox: string, burnedInRules = DEFAULT_BURNED_IN_RULES, over: Partial<Project> = {}): ProcessingSpec => ({
  ...processingSpec(name, outbox, { burnedInRules, ...over }), secrets: { dateShiftDays: -21, uidSecret: Buffer.alloc(32, 7) },
});
/**
 * The heap-limit tests give a worker 16 MiB: room for any sane header, not for the OCR (its
 * runtime and models), which the default policy now loads for a CT or MR series' first image.
 * These tests are about headers: CT and MR keep to the header rules in them.
 */
const HEADERS_ONLY: Partial<Project> = { pixels: { ...DEFAULT_PIXEL_POLICY, inspect: { ...DEFAULT_PIXEL_POLICY.inspect, CT: 'header', MR: 'header' } } };

describe('instance worker threads', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-workers-'));
  const workers = new InstanceWorkers(2);
  afterAll(() => workers.close());
  /** A stand-in for the store: numbers patients in the order asked, and records which thread asked. */
  const pseudonyms = () => {
    const known = new Map<string, string>();
    return (identity: PatientIdentity): Promise<string> => {
      if (!known.has(identity.key)) known.set(identity.key, `W_${String(known.size + 1).padStart(3, '0')}`);
      return Promise.resolve(known.get(identity.key) as string);
    };
  };
  const inputs = [...dcmFiles(PYDICOM_TEST_FILES), ...dcmFiles(SAMPLES)].filter((f) => !(basename(f) in EXPECTED_FAILURES));

  it('write what processing in this thread writes, byte for byte, for every corpus file', async () => {
    // No burned-in rules: every readable instance is written, none set aside.
    const threaded = workers.register(spec('T', join(root, 'threads'), []), { pseudonymFor: pseudonyms() });
    const here = inThisThread(spec('T', join(root, 'here'), []), { pseudonymFor: pseudonyms() });
    let delivered = 0;
    for (const f of inputs) {
      // One at a time, so both number the patients in the same order.
      const a = await threaded.process(f);
      const b = await here.process(f);
      expect(a.kind, basename(f)).toBe(b.kind);
      if (a.kind !== 'delivered' || b.kind !== 'delivered') continue;
      expect(relative(join(root, 'threads'), a.outputPath)).toBe(relative(join(root, 'here'), b.outputPath));
      expect(readFileSync(a.outputPath).equals(readFileSync(b.outputPath)), basename(f)).toBe(true);
      delivered++;
    }
    expect(delivered).toBeGreaterThan(50);
  });

  it('ask the main thread for pseudonyms, and queue a forward only as a link to the complete output', async () => {
    const asked: string[] = [];
    const outbox = join(root, 'queued');
    const p = workers.register({ ...spec('Q', outbox), ledgers: [forwardLedgerDir(outbox, 'Q')] }, {
      pseudonymFor: (identity) => {
        asked.push(identity.key);
        return Promise.resolve('Q_001');
      },
    });
    const outcome = await p.process(join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(outcome.kind).toBe('delivered');
    expect(asked).toHaveLength(1);
    const output = outcome.kind === 'delivered' ? outcome.outputPath : '';
    const queued = await new ForwardLedger(forwardLedgerDir(outbox, 'Q')).due(10);
    expect(queued.map((q) => q.sop)).toEqual([basename(output, '.dcm')]);
    // The same inode: the queue entry cannot exist without the output's bytes.
    expect(statSync(queued[0]?.path ?? '').ino).toBe(statSync(output).ino);
  });

  it('turn a failed store call into a rejected job that names only the error, and write nothing', async () => {
    const outbox = join(root, 'refused');
    const p = workers.register(spec('R', outbox), {
      pseudonymFor: () => Promise.reject(Object.assign(new Error('store is locked by PATIENT^NAME'), { name: 'StoreError' })),
    });
    const error = await p.process(join(SAMPLES, 'study-a-ct-1.dcm')).then(() => undefined, (e: unknown) => e as Error);
    // The store's trouble is not the file's: the file waits (a transient error), nothing is written.
    expect(error?.name).toBe('TransientError');
    expect(error?.message).not.toContain('PATIENT');
    expect(existsSync(join(outbox, 'R_001'))).toBe(false);
  });

  it('settle bad inputs as outcomes, in the worker as in this thread', async () => {
    const p = workers.register(spec('B', join(root, 'bad')), { pseudonymFor: pseudonyms() });
    const outcome = await p.process(join(SAMPLES, 'not-dicom.txt'));
    expect(outcome.kind).toBe('failed');
  });
});

/** A Part 10 file whose header is one sequence of `items` tiny items: cheap on disk, costly as objects. */
function bloatedHeader(items: number): Buffer {
  const el = (g: number, e: number, vr: string, v: Buffer): Buffer => {
    const long = ['OB', 'SQ', 'UN'].includes(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(g, 0);
    h.writeUInt16LE(e, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(v.length, 8);
    else h.writeUInt16LE(v.length, 6);
    return Buffer.concat([h, v]);
  };
  const ui = (s: string): Buffer => Buffer.from(s.length % 2 ? `${s}\0` : s, 'latin1');
  const meta = Buffer.concat([
    el(0x0002, 0x0001, 'OB', Buffer.from([0, 1])), el(0x0002, 0x0002, 'UI', ui('1.2.840.10008.5.1.4.1.1.7')),
    el(0x0002, 0x0003, 'UI', ui('1.2.3.4.5')), el(0x0002, 0x0010, 'UI', ui('1.2.840.10008.1.2.1')),
  ]);
  const group = el(0x0002, 0x0000, 'UL', Buffer.from([meta.length & 0xff, (meta.length >> 8) & 0xff, 0, 0]));
  const reference = el(0x0008, 0x1150, 'UI', ui('1.2'));
  const itemHeader = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]);
  itemHeader.writeUInt32LE(reference.length, 4);
  const item = Buffer.concat([itemHeader, reference]);
  const sequence = Buffer.concat(Array.from({ length: items }, () => item));
  return Buffer.concat([
    Buffer.alloc(128), Buffer.from('DICM'), group, meta,
    el(0x0008, 0x0016, 'UI', ui('1.2.840.10008.5.1.4.1.1.7')), el(0x0008, 0x0018, 'UI', ui('1.2.3.4.5')),
    el(0x0008, 0x1115, 'SQ', sequence),
    el(0x0020, 0x000d, 'UI', ui('1.2.3.1')), el(0x0020, 0x000e, 'UI', ui('1.2.3.2')),
  ]);
}

describe('a worker that runs out of heap', () => {
  it('fails that job with the reason, is replaced, and the next job is processed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-oom-'));
    const bloated = join(root, 'bloated.dcm');
    writeFileSync(bloated, bloatedHeader(400_000));
    const workers = new InstanceWorkers(1, { maxHeapMiB: 16 });
    try {
      const p = workers.register(spec('M', join(root, 'out'), [], HEADERS_ONLY), { pseudonymFor: () => Promise.resolve('M_001') });
      const error = await p.process(bloated).then(() => undefined, (e: unknown) => e as NodeJS.ErrnoException);
      expect(error?.code).toBe('ERR_WORKER_OUT_OF_MEMORY');
      expect((await p.process(join(SAMPLES, 'study-a-ct-1.dcm'))).kind).toBe('delivered');
      // The file itself is valid: only the heap limit stopped it.
      const unbounded = inThisThread(spec('M', join(root, 'out2'), []), { pseudonymFor: () => Promise.resolve('M_001') });
      expect((await unbounded.process(bloated)).kind).toBe('delivered');
    } finally {
      await workers.close();
    }
  });
});

describe('a worker that dies with several files in flight', () => {
  it('fails only the file that killed it; the others are run again alone and delivered', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-oom2-'));
    const bloated = join(root, 'bloated.dcm');
    writeFileSync(bloated, bloatedHeader(400_000));
    const workers = new InstanceWorkers(1, { maxHeapMiB: 16 });
    try {
      const p = workers.register(spec('M', join(root, 'out'), [], HEADERS_ONLY), { pseudonymFor: () => Promise.resolve('M_001') });
      // All three are in flight on the one worker when the bloated header kills it.
      const outcomes = await Promise.allSettled([
        p.process(join(SAMPLES, 'study-a-ct-1.dcm')), p.process(bloated), p.process(join(SAMPLES, 'study-b-mr-no-patient-id.dcm')),
      ]);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : (o.reason as NodeJS.ErrnoException).code)))
        .toEqual(['delivered', 'ERR_WORKER_OUT_OF_MEMORY', 'delivered']);
      expect((await p.process(join(SAMPLES, 'study-a-ct-1.dcm'))).kind).toBe('delivered'); // the pool goes on
    } finally {
      await workers.close();
    }
  });
});
