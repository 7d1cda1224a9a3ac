import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataElement } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { elementOf, groupOf, isPrivateTag, tagOf } from '../../src/dicom/tag.js';
import { resolveProfile, type SupportedOption } from '../../src/deid/profile.js';
import { SAFE_PRIVATE_ATTRIBUTES } from '../../src/deid/rules/safe-private.generated.js';
import { processInstance } from '../../src/pipeline/process-instance.js';
import { EXPECTED_FAILURES, PYDICOM_CHARSET_FILES, PYDICOM_TEST_FILES, REPO, SAMPLES, dcmFiles, requireCorpus, vendorFiles } from '../helpers/corpus.js';
import { MARK, type Tainted, maySurvive, taintFile } from '../helpers/taint.js';
import { makeTaintCorpus } from '../helpers/taint-corpus.js';
import { addedDciodvfyErrors } from '../helpers/tools.js';

/** Every option the project offers, alone, and all compatible ones together. */
const OPTION_SETS: ReadonlyArray<readonly SupportedOption[]> = [
  [], ['retainLongFullDates'], ['retainPatientCharacteristics'], ['retainDeviceIdentity'], ['retainInstitutionIdentity'],
  ['retainUIDs'], ['retainSafePrivate'], ['cleanDescriptors'], ['cleanStructuredContent'], ['cleanGraphics'],
  ['retainPatientCharacteristics', 'retainDeviceIdentity', 'retainInstitutionIdentity', 'retainSafePrivate', 'cleanDescriptors', 'cleanStructuredContent', 'cleanGraphics'],
];
const secrets = { dateShiftDays: -37, uidSecret: Buffer.alloc(32, 7) };
// Fast fsyncs: outputs go to memory when the machine has it.
const scratch = (): string => mkdtempSync(join(spawnSync('test', ['-w', '/dev/shm']).status === 0 ? '/dev/shm' : tmpdir(), 'deid-taint-'));

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');

/** Private elements that survived without Retain Safe Private keeping them (paths as tags). */
function privateLeaks(elements: readonly DataElement[], options: ReadonlySet<SupportedOption>, at = ''): string[] {
  const leaks: string[] = [];
  for (const e of elements) {
    const here = `${at}(${hex(groupOf(e.tag), 4)},${hex(elementOf(e.tag), 4)})`;
    if (isPrivateTag(e.tag) && elementOf(e.tag) >= 0x1000) {
      const c = elements.find((x) => x.tag === tagOf(groupOf(e.tag), elementOf(e.tag) >> 8));
      const creator = c?.kind === 'value' ? c.value.toString('latin1').replace(/[\0 ]+$/, '').trim() : '';
      const safe = SAFE_PRIVATE_ATTRIBUTES.has(`${creator}|${hex(groupOf(e.tag), 4)}|${hex(elementOf(e.tag) & 0xff, 2)}`);
      if (!options.has('retainSafePrivate') || !safe) leaks.push(here);
    }
    if (e.kind === 'sequence') e.items.forEach((item, i) => leaks.push(...privateLeaks(item.elements, options, `${here}[${i}].`)));
  }
  return leaks;
}

