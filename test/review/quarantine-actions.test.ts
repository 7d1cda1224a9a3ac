// The reviewer's actions on items the real pipeline held, delivered down the pipeline's own path:
// release as is (outbox and a forward ledger; two at once deliver once), clean and release (the
// detector's boxes, and a reviewer's own), discard and back to failed; an expired data use
// agreement refuses release; every action is in the audit log, with the input hash and no PHI.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/audit-log.js';
import type { TextBox } from '../../src/detect/detector.js';
import { asciiValue } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { SENT_BACK_REASON, cleanAndReleaseItem, discardItem, releaseItem, sendBackToFailed } from '../../src/review/quarantine-actions.js';
import { type QuarantineItem, ReviewError, listQuarantine } from '../../src/review/quarantine-items.js';
import { type ReviewDesk, deliveryRefusal } from '../../src/review/review-desk.js';
import { ForwardLedger } from '../../src/sinks/forward-ledger.js';
import { filesUnder } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES } from '../helpers/corpus.js';
import { type HeldProject, heldItemOf, heldProject, removeHeldProject, strictReadErrors, textCorpus } from './review-fixture.js';

let corpus: string;
let held: HeldProject;
let ledgerDir: string;
const who = 'console:alice';
const INPUTS = {
  'dx-text.dcm': { from: 'ct-white-tl.dcm', set: { '(0008,0060)': 'DX', '(0010,0010)': 'DOE^JANE', '(0010,0020)': '12345678', '(0010,0030)': '19610412' } },
  'sc-text.dcm': { from: 'rgb-white-tl.dcm', set: { '(0010,0010)': 'ROE^RICHARD', '(0010,0020)': 'MRN99887766' } },
  'sc-release.dcm': { from: join(PYDICOM_TEST_FILES, 'SC_rgb_small_odd.dcm'), set: { '(0010,0010)': 'POE^EDGAR', '(0008,0050)': 'ACC4455' } },
  'sc-discard.dcm': { from: join(PYDICOM_TEST_FILES, 'SC_rgb_rle.dcm') },
  'sc-failed.dcm': { from: join(PYDICOM_TEST_FILES, 'SC_rgb_rle_2frame.dcm'), set: { '(0010,0010)': 'FOE^FRANK' } },
};

beforeAll(async () => {
  corpus = textCorpus();
  ledgerDir = join(corpus, 'ledger');
  held = await heldProject(corpus, INPUTS, [ledgerDir]);
}, 180_000);

afterAll(() => removeHeldProject(held, corpus));

const itemOf = (input: string): Promise<QuarantineItem> => heldItemOf(held, input);
const outputs = (): string[] => filesUnder(held.dirs.outbox).filter((f) => f.endsWith('.dcm') && !f.includes('.deid'));
const audit = async () => {
  const r = await readAudit(held.desk.auditPath);
  expect(r.brokenAt).toBeUndefined();
  return r.records;
};
const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'done', (e: unknown) => (e instanceof ReviewError ? e.code : `${(e as Error).name}: ${(e as Error).message}`));

