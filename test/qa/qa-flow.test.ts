import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load-config.js';
import { parseRecipe, type RecipeInput } from '../../src/deid/recipes.js';
import { asciiValue } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags } from '../../src/dicom/tag.js';
import { batchOutputs, listBatches } from '../../src/qa/batches.js';
import { feedbackOf, flaggedBatches, sampledBatches } from '../../src/qa/feedback.js';
import { markSample, signOff } from '../../src/qa/marks.js';
import { type BatchId, deliveriesDir, localDay } from '../../src/qa/qa-paths.js';
import { QaError, type SampleItem, recordPathOf } from '../../src/qa/qa-record.js';
import { type QaScope, qaScopeOf } from '../../src/qa/qa-scope.js';
import { attributesOf } from '../../src/qa/sample-attributes.js';
import { drawSample, selectSample } from '../../src/qa/sample-draw.js';
import { viewSample } from '../../src/qa/sample-view.js';
import { type QaWorld, anonymizeWorld, inputIdentifiers, makeQaWorld } from './qa-fixture.js';

// Sample inspection end to end over a real `anonymize` run of the built CLI: the delivery ledger,
// the draw, what a sample shows, marks, sign-off, the audit trail, the feedback export, and a
// suggested rule that, applied in a re-run, removes the attribute marked.

const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? (e.name.startsWith('.') ? [] : walk(join(dir, e.name))) : [join(dir, e.name)]);
const expectCode = async (p: Promise<unknown>, code: QaError['code']): Promise<void> => {
  await expect(p).rejects.toBeInstanceOf(QaError);
  await expect(p).rejects.toMatchObject({ code });
};
const SEED = 'a5'.repeat(32);
const RESERVED = new Set(['PatientName', 'PatientID', 'DeidentificationMethod', 'SpecificCharacterSet', 'PatientIdentityRemoved']);

let w: QaWorld;
let scope: QaScope;
let batch: BatchId;
let identifiers: string[];
let delivered = 0;

beforeAll(async () => {
  w = makeQaWorld('flow', { qa: { percent: 40, min: 3, max: 5 } });
  const summary = anonymizeWorld(w);
  delivered = Number(/delivered\s+(\d+)/.exec(summary)?.[1]);
  scope = qaScopeOf(await loadConfig(w.config, { secrets: false }), 'QA');
  batch = `day-${localDay(new Date())}`;
  identifiers = await inputIdentifiers(w.inputs);
}, 180_000);

describe('the delivery ledger of a real run', () => {
  it('has one line per output in the outbox, naming its new SOP Instance UID and path, and no identifier of the inputs', async () => {
    expect(delivered).toBeGreaterThanOrEqual(8);
    expect(identifiers.length).toBeGreaterThan(10);
    const file = join(deliveriesDir(w.store, 'QA'), `${localDay(new Date())}.jsonl`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { at: string; sop: string; path: string });
    const outputs = walk(w.outbox).filter((p) => p.endsWith('.dcm')).map((p) => relative(w.outbox, p)).sort();
    expect(outputs).toHaveLength(delivered);
    // Two inputs that are one instance (MR_small and its RLE copy) write one output: readers keep one line per SOP.
    expect([...new Set(lines.map((l) => l.path))].sort()).toEqual(outputs);
    expect((await batchOutputs(w.store, 'QA', batch)).map((l) => l.path).sort()).toEqual(outputs);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['at', 'path', 'sop']);
      const ds = (await readDicomFile(join(w.outbox, l.path))).dataset;
      expect(asciiValue(ds, Tags.SOPInstanceUID)).toBe(l.sop);
    }
    for (const id of identifiers) expect(text, 'an input identifier in the ledger').not.toContain(id);
    expect((await listBatches(w.store, 'QA'))[0]?.id).toBe(batch);
  });
});

