import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOutputs } from '../../src/qa/batches.js';
import { DeliveryLedger } from '../../src/qa/delivery-ledger.js';
import { localDay } from '../../src/qa/qa-paths.js';
import { releaseItem } from '../../src/review/quarantine-actions.js';
import { listQuarantine } from '../../src/review/quarantine-items.js';
import { PYDICOM_TEST_FILES } from '../helpers/corpus.js';
import { type HeldProject, heldProject, textCorpus } from '../review/review-fixture.js';
import { join } from 'node:path';

// A quarantined image released by a reviewer is a delivery like any other: the review desk tells
// the delivery ledger (as the agent's desk does), so QA's batch of the day can draw it.

let held: HeldProject;

beforeAll(async () => {
  held = await heldProject(textCorpus(), { 'sc.dcm': { from: join(PYDICOM_TEST_FILES, 'SC_rgb_small_odd.dcm'), set: { '(0010,0010)': 'POE^EDGAR' } } });
}, 180_000);

afterAll(async () => {
  await held?.store.close();
});

describe('a released quarantine item', () => {
  it('is recorded in the day\'s delivery ledger with its output path', async () => {
    expect(held.outcomes.get('sc.dcm')?.kind).toBe('quarantined');
    const ledger = new DeliveryLedger(held.dirs.store, 'REV', held.dirs.outbox);
    const desk = { ...held.desk, onDelivered: (o: { readonly outputPath: string }) => ledger.record(o) };
    const [item] = await listQuarantine(held.dirs.quarantine);
    if (!item) throw new Error('nothing held');
    const released = await releaseItem(desk, item.id, { who: 'console:alice', comment: 'no text in it' });
    await ledger.close();
    if (released.kind !== 'released') throw new Error('not released');
    const lines = await batchOutputs(held.dirs.store, 'REV', `day-${localDay(new Date())}`);
    expect(lines.map((l) => l.path)).toEqual([relative(held.dirs.outbox, released.outputPath)]);
    expect(JSON.stringify(lines)).not.toContain('POE');
  });
});
