// The header preview: what release would deliver, read back by dcmjs from our own output. Every
// text value of the inputs carries a unique mark (the taint helper), the pipeline holds them
// (ultrasound by the header rules), and the preview may show a mark only where PS3.15 Table
// E.1-1 keeps the attribute (the taint oracle, independent of the engine), no original UID at
// all, the pseudonym as the patient's name, no pixel data; and it is the released output's header.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../../src/deid/profile.js';
import { temporariesOf } from '../../src/fs/atomic-write.js';
import { type HeaderPreview, naturalizedHeader, previewHeader } from '../../src/review/header-preview.js';
import { releaseItem } from '../../src/review/quarantine-actions.js';
import { listQuarantine } from '../../src/review/quarantine-items.js';
import { makeTaintCorpus } from '../helpers/taint-corpus.js';
import { MARK, type Tainted, maySurvive, taintFile } from '../helpers/taint.js';
import { type HeldProject, type Input, heldProject, textCorpus } from './review-fixture.js';

let corpus: string;
let held: HeldProject;
const tainted = new Map<string, Tainted>();
const previews = new Map<string, HeaderPreview>();
const refused: string[] = [];

beforeAll(async () => {
  corpus = textCorpus();
  const sources = [join(corpus, 'rgb-white-tl.dcm'), ...makeTaintCorpus(join(corpus, 'taint'))];
  const inputs: Record<string, Input> = {};
  for (const [i, src] of sources.entries()) {
    const name = `t${String(i).padStart(2, '0')}.dcm`;
    const t = await taintFile(src, join(corpus, 'tainted', name));
    tainted.set(name, t);
    // Ultrasound: held by the header rules, whatever its class (Burned In Annotation NO would let it through).
    inputs[name] = { from: t.path, set: { '(0008,0060)': 'US', '(0028,0301)': 'YES' } };
  }
  held = await heldProject(corpus, inputs);
  for (const [name, outcome] of held.outcomes) {
    if (outcome.kind !== 'quarantined') continue;
    const item = (await listQuarantine(held.dirs.quarantine)).find((i) => i.inputHash.length === 64 && readFileSync(i.path).equals(readFileSync(join(held.dirs.input, name))));
    if (!item) throw new Error(`${name} held but not listed`);
    try {
      previews.set(name, await previewHeader(held.desk, item.id));
    } catch (e) {
      refused.push(`${name}: ${(e as Error).message}`);
    }
  }
}, 300_000);

afterAll(async () => {
  await held.store.close();
  rmSync(held.root, { recursive: true, force: true });
  rmSync(corpus, { recursive: true, force: true });
});

describe('header preview', () => {
  it('previews every held input that release would deliver (the rest say why)', () => {
    expect([...held.outcomes.values()].filter((o) => o.kind === 'quarantined').length).toBe(tainted.size);
    expect(previews.size).toBe(tainted.size);
    for (const r of refused) expect(r).toMatch(/release would (still hold it|fail): /);
  });

  it('shows the pseudonym as the patient, no pixel data, and no mark the profile does not keep, at any depth', () => {
    const options = resolveProfile(held.desk.spec.project.options, held.desk.spec.project.recipes).options;
    const leaks: string[] = [];
    let survived = 0;
    for (const [name, p] of previews) {
      expect(p.pseudonym).toMatch(/^REV_\d+$/);
      expect(p.dataset.PatientName).toEqual([{ Alphabetic: p.pseudonym }]);
      expect(p.dataset).not.toHaveProperty('PixelData');
      expect(p.transferSyntax).toMatch(/^1\.2\.840\.10008\.1\.2/);
      const text = JSON.stringify(p);
      const t = tainted.get(name) as Tainted;
      for (const m of text.match(MARK) ?? []) {
        const origin = t.marks.get(m);
        if (!origin || !maySurvive(origin, options)) leaks.push(`${name}: ${m}`);
        else survived++;
      }
      for (const uid of t.uids) if (new RegExp(`(?<![0-9])${uid.replace(/\./g, '\\.')}(?![0-9])`).test(text)) leaks.push(`${name}: a UID`);
    }
    expect(leaks).toEqual([]);
    // The oracle is not vacuous: the inputs were marked, and kept descriptions do show.
    expect([...tainted.values()].reduce((n, t) => n + t.marks.size, 0)).toBeGreaterThan(100);
    expect(survived).toBeGreaterThan(0);
  });

  it('leaves nothing behind (the scratch output is deleted, the item stays held)', async () => {
    expect(readdirSync(temporariesOf(held.dirs.quarantine))).toEqual([]);
    expect((await listQuarantine(held.dirs.quarantine)).length).toBe([...held.outcomes.values()].filter((o) => o.kind === 'quarantined').length);
  });

  it('is the header that release then delivers, value for value', async () => {
    const [name, preview] = [...previews.entries()][0] as [string, HeaderPreview];
    const item = (await listQuarantine(held.dirs.quarantine)).find((i) => readFileSync(i.path).equals(readFileSync(join(held.dirs.input, name))));
    const released = await releaseItem(held.desk, item?.id ?? '', { who: 'console:test', comment: 'checked the header' });
    if (released.kind !== 'released') throw new Error('not released');
    expect(released.pseudonym).toBe(preview.pseudonym);
    const delivered = await naturalizedHeader(readFileSync(released.outputPath));
    expect(delivered.dataset).toEqual(preview.dataset);
    expect(delivered.meta).toEqual(preview.meta);
  });
});