describe('drawing a sample', () => {
  it('orders by HMAC(seed, SOP): the same seed draws the same sample, another seed another', async () => {
    const outputs = Array.from({ length: 200 }, (_, i) => ({ at: '', sop: `2.25.${i}`, path: `x/${i}.dcm` }));
    const a = selectSample(outputs, SEED, 10);
    expect(selectSample([...outputs].reverse(), SEED, 10)).toEqual(a);
    expect(selectSample(outputs, 'b6'.repeat(32), 10)).not.toEqual(a);
    expect(new Set(a.map((s) => s.sop)).size).toBe(10);
  });

  it('records the seed and sample (0600), sized by percent within min and max, once: drawing again returns the record', async () => {
    await expectCode(drawSample(scope, 'day-1999-01-01', 'console:alice'), 'empty-batch');
    await expectCode(drawSample(scope, batch, 'console:alice', { seed: 'nothex' }), 'bad-seed');
    const record = await drawSample(scope, batch, 'console:alice', { seed: SEED });
    expect(record.batchSize).toBe(delivered);
    expect(record.sample).toHaveLength(Math.min(5, Math.max(3, Math.ceil((40 * delivered) / 100))));
    expect(record.seed).toBe(SEED);
    expect(record.drawnBy).toBe('console:alice');
    expect(statSync(recordPathOf(w.store, 'QA', batch)).mode & 0o777).toBe(0o600);
    const again = await drawSample(scope, batch, 'console:bob', { seed: 'c7'.repeat(32) });
    expect(again).toEqual(record);
    const draws = (await readAudit(`${w.store}.audit.jsonl`)).records.filter((r) => r.action === 'qa.draw');
    expect(draws).toHaveLength(1);
    expect(draws[0]?.detail).toEqual({ batch, batchSize: delivered, sampleSize: record.sample.length });
  });
});

