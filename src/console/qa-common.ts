import type { FastifyReply } from 'fastify';
import { type BatchId, isBatchId } from '../qa/qa-paths.js';
import { QaError, type QaRecord, type SampleItem, readRecord } from '../qa/qa-record.js';
import { type QaScope, qaScopeOf } from '../qa/qa-scope.js';
import type { ConsoleContext, ConsoleUser } from './context.js';
import { visible } from './quarantine-item-page.js';

/**
 * What the QA pages share: a project's scope for an account that may see it (a reviewer of another
 * project gets 404, as for the quarantine), our own ids in URLs (the project name, the batch id,
 * the sample's index from 1; never a UID or a path), and QA's refusals as HTTP statuses.
 */

export const qaScopeFor = (ctx: ConsoleContext, user: ConsoleUser, project: string): QaScope | undefined =>
  visible(ctx, user, project) ? qaScopeOf(ctx.config, project) : undefined;

export const batchOfParam = (s: string): BatchId | undefined => (isBatchId(s) ? s : undefined);

export const qaHref = (project: string, batch?: BatchId, n?: number): string =>
  `/qa/${encodeURIComponent(project)}${batch ? `/${batch}` : ''}${batch && n !== undefined ? `/${n}` : ''}`;

/** The 1-based index in a sample, from a URL segment or form field. */
export function sampleIndexOf(s: string, record: QaRecord): { n: number; item: SampleItem } | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  const item = record.sample[n - 1];
  return n >= 1 && item ? { n, item } : undefined;
}

/**
 * What the reviewer did wrong (400), what is not there (404), what the batch's state refuses now
 * (not all marked yet, signed off already, nothing delivered: 409).
 */
export function qaStatusOf(e: QaError): number {
  switch (e.code) {
    case 'bad-seed':
    case 'bad-mark':
      return 400;
    case 'no-batch':
    case 'no-sample':
    case 'not-in-sample':
      return 404;
    default:
      return 409;
  }
}

export const notFound = (reply: FastifyReply): FastifyReply => reply.code(404).type('text/plain; charset=utf-8').send('Not found');

/** The batch's record, or undefined (no such batch, or no sample drawn). */
export async function recordOf(scope: QaScope, batch: BatchId): Promise<QaRecord | undefined> {
  return readRecord(scope.storePath, scope.project, batch);
}

/** Runs a QA library call; its refusals become `{ error }` (messages never carry a value). */
export async function refusalOf<T>(run: () => Promise<T>): Promise<{ value: T } | { error: QaError }> {
  try {
    return { value: await run() };
  } catch (e) {
    if (e instanceof QaError) return { error: e };
    throw e;
  }
}

/** `2026-12-02T13:07:48.830Z` as `2026-12-02 13:07:48 UTC`. */
export const readableTime = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
