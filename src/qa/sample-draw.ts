import { createHmac, randomBytes } from 'node:crypto';
import { appendAudit, auditPathOf } from '../audit/audit-log.js';
import { batchOutputs } from './batches.js';
import type { DeliveryLine } from './delivery-ledger.js';
import type { BatchId } from './qa-paths.js';
import { QaError, type QaRecord, type SampleItem, readRecord, withRecordLock, writeRecord } from './qa-record.js';
import type { QaScope } from './qa-scope.js';
import { sampleSize } from './qa-settings.js';

const SEED = /^[0-9a-f]{64}$/;

/**
 * The deterministic part of a draw: the outputs ordered by HMAC-SHA-256(seed, SOP Instance UID)
 * and the first `n` taken. Anyone with the seed and the batch's list draws the same sample, and
 * without the seed no one can tell which outputs will be looked at.
 */
export function selectSample(outputs: readonly DeliveryLine[], seed: string, n: number): SampleItem[] {
  const key = Buffer.from(seed, 'hex');
  const rank = (sop: string): string => createHmac('sha256', key).update(sop, 'utf8').digest('hex');
  return outputs
    .map((o) => ({ o, r: rank(o.sop) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .slice(0, n)
    .map(({ o }) => ({ sop: o.sop, path: o.path, ...(o.request ? { request: o.request } : {}) }));
}

export interface DrawOptions {
  /** 64 hex digits; default: 32 fresh random bytes. */
  readonly seed?: string;
  readonly now?: () => Date;
}

/**
 * Draws a batch's sample and records it (seed, sample, when, by whom) durably, then audits the
 * draw. A batch drawn already answers with its recorded sample: the sample is drawn once, so no
 * one can draw until it suits them.
 */
export async function drawSample(scope: QaScope, batch: BatchId, who: string, options: DrawOptions = {}): Promise<QaRecord> {
  if (options.seed !== undefined && !SEED.test(options.seed)) throw new QaError('bad-seed', 'a seed is 64 lowercase hex digits');
  const drawn = await withRecordLock(scope.storePath, scope.project, batch, async () => {
    const existing = await readRecord(scope.storePath, scope.project, batch);
    if (existing) return { record: existing, fresh: false };
    const outputs = await batchOutputs(scope.storePath, scope.project, batch);
    if (outputs.length === 0) throw new QaError('empty-batch', `batch ${batch} has no deliveries`);
    const seed = options.seed ?? randomBytes(32).toString('hex');
    const { percent, min, max } = scope.settings;
    const record: QaRecord = {
      version: 1, project: scope.project, batch, seed, drawnAt: (options.now ?? (() => new Date()))().toISOString(), drawnBy: who,
      batchSize: outputs.length, settings: { percent, min, max },
      sample: selectSample(outputs, seed, sampleSize(outputs.length, scope.settings)), marks: [],
    };
    await writeRecord(scope.storePath, record);
    return { record, fresh: true };
  });
  if (drawn.fresh) {
    await appendAudit(auditPathOf(scope.storePath), {
      who, action: 'qa.draw', project: scope.project,
      detail: { batch, batchSize: drawn.record.batchSize, sampleSize: drawn.record.sample.length },
    });
  }
  return drawn.record;
}