describe('a sample, marked and signed off', () => {
  let marked: { sop: string; path: string; attribute: string; value: string };

  it('shows every attribute at every depth with the places to look, and the image', async () => {
    const record = await drawSample(scope, batch, 'console:alice');
    for (const item of record.sample) {
      const view = await viewSample(scope, item);
      if (view.kind !== 'available') throw new Error('sample gone');
      const at = (path: string) => view.attributes.find((a) => a.path === path);
      expect(at('(0008,0018)')?.value).toBe(item.sop);
      expect(at('(0010,0010)')).toMatchObject({ keyword: 'PatientName', vr: 'PN', highlight: 'free-text' });
      expect(at('(0012,0064)[0]/(0008,0104)')).toMatchObject({ depth: 1, vr: 'LO' });
      for (const a of view.attributes.filter((x) => ['DA', 'TM', 'DT'].includes(x.vr) && x.value !== '')) expect(a.highlight).toBe('date-time');
      for (const a of view.attributes.filter((x) => /Description$/.test(x.keyword ?? '') && x.value !== '')) expect(a.highlight).toBe('description');
      const text = JSON.stringify(view.attributes);
      for (const id of identifiers) expect(text).not.toContain(id);
      if ('png' in view.image) expect(view.image.png.subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    // The first sample's first kept free text that a project rule may name: the attribute the reviewer marks.
    const item = record.sample[0];
    if (!item) throw new Error('empty sample');
    const attrs = await attributesOf(join(w.outbox, item.path));
    const target = attrs.find((a) => a.depth === 0 && a.highlight && a.vr !== 'DA' && a.vr !== 'TM' && !RESERVED.has(a.keyword ?? '') && !/^\(0012,/.test(a.tag) && a.value.length >= 4);
    if (!target) throw new Error('no kept free text in the first sample');
    marked = { sop: item.sop, path: item.path, attribute: target.path, value: target.value };
  });

  it('refuses sign-off until every sample is marked, then once; marks are audited without values', async () => {
    const record = await drawSample(scope, batch, 'console:alice');
    const first = record.sample[0];
    // The region is marked on an output with an image (a plan or a report has none: refused).
    const withImage: SampleItem[] = [];
    for (const s of record.sample.slice(1)) if ((await attributesOf(join(w.outbox, s.path))).some((a) => a.path === '(7FE0,0010)')) withImage.push(s);
    const second = withImage[0];
    const imageless = record.sample.slice(1).find((s) => !withImage.includes(s));
    if (!first || !second) throw new Error('sample too small');
    const rest = record.sample.slice(1).filter((s) => s !== second);
    if (imageless) await expectCode(markSample(scope, batch, imageless.sop, 'phi-found', { region: { frame: 0, x: 0, y: 0, width: 1, height: 1 } }, 'console:bob'), 'bad-mark');
    await expectCode(signOff(scope, batch, 'console:alice', 'done'), 'unmarked');
    await expectCode(markSample(scope, batch, '2.25.999', 'clean', {}, 'console:alice'), 'not-in-sample');
    await expectCode(markSample(scope, batch, first.sop, 'phi-found', { note: 'somewhere' }, 'console:alice'), 'bad-mark');
    await expectCode(markSample(scope, batch, first.sop, 'phi-found', { attribute: '0008,1030' }, 'console:alice'), 'bad-mark');
    await expectCode(markSample(scope, batch, first.sop, 'phi-found', { attribute: '(0099,0099)' }, 'console:alice'), 'bad-mark');
    await expectCode(markSample(scope, batch, first.sop, 'phi-found', { region: { frame: 0, x: -1, y: 0, width: 5, height: 5 } }, 'console:alice'), 'bad-mark');
    await markSample(scope, batch, first.sop, 'clean', {}, 'console:alice');
    const m = await markSample(scope, batch, first.sop, 'phi-found', { attribute: marked.attribute, note: 'a name in it\nsecond line' }, 'console:alice');
    expect(m).toMatchObject({ verdict: 'phi-found', attribute: marked.attribute, note: 'a name in it second line' });
    await markSample(scope, batch, second.sop, 'phi-found', { region: { frame: 0, x: 2, y: 3, width: 20, height: 8 }, note: 'text top left' }, 'console:bob');
    for (const s of rest) await markSample(scope, batch, s.sop, 'clean', { note: 'nothing' }, 'console:bob');
    const signed = await signOff(scope, batch, 'console:alice', 'sample looked at');
    expect(signed.signOff).toMatchObject({ who: 'console:alice', comment: 'sample looked at' });
    await expectCode(signOff(scope, batch, 'console:alice', 'again'), 'signed-off');
    await expectCode(markSample(scope, batch, first.sop, 'clean', {}, 'console:alice'), 'signed-off');

    const { records, brokenAt } = await readAudit(`${w.store}.audit.jsonl`);
    expect(brokenAt).toBeUndefined();
    expect(records.map((r) => r.action)).toEqual(['qa.draw', ...Array<string>(record.sample.length + 1).fill('qa.mark'), 'qa.sign-off']);
    expect(records.find((r) => r.action === 'qa.sign-off')?.detail).toEqual({ batch, sampled: record.sample.length, clean: record.sample.length - 2, phiFound: 2 });
    const marks = records.filter((r) => r.action === 'qa.mark');
    expect(marks[1]?.detail).toEqual({ batch, item: 1, verdict: 'phi-found', attribute: marked.attribute });
    expect(marks[2]?.detail).toEqual({ batch, item: record.sample.indexOf(second) + 1, verdict: 'phi-found', region: 'frame 0 2,3 20x8' });
    const text = readFileSync(`${w.store}.audit.jsonl`, 'utf8');
    expect(text).not.toContain(marked.value);
    for (const id of identifiers) expect(text).not.toContain(id);
  });

  it('flags the batch and exports the findings (where, not what) with a rule the recipe parser accepts', async () => {
    expect((await flaggedBatches(w.store, 'QA')).map((b) => b.batch)).toEqual([batch]);
    expect((await sampledBatches(w.store, 'QA'))[0]).toMatchObject({ batch, signedOff: true, flagged: true, phiFound: 2 });
    const feedback = await feedbackOf(w.store, 'QA');
    expect(feedback).toHaveLength(2);
    const text = JSON.stringify(feedback);
    expect(text).not.toContain(marked.value);
    for (const id of identifiers) expect(text).not.toContain(id);
    const byAttribute = feedback.find((f) => f.attribute);
    expect(byAttribute).toMatchObject({ project: 'QA', batch, sop: marked.sop, attribute: { path: marked.attribute }, who: 'console:alice' });
    const suggestion = byAttribute?.suggestion;
    if (!suggestion || !('rule' in suggestion)) throw new Error('no rule suggested');
    expect(suggestion.rule).toEqual({ tag: marked.attribute, action: 'remove' });
    expect(typeof parseRecipe(suggestion.rule, 0)).toBe('object');
    const byRegion = feedback.find((f) => f.region);
    expect(byRegion?.region).toEqual({ frame: 0, x: 2, y: 3, width: 20, height: 8 });
    expect(byRegion && 'text' in byRegion.suggestion ? byRegion.suggestion.text : '').toMatch(/"pixels": \{ "inspect": \{ "[A-Z]{2,4}": "all" \}, "onText": "clean" \}/);
  });

  it('the suggested rule, in the project\'s config, removes the attribute in a re-run', async () => {
    const rule = (await feedbackOf(w.store, 'QA')).map((f) => f.suggestion).find((s): s is { rule: RecipeInput } => 'rule' in s)?.rule;
    if (!rule) throw new Error('no rule');
    const config = JSON.parse(readFileSync(w.config, 'utf8')) as { projects: Array<Record<string, unknown>> };
    const outbox2 = join(w.root, 'out-with-rule');
    Object.assign(config.projects[0] ?? {}, { outbox: outbox2, rules: [rule] });
    writeFileSync(w.config, JSON.stringify(config));
    anonymizeWorld(w);
    // The same store: the same pseudonyms and UIDs, so the same path.
    const before = await attributesOf(join(w.outbox, marked.path));
    const after = await attributesOf(join(outbox2, marked.path));
    const tag = marked.attribute;
    expect(before.some((a) => a.tag === tag)).toBe(true);
    expect(after.some((a) => a.tag === tag)).toBe(false);
    expect(after.length).toBeLessThan(before.length);
  });
});
