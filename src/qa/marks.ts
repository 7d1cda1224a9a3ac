import { appendAudit, auditPathOf } from '../audit/audit-log.js';
import type { BatchId } from './qa-paths.js';
import { type ImageRegion, type Mark, type MarkPlace, QaError, type QaRecord, type SampleItem, type Verdict, readRecord, withRecordLock, writeRecord } from './qa-record.js';
import type { QaScope } from './qa-scope.js';
import { sampleFacts } from './sample-view.js';

const TAG_PATH = /^(\([0-9A-F]{4},[0-9A-F]{4}\)\[\d{1,6}\]\/){0,16}\([0-9A-F]{4},[0-9A-F]{4}\)$/;
const MAX_NOTE = 2000;
const cleanNote = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ').trim().slice(0, MAX_NOTE);

function checkRegion(r: ImageRegion): void {
  const ok = [r.frame, r.x, r.y].every((n) => Number.isInteger(n) && n >= 0 && n < 1e6) && [r.width, r.height].every((n) => Number.isInteger(n) && n >= 1 && n < 1e6);
  if (!ok) throw new QaError('bad-mark', 'a region is a frame, x and y from 0 and a width and height from 1, in whole pixels');
}

/** The latest verdict of each sampled output (by SOP Instance UID); unmarked ones are absent. */
export function verdictsOf(record: QaRecord): Map<string, Mark> {
  const latest = new Map<string, Mark>();
  for (const m of record.marks) latest.set(m.sop, m);
  return latest;
}

/** A batch has PHI found when any sampled output's latest verdict says so. */
export const hasPhiFound = (record: QaRecord): boolean => [...verdictsOf(record).values()].some((m) => m.verdict === 'phi-found');

/** What the attribute named by `path` is, from the output itself: its keyword, a private block's creator, the modality. */
async function describePlace(scope: QaScope, item: SampleItem, place: MarkPlace): Promise<Pick<Mark, 'keyword' | 'creator' | 'modality'>> {
  // Only from the output the ledger names, checked as the sample page reads it: a file put in its
  // place (a link to an original) must not lend its values to the mark (a private creator is kept).
  const facts = await sampleFacts(scope, item);
  if (facts.kind !== 'available') return {};
  const { attributes } = facts;
  const modality = attributes.find((a) => a.path === '(0008,0060)')?.value;
  if (place.region && !attributes.some((a) => a.path === '(7FE0,0010)')) throw new QaError('bad-mark', 'the output has no image: name the attribute instead');
  if (!place.attribute) return modality ? { modality } : {};
  const found = attributes.find((a) => a.path === place.attribute);
  if (!found) throw new QaError('bad-mark', 'the output has no attribute at that path');
  const group = found.tag.slice(1, 5);
  const element = parseInt(found.tag.slice(6, 10), 16);
  let creator: string | undefined;
  if (parseInt(group, 16) % 2 === 1 && element >= 0x1000) {
    const block = (element >> 8).toString(16).toUpperCase().padStart(4, '0');
    const at = place.attribute.lastIndexOf('/') + 1;
    creator = attributes.find((a) => a.path === `${place.attribute?.slice(0, at)}(${group},${block})`)?.value;
  }
  return { ...(found.keyword ? { keyword: found.keyword } : {}), ...(creator ? { creator } : {}), ...(modality ? { modality } : {}) };
}

/**
 * Marks one sampled output clean or phi-found (with the attribute, by its tag path, or the image
 * region where it was seen, and a note), recorded in the batch's record and audited (the batch,
 * the item's place in the sample, the verdict and where; never a value). A later mark of the
 * same output replaces its verdict; after sign-off nothing is marked.
 */
export async function markSample(scope: QaScope, batch: BatchId, sop: string, verdict: Verdict, place: MarkPlace, who: string, now: () => Date = () => new Date()): Promise<Mark> {
  if (verdict !== 'clean' && verdict !== 'phi-found') throw new QaError('bad-mark', 'a verdict is clean or phi-found');
  if (place.attribute !== undefined && !TAG_PATH.test(place.attribute)) throw new QaError('bad-mark', 'an attribute is named by its tag path, e.g. (0008,1030) or (0040,0275)[0]/(0040,0007)');
  if (place.region) checkRegion(place.region);
  if (verdict === 'phi-found' && !place.attribute && !place.region) throw new QaError('bad-mark', 'PHI found needs the attribute or the image region where it was seen');
  const note = cleanNote(place.note ?? '');
  const { mark, index } = await withRecordLock(scope.storePath, scope.project, batch, async () => {
    const record = await readRecord(scope.storePath, scope.project, batch);
    if (!record) throw new QaError('no-sample', `batch ${batch} has no sample drawn`);
    if (record.signOff) throw new QaError('signed-off', `batch ${batch} is signed off`);
    const index = record.sample.findIndex((s) => s.sop === sop);
    const item = record.sample[index];
    if (!item) throw new QaError('not-in-sample', 'that output is not in the batch\'s sample');
    const mark: Mark = {
      sop, verdict, who, at: now().toISOString(),
      ...(place.attribute ? { attribute: place.attribute } : {}),
      ...(place.region ? { region: { frame: place.region.frame, x: place.region.x, y: place.region.y, width: place.region.width, height: place.region.height } } : {}),
      ...(note ? { note } : {}),
      ...(verdict === 'phi-found' ? await describePlace(scope, item, place) : {}),
    };
    await writeRecord(scope.storePath, { ...record, marks: [...record.marks, mark] });
    return { mark, index };
  });
  await appendAudit(auditPathOf(scope.storePath), {
    who, action: 'qa.mark', project: scope.project,
    detail: {
      batch, item: index + 1, verdict,
      ...(mark.attribute ? { attribute: mark.attribute } : {}),
      ...(mark.region ? { region: `frame ${mark.region.frame} ${mark.region.x},${mark.region.y} ${mark.region.width}x${mark.region.height}` } : {}),
    },
  });
  return mark;
}

/**
 * Signs the batch off: refused until every sampled output is marked, and once done. Audited
 * with the counts and the reviewer's comment.
 */
export async function signOff(scope: QaScope, batch: BatchId, who: string, comment: string, now: () => Date = () => new Date()): Promise<QaRecord> {
  const text = cleanNote(comment);
  if (text === '') throw new QaError('bad-mark', 'a sign-off needs a comment');
  const signed = await withRecordLock(scope.storePath, scope.project, batch, async () => {
    const record = await readRecord(scope.storePath, scope.project, batch);
    if (!record) throw new QaError('no-sample', `batch ${batch} has no sample drawn`);
    if (record.signOff) throw new QaError('signed-off', `batch ${batch} is signed off already`);
    const verdicts = verdictsOf(record);
    const unmarked = record.sample.filter((s) => !verdicts.has(s.sop)).length;
    if (unmarked > 0) throw new QaError('unmarked', `${unmarked} of ${record.sample.length} sampled output(s) not marked yet`);
    const next: QaRecord = { ...record, signOff: { who, at: now().toISOString(), comment: text } };
    await writeRecord(scope.storePath, next);
    return next;
  });
  const verdicts = [...verdictsOf(signed).values()];
  await appendAudit(auditPathOf(scope.storePath), {
    who, action: 'qa.sign-off', project: scope.project, comment: text,
    detail: { batch, sampled: signed.sample.length, clean: verdicts.filter((m) => m.verdict === 'clean').length, phiFound: verdicts.filter((m) => m.verdict === 'phi-found').length },
  });
  return signed;
}
