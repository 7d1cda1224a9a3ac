import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeliveryLine } from './delivery-ledger.js';
import { type BatchId, deliveriesDir, isBatchId, requestsDir } from './qa-paths.js';

export interface BatchSummary {
  readonly id: BatchId;
  readonly kind: 'day' | 'request';
  /** When its ledger was last appended to (the newest batch is the default one). */
  readonly lastDelivery: Date;
}

const ifMissing = <T>(value: T) => (e: unknown): T => {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return value;
  throw e;
};

const ledgerOf = (storePath: string, project: string, id: BatchId): string => id.startsWith('day-')
  ? join(deliveriesDir(storePath, project), `${id.slice('day-'.length)}.jsonl`)
  : join(requestsDir(storePath, project), `${id}.jsonl`);

/** A project's batches that have deliveries, newest first. */
export async function listBatches(storePath: string, project: string): Promise<BatchSummary[]> {
  const found: BatchSummary[] = [];
  for (const [dir, kind] of [[deliveriesDir(storePath, project), 'day'], [requestsDir(storePath, project), 'request']] as const) {
    for (const name of await readdir(dir).catch(ifMissing([] as string[]))) {
      if (!name.endsWith('.jsonl')) continue;
      const id = kind === 'day' ? `day-${name.slice(0, -'.jsonl'.length)}` : name.slice(0, -'.jsonl'.length);
      if (!isBatchId(id)) continue;
      const st = await stat(join(dir, name));
      found.push({ id, kind, lastDelivery: st.mtime });
    }
  }
  return found.sort((a, b) => b.lastDelivery.getTime() - a.lastDelivery.getTime() || (a.id < b.id ? 1 : -1));
}

/**
 * A batch's delivered outputs: one per SOP Instance UID (a redone input is recorded again; its
 * latest line stands), in the order of their latest delivery. A torn last line (a crash mid-append) is skipped.
 */
export async function batchOutputs(storePath: string, project: string, id: BatchId): Promise<DeliveryLine[]> {
  const text = await readFile(ledgerOf(storePath, project, id), 'utf8').catch(ifMissing(''));
  const bySop = new Map<string, DeliveryLine>();
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: DeliveryLine;
    try {
      line = JSON.parse(raw) as DeliveryLine;
    } catch {
      continue;
    }
    if (typeof line.sop !== 'string' || typeof line.path !== 'string') continue;
    if (bySop.has(line.sop)) bySop.delete(line.sop);
    bySop.set(line.sop, line);
  }
  return [...bySop.values()];
}