describe('taint: nothing identifying survives, for every option set', () => {
  const root = scratch();
  const tainted: Tainted[] = [];
  /** Outputs kept for the strict readers: default options and everything at once. */
  const kept: Record<'default' | 'all', Array<readonly [output: string, input: string]>> = { default: [], all: [] };
  const results = new Map<string, { marks: string[]; uids: string[]; privates: string[]; outputs: number; refused: string[] }>();

  beforeAll(async () => {
    requireCorpus();
    const inputs = [
      ...dcmFiles(PYDICOM_TEST_FILES), ...dcmFiles(PYDICOM_CHARSET_FILES), ...dcmFiles(SAMPLES), ...vendorFiles(),
      ...makeTaintCorpus(join(root, 'synthetic')),
    ].filter((f) => !(basename(f) in EXPECTED_FAILURES));
    for (const [i, f] of inputs.entries()) {
      try {
        tainted.push(await taintFile(f, join(root, 'tainted', `${i}-${basename(f)}`)));
      } catch {
        // unreadable inputs are the reader's tests' business; the count below keeps this honest
      }
    }
    for (const [k, options] of OPTION_SETS.entries()) {
      const profile = resolveProfile(options);
      const r = { marks: [] as string[], uids: [] as string[], privates: [] as string[], outputs: 0, refused: [] as string[] };
      for (const [i, t] of tainted.entries()) {
        const outbox = join(root, `out-${k}`, String(i));
        const outcome = await processInstance(t.path, {
          name: 'T', profile, secrets, detectors: [], outbox, pseudonymFor: async () => 'TAINT_001',
        });
        if (outcome.kind !== 'delivered') {
          r.refused.push(`${basename(t.path)}: ${outcome.kind === 'failed' ? outcome.reason : outcome.reason}`);
          continue;
        }
        r.outputs++;
        const bytes = readFileSync(outcome.outputPath).toString('latin1');
        for (const m of bytes.match(MARK) ?? []) {
          const origin = t.marks.get(m);
          if (!origin || !maySurvive(origin, profile.options)) {
            r.marks.push(`${basename(t.path)}: ${origin ? origin.path.map((s) => `(${hex(groupOf(s.tag), 4)},${hex(elementOf(s.tag), 4)})`).join('>') : m} ${origin?.vr ?? ''}`);
          }
        }
        if (!profile.options.has('retainUIDs')) {
          for (const uid of t.uids) {
            if (new RegExp(`(?<![0-9])${uid.replace(/\./g, '\\.')}(?![0-9])`).test(bytes)) r.uids.push(`${basename(t.path)}: ${uid}`);
          }
        }
        const out = await readDicomFile(outcome.outputPath);
        r.privates.push(...privateLeaks(out.dataset, profile.options).map((p) => `${basename(t.path)}: ${p}`));
        if (k === 0) kept.default.push([outcome.outputPath, t.path]);
        else if (k === OPTION_SETS.length - 1) kept.all.push([outcome.outputPath, t.path]);
        else rmSync(outcome.outputPath);
      }
      results.set(options.join('+') || 'default', r);
    }
  }, 900_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads and taints the corpus (pydicom, vendor files, synthetic nested identifiers)', () => {
    expect(tainted.length).toBeGreaterThan(110);
    const marks = tainted.reduce((n, t) => n + t.marks.size, 0);
    expect(marks).toBeGreaterThan(4000);
  });

  it.each(OPTION_SETS.map((o) => [o.join('+') || 'default']))('%s: only marks the profile keeps survive, no recorded UID, no unsafe private value', (name) => {
    const r = results.get(name);
    expect(r).toBeDefined();
    if (!r) return;
    expect(r.outputs, r.refused.join('\n')).toBeGreaterThan(tainted.length - 15);
    expect(r.marks).toEqual([]);
    expect(r.uids).toEqual([]);
    expect(r.privates).toEqual([]);
  });

  it.each(['default', 'all'] as const)('%s options: every output reads in pydicom with warnings as errors and in dcmdump', (which) => {
    const paths = kept[which].map(([output]) => output);
    const inputOf = new Map(kept[which]);
    expect(paths.length).toBeGreaterThan(100);
    const errors: Record<string, string> = {};
    for (let i = 0; i < paths.length; i += 100) {
      const out = execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'strict_read.py'), ...paths.slice(i, i + 100)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      Object.assign(errors, JSON.parse(out) as Record<string, string>);
    }
    for (const p of paths) {
      const r = spawnSync('dcmdump', ['-q', p], { encoding: 'latin1', maxBuffer: 256 << 20 });
      if (r.status !== 0 || r.stderr.trim() !== '') errors[p] = `dcmdump: ${r.status} ${r.stderr.trim().split('\n')[0] ?? ''}`;
    }
    expect(Object.entries(errors).map(([p, e]) => `${basename(inputOf.get(p) ?? p)}: ${e}`)).toEqual([]);
  });

  it.each(['default', 'all'] as const)('%s options: dciodvfy finds no kind of error in an output that its input lacked', (which) => {
    expect(addedDciodvfyErrors(kept[which].map(([output, input]) => [input, output] as const), basename)).toEqual([]);
  });
});
