// Inputs the agent held only because the project's data use agreement had expired were never
// looked at: once the record is renewed, releasing one runs the project's own detectors, so
// burned-in text is still caught ('held', the item stays) while a clean image is delivered.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseItem } from '../../src/review/quarantine-actions.js';
import { type QuarantineItem, ReviewError } from '../../src/review/quarantine-items.js';
import { type HeldProject, heldItemOf, heldProject, removeHeldProject, textCorpus } from './review-fixture.js';

let corpus: string;
let held: HeldProject;
const INPUTS = {
  'dx-text.dcm': { from: 'ct-white-tl.dcm', set: { '(0008,0060)': 'DX', '(0010,0010)': 'DOE^JANE' } },
  'dx-clean.dcm': { from: 'ct-clean.dcm', set: { '(0008,0060)': 'DX' } },
};

beforeAll(async () => {
  corpus = textCorpus();
  held = await heldProject(corpus, INPUTS, undefined, { whileExpired: Object.keys(INPUTS) });
}, 180_000);

afterAll(() => removeHeldProject(held, corpus));

const itemOf = (input: string): Promise<QuarantineItem> => heldItemOf(held, input);

describe('release of inputs held by an expired agreement, after its renewal', () => {
  it('both were held for the agreement alone, unread', async () => {
    for (const name of Object.keys(INPUTS)) {
      expect((await itemOf(name)).findings).toEqual([{ detector: 'project-record', rule: 'dua-expired', reason: expect.any(String), boxes: 0 }]);
    }
  });

  it('text in the pixels is still caught: the release is refused and the item stays', async () => {
    const item = await itemOf('dx-text.dcm');
    const e = await releaseItem(held.desk, item.id, { who: 'console:alice', comment: 'renewed' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(ReviewError);
    expect((e as ReviewError).code).toBe('held');
    expect((e as ReviewError).message).toMatch(/text-matches-header/);
    expect(existsSync(item.path)).toBe(true);
  }, 60_000);

  it('a clean image is delivered', async () => {
    const item = await itemOf('dx-clean.dcm');
    const r = await releaseItem(held.desk, item.id, { who: 'console:alice', comment: 'renewed' });
    expect(r.kind).toBe('released');
    expect(existsSync(item.path)).toBe(false);
  }, 60_000);
});
