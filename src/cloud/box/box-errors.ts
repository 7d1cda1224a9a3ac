// What a Box failure means, read from the SDK's errors without ever copying their text: a
// BoxApiError's message, request body and URL can carry file names (PHI). Our messages are
// built from the status and Box's error code only, and the SDK error is never attached as cause.
import { BoxApiError, BoxSdkError } from 'box-node-sdk/box';
import { RemoteError } from '../remote-folder.js';
import { retryAfterMs } from './box-retry.js';

/** An item named in a 409's context_info.conflicts (an array for folders, an object for uploads). */
export interface BoxConflict {
  readonly type: string;
  readonly id: string;
  readonly sha1?: string;
}

export interface BoxFailure {
  /** HTTP status; undefined for a network failure or an SDK-side error. */
  readonly status?: number;
  readonly code?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeBoxError(e: unknown): BoxFailure {
  if (e instanceof BoxApiError) {
    const status = e.responseInfo.statusCode;
    const body: unknown = e.responseInfo.body;
    const code = isRecord(body) && typeof body['code'] === 'string' ? body['code'] : undefined;
    const retryable = status === 401 || status === 408 || status === 429 || status === 202 || status >= 500;
    return { status, code, retryable, retryAfterMs: retryAfterMs(e.responseInfo.headers) };
  }
  if (e instanceof RemoteError) {
    return { status: e.status, retryable: e.retryable, retryAfterMs: e.retryAfterMs };
  }
  // The SDK wraps a network failure (refused, reset, dropped, timed out) with `error` set; other
  // BoxSdkErrors (an answer it cannot read) are not worth retrying.
  if (e instanceof BoxSdkError) return { retryable: e.error !== undefined };
  return { retryable: false };
}

/** A RemoteError for `what` (a fixed phrase of ours, never a name). */
export function toRemoteError(e: unknown, what: string): RemoteError {
  if (e instanceof RemoteError) return e;
  const f = describeBoxError(e);
  const detail = f.status === undefined ? (f.retryable ? 'network failure' : 'unreadable answer') : `${f.status}${f.code ? ` ${f.code}` : ''}`;
  return new RemoteError(`box ${what}: ${detail}`, f.retryable, f.status, f.retryAfterMs);
}

export function isStatus(e: unknown, ...statuses: number[]): boolean {
  const status = e instanceof BoxApiError ? e.responseInfo.statusCode : e instanceof RemoteError ? e.status : undefined;
  return status !== undefined && statuses.includes(status);
}

/** The conflicting items of a 409 item_name_in_use; undefined for any other error. */
export function nameConflicts(e: unknown): BoxConflict[] | undefined {
  if (!(e instanceof BoxApiError) || e.responseInfo.statusCode !== 409) return undefined;
  const body: unknown = e.responseInfo.body;
  if (!isRecord(body) || body['code'] !== 'item_name_in_use') return undefined;
  const info = body['context_info'];
  const raw = isRecord(info) ? info['conflicts'] : undefined;
  const list: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter(isRecord).flatMap((c) =>
    typeof c['id'] === 'string' && typeof c['type'] === 'string'
      ? [{ type: c['type'], id: c['id'], ...(typeof c['sha1'] === 'string' ? { sha1: c['sha1'] } : {}) }]
      : [],
  );
}

/** Throws the caller's abort reason when `signal` is aborted, so aborts are not mapped as failures. */
export function rethrowIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