/** Whether each rectangle of the output's frames is one colour (pydicom decodes, numpy compares). */
function uniform(path: string, rects: readonly TextBox[]): boolean[] {
  const script = `
import json, sys, warnings
warnings.simplefilter('error')
import numpy as np, pydicom
ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array
frames = a if int(getattr(ds, 'NumberOfFrames', 1) or 1) > 1 else a[None]
out = []
for r in json.loads(sys.argv[2]):
    x, y, w, h = int(r['x']), int(r['y']), int(r['width']), int(r['height'])
    region = frames[r['frame'], y:y + h, x:x + w]
    out.append(bool(region.size > 0 and (region == region.reshape(-1, *region.shape[2:])[0]).all()))
print(json.dumps(out))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path, JSON.stringify(rects)], { encoding: 'utf8' })) as boolean[];
}

/** Every identifying value of the inputs: none may reach the audit log. */
async function identifiers(): Promise<string[]> {
  const values: string[] = [];
  for (const name of Object.keys(INPUTS)) {
    const f = await readDicomFile(join(held.dirs.input, name));
    for (const tag of [Tags.PatientName, Tags.PatientID, Tags.PatientBirthDate, Tags.StudyInstanceUID, Tags.SeriesInstanceUID, Tags.SOPInstanceUID, tagOf(0x0008, 0x0050)]) {
      const v = asciiValue(f.dataset, tag)?.trim();
      if (v && v.length >= 4) values.push(v, ...v.split('^').filter((p) => p.length >= 3));
    }
  }
  return values;
}

describe('quarantine actions', () => {
  it('the pipeline held every input', async () => {
    expect([...held.outcomes.values()].map((o) => o.kind)).toEqual(Object.keys(INPUTS).map(() => 'quarantined'));
    expect((await itemOf('dx-text.dcm')).boxes.length).toBeGreaterThan(0);
    expect((await itemOf('sc-text.dcm')).reason).toBe('secondary-capture');
  });

  it('refuses every action without a comment, changing nothing', async () => {
    const item = await itemOf('sc-release.dcm');
    for (const act of [releaseItem, cleanAndReleaseItem, discardItem, sendBackToFailed]) {
      expect(await codeOf(act(held.desk, item.id, { who, comment: '  ' }))).toBe('no-comment');
    }
    expect(existsSync(item.path) && existsSync(item.sidecarPath)).toBe(true);
    expect(await audit()).toEqual([]);
  });

  it('refuses release while the data use agreement has expired (the item stays), and allows it on its last day', async () => {
    const item = await itemOf('sc-release.dcm');
    const record = { protocolId: 'IRB-1', principalInvestigator: 'PI', duaExpires: '2026-03-31' };
    const expired: ReviewDesk = { ...held.desk, spec: { ...held.desk.spec, project: { ...held.desk.spec.project, record } }, now: () => new Date(2026, 3, 1, 9) };
    expect(deliveryRefusal(expired)).toMatch(/expired on 2026-03-31/);
    expect(deliveryRefusal({ ...expired, now: () => new Date(2026, 2, 31, 23, 59) })).toBeUndefined();
    expect(await codeOf(releaseItem(expired, item.id, { who, comment: 'ok' }))).toBe('dua-expired');
    expect(await codeOf(cleanAndReleaseItem(expired, item.id, { who, comment: 'ok', boxes: [{ frame: 0, x: 1, y: 1, width: 2, height: 2, confidence: 0 }] }))).toBe('dua-expired');
    expect(existsSync(item.path)).toBe(true);
    expect(outputs()).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('releases as is: two releases at once deliver once, to the outbox and the forward ledger; the item goes; one audit entry', async () => {
    const item = await itemOf('sc-release.dcm');
    const results = await Promise.allSettled([
      releaseItem(held.desk, item.id, { who, comment: 'only a colour bar, no text' }),
      releaseItem(held.desk, item.id.toUpperCase(), { who: 'console:bob', comment: 'same one' }),
    ]);
    const done = results.filter((r) => r.status === 'fulfilled');
    expect(done).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ReviewError);
    expect(['gone', 'unknown']).toContain((lost.reason as ReviewError).code);
    const result = (done[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof releaseItem>>>).value;
    if (result.kind !== 'released') throw new Error(result.kind);
    expect(outputs()).toEqual([result.outputPath]);
    expect(result.outputPath.startsWith(join(held.dirs.outbox, result.pseudonym))).toBe(true);
    expect(strictReadErrors([result.outputPath])).toEqual({});
    const queued = await new ForwardLedger(ledgerDir).due(100, Date.now() + 120_000);
    expect(queued).toHaveLength(1);
    expect(existsSync(item.path) || existsSync(item.sidecarPath)).toBe(false);
    const entries = (await audit()).filter((r) => r.action === 'quarantine.release');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ who: expect.stringMatching(/^console:(alice|bob)$/), project: 'REV', inputHash: item.inputHash, pseudonyms: [result.pseudonym] });
    expect(['only a colour bar, no text', 'same one']).toContain(entries[0]?.comment);
    // Released again later: it is no longer there.
    expect(await codeOf(releaseItem(held.desk, item.id, { who, comment: 'again' }))).toBe('unknown');
  });

  it('cleans the detector\'s boxes and releases: the boxes are one colour in the output, which reads strictly', async () => {
    const item = await itemOf('dx-text.dcm');
    const result = await cleanAndReleaseItem(held.desk, item.id, { who, comment: 'name and MRN in the corner, cleaned' });
    if (result.kind !== 'released') throw new Error(result.kind);
    expect(result.cleanedBoxes).toBeGreaterThanOrEqual(item.boxes.length);
    expect(strictReadErrors([result.outputPath])).toEqual({});
    expect(uniform(result.outputPath, item.boxes)).toEqual(item.boxes.map(() => true));
    // The input's text regions were not one colour: the test can tell.
    expect(uniform(join(held.dirs.input, 'dx-text.dcm'), item.boxes).every(Boolean)).toBe(false);
    const out = await readDicomFile(result.outputPath);
    expect(asciiValue(out.dataset, Tags.BurnedInAnnotation)).toBe('NO');
    const entry = (await audit()).find((r) => r.action === 'quarantine.clean-release' && r.inputHash === item.inputHash);
    expect(entry?.detail).toMatchObject({ boxes: item.boxes.length, adjusted: false });
    expect(existsSync(item.path)).toBe(false);
  }, 120_000);

  it('cleans a reviewer\'s own boxes on an image the header rules held, and refuses boxes that make no sense', async () => {
    const item = await itemOf('sc-text.dcm');
    expect(await codeOf(cleanAndReleaseItem(held.desk, item.id, { who, comment: 'x' }))).toBe('bad-boxes');
    expect(await codeOf(cleanAndReleaseItem(held.desk, item.id, { who, comment: 'x', boxes: [{ frame: 0, x: -1, y: 0, width: 5, height: 5, confidence: 0 }] }))).toBe('bad-boxes');
    // Where the text was drawn: the difference from its clean twin, as a reviewer would draw it.
    const box = JSON.parse(execFileSync('/usr/bin/python3', ['-c', `
import json, sys, numpy as np, pydicom
a = pydicom.dcmread(sys.argv[1]).pixel_array.astype(int); b = pydicom.dcmread(sys.argv[2]).pixel_array.astype(int)
ys, xs = np.nonzero(np.abs(a - b).max(axis=-1) > 40)
print(json.dumps({'frame': 0, 'x': int(xs.min()), 'y': int(ys.min()), 'width': int(xs.max() - xs.min() + 1), 'height': int(ys.max() - ys.min() + 1), 'confidence': 0}))`,
    join(corpus, 'rgb-white-tl.dcm'), join(corpus, 'rgb-clean.dcm')], { encoding: 'utf8' })) as TextBox;
    const result = await cleanAndReleaseItem(held.desk, item.id, { who, comment: 'drew the box myself', boxes: [box] });
    if (result.kind !== 'released') throw new Error(result.kind);
    expect(strictReadErrors([result.outputPath])).toEqual({});
    expect(uniform(result.outputPath, [box])).toEqual([true]);
    const entry = (await audit()).find((r) => r.action === 'quarantine.clean-release' && r.inputHash === item.inputHash);
    expect(entry?.detail).toMatchObject({ boxes: 1, adjusted: true });
  }, 120_000);

  it('discards: original and sidecar deleted, nothing delivered, the audit keeps the hash; another process\'s action on the item is waited for', async () => {
    const item = await itemOf('sc-discard.dcm');
    const before = outputs().length;
    // Another process (alive) holds the item's lock: the discard waits; once it is gone, the lock is taken over.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(join(held.dirs.quarantine, `${item.name}.review.lock`), `${other.pid} someone-else`);
    const discarding = discardItem(held.desk, item.id, { who, comment: 'a test pattern' });
    await new Promise((r) => setTimeout(r, 400));
    expect(existsSync(item.path)).toBe(true);
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    expect(await discarding).toEqual({ kind: 'discarded', id: item.id });
    expect(existsSync(item.path) || existsSync(item.sidecarPath)).toBe(false);
    expect(outputs()).toHaveLength(before);
    expect((await audit()).filter((r) => r.action === 'quarantine.discard')).toEqual([expect.objectContaining({ inputHash: item.inputHash, comment: 'a test pattern', project: 'REV' })]);
    expect(await codeOf(discardItem(held.desk, item.id, { who, comment: 'again' }))).toBe('unknown');
  });

  it('sends back to failed: the original and a failed sidecar (settleAside\'s format) in the failed folder; the comment only in the audit', async () => {
    const item = await itemOf('sc-failed.dcm');
    expect(await sendBackToFailed(held.desk, item.id, { who, comment: 'wrong patient, ask the site' })).toEqual({ kind: 'sent-to-failed', id: item.id });
    expect(existsSync(item.path) || existsSync(item.sidecarPath)).toBe(false);
    const original = join(held.dirs.failed, `${item.name}.bin`);
    expect(readFileSync(original).equals(readFileSync(join(held.dirs.input, 'sc-failed.dcm')))).toBe(true);
    const sidecar = JSON.parse(readFileSync(join(held.dirs.failed, `${item.name}.json`), 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ outcome: 'failed', reason: SENT_BACK_REASON, project: 'REV', input: { sha256: item.inputHash, bytes: item.bytes } });
    expect(JSON.stringify(sidecar)).not.toContain('wrong patient');
    expect(readdirSync(held.dirs.failed).filter((n) => !n.startsWith('.'))).toHaveLength(2);
    expect((await audit()).filter((r) => r.action === 'quarantine.back-to-failed')).toEqual([expect.objectContaining({ inputHash: item.inputHash, comment: 'wrong patient, ask the site' })]);
  });

  it('leaves the quarantine empty, every input ended once, and no identifier of any input in the audit log', async () => {
    expect(await listQuarantine(held.dirs.quarantine)).toEqual([]);
    expect(outputs()).toHaveLength(3);
    const records = await audit();
    expect(records.map((r) => r.action).sort()).toEqual(['quarantine.back-to-failed', 'quarantine.clean-release', 'quarantine.clean-release', 'quarantine.discard', 'quarantine.release']);
    const text = readFileSync(held.desk.auditPath, 'utf8');
    const ids = await identifiers();
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((v) => text.includes(v))).toEqual([]);
    // The lock files of the actions are gone too.
    expect(readdirSync(held.dirs.quarantine).filter((n) => !n.startsWith('.'))).toEqual([]);
  });
});
