import { join } from 'node:path';

/**
 * Where sample inspection keeps its files, beside the store (never in an outbox, where a
 * researcher would receive them):
 *
 *   <store>.qa/<project>/deliveries/<YYYY-MM-DD>.jsonl   what was delivered that (local) day
 *   <store>.qa/<project>/requests/<request id>.jsonl     what a PACS retrieval request delivered
 *   <store>.qa/<project>/batches/<batch id>.json         a batch's sample, marks and sign-off
 *   <store>.qa/<project>/retained/<outbox path>          de-identified copies kept for QA when the
 *                                                        outbox is a cloud folder's spool
 *
 * Every name in it is ours: a project name (checked by the config), a date, a hash, new UIDs.
 */
export const qaRootOf = (storePath: string): string => `${storePath}.qa`;
export const projectQaDir = (storePath: string, project: string): string => join(qaRootOf(storePath), project);
export const deliveriesDir = (storePath: string, project: string): string => join(projectQaDir(storePath, project), 'deliveries');
export const requestsDir = (storePath: string, project: string): string => join(projectQaDir(storePath, project), 'requests');
export const batchesDir = (storePath: string, project: string): string => join(projectQaDir(storePath, project), 'batches');
export const retainedDir = (storePath: string, project: string): string => join(projectQaDir(storePath, project), 'retained');

/** The local calendar day of `d`, as YYYY-MM-DD (a day's deliveries are the hospital's day, not UTC's). */
export function localDay(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A batch: each day's deliveries (`day-2026-12-02`), or one retrieval request's (`request-<12 hex>`). */
export type BatchId = `day-${string}` | `request-${string}`;
const BATCH_ID = /^(day-\d{4}-\d{2}-\d{2}|request-[0-9a-f]{12})$/;

export function isBatchId(s: string): s is BatchId {
  return BATCH_ID.test(s);
}
