// The two ways a file reaches Graph. Small files: one path-based PUT of the streamed file. Large ones:
// an upload session, sent in fragments of a multiple of 320 KiB (Graph's rule), read from disk one
// at a time. The session URL is pre-authenticated (no token). A fragment that fails or whose answer
// is lost is not blindly resent: the session is asked which bytes it still expects
// (nextExpectedRanges) and the upload goes on from there, so a fragment the service did take is not
// sent twice (it would answer 416).

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RemoteError } from '../remote-folder.js';
import { backoffMs, errorCode, isRetryableStatus, jsonOf, retryAfterMs, statusError } from './graph-errors.js';
import { parseItem, type DriveItem } from './graph-items.js';
import type { GraphSession } from './graph-session.js';

export const FRAGMENT_UNIT = 320 * 1024;

/**
 * 202 answers in a row that do not move the session's expected offset past the furthest point it
 * has confirmed, tolerated before giving up. The offset comes from the server: one that never
 * advances would otherwise resend the same fragment for ever (the resume path has its own bound,
 * maxResumes).
 */
export const MAX_STALLED_ROUNDS = 5;

/** What an upload attempt came to: stored, a name conflict, or "look at the item to know". */
export type UploadOutcome = { kind: 'done'; item?: DriveItem } | { kind: 'conflict' } | { kind: 'check' };

type Conflict = 'fail' | 'replace';

export async function uploadSmall(session: GraphSession, target: string, from: string, size: number, conflict: Conflict, signal?: AbortSignal): Promise<UploadOutcome> {
  const res = await session.call(`${target}:/content?@microsoft.graph.conflictBehavior=${conflict}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    // A fresh stream per attempt; the client would JSON-serialize a stream given as content.
    body: () => Readable.toWeb(createReadStream(from)) as ReadableStream<Uint8Array>,
    signal,
  });
  if (res.status === 409) {
    await errorCode(res);
    return { kind: 'conflict' };
  }
  return { kind: 'done', ...itemOf(await jsonOf('upload', res)) };
}

export interface SessionUploadOptions { fragmentSize: number; maxResumes: number }

export async function uploadBySession(
  session: GraphSession, target: string, from: string, size: number, conflict: Conflict, o: SessionUploadOptions, signal?: AbortSignal,
): Promise<UploadOutcome> {
  if (o.fragmentSize <= 0 || o.fragmentSize % FRAGMENT_UNIT !== 0) throw new RemoteError('graph: fragment size must be a multiple of 320 KiB', false);
  const created = await session.call(`${target}:/createUploadSession`, {
    method: 'POST',
    json: { item: { '@microsoft.graph.conflictBehavior': conflict } },
    signal,
  });
  if (created.status === 409) {
    await errorCode(created);
    return { kind: 'conflict' };
  }
  const uploadUrl = ((await jsonOf('upload session', created)) as { uploadUrl?: unknown } | null)?.uploadUrl;
  if (typeof uploadUrl !== 'string' || !uploadUrl.startsWith('https://')) throw new RemoteError('graph: upload session without an https URL', true);

  const fh = await open(from, 'r');
  const buf = Buffer.allocUnsafe(Math.min(o.fragmentSize, Math.max(size, 1)));
  let offset = 0;
  let resumes = 0;
  let confirmed = 0; // the furthest next-expected offset the session has answered
  let stalled = 0;
  try {
    for (;;) {
      const len = Math.min(o.fragmentSize, size - offset);
      const { bytesRead } = await fh.read(buf, 0, len, offset);
      if (bytesRead !== len) throw new RemoteError('graph: the local file changed during upload', false);
      let res: Response | undefined;
      try {
        res = await session.preauth(uploadUrl, {
          method: 'PUT',
          headers: { 'Content-Range': `bytes ${offset}-${offset + len - 1}/${size}`, 'Content-Length': String(len) },
          body: buf.subarray(0, len),
          retryDropped: false, // the fragment may have arrived: ask the session instead
          signal,
        });
      } catch (err) {
        if (signal?.aborted || !(err instanceof RemoteError)) throw err;
      }
      if (res && (res.status === 200 || res.status === 201)) return { kind: 'done', ...itemOf(await jsonOf('upload', res)) };
      if (res?.status === 409) {
        await errorCode(res);
        return { kind: 'conflict' };
      }
      if (res?.status === 202) {
        const next = nextExpected(await jsonOf('upload fragment', res), size);
        if (next === undefined) return { kind: 'check' };
        if (next > confirmed) {
          confirmed = next;
          stalled = 0;
        } else if (++stalled > MAX_STALLED_ROUNDS) {
          await cancel(session, uploadUrl);
          throw new RemoteError('graph: upload session makes no progress', true, 202);
        }
        offset = next;
        continue;
      }
      if (res && res.status === 404) throw new RemoteError('graph: upload session expired', true, 404);
      if (res && !isRetryableStatus(res.status) && res.status !== 416) {
        const err = await statusError('upload fragment', res);
        await cancel(session, uploadUrl);
        throw err;
      }
      // Failed, dropped or out of step: wait, then ask where to go on from.
      const asked = res ? retryAfterMs(res) : undefined;
      // Giving up hands the service's last Retry-After to the drainer, which waits at least that.
      if (++resumes > o.maxResumes) throw new RemoteError('graph: upload fragments keep failing', true, res?.status, asked);
      // Bounded: a Retry-After of days is the drainer's to wait out, not a session's.
      const wait = Math.min(asked ?? backoffMs(resumes), 60_000);
      await res?.body?.cancel();
      await session.sleep(wait, signal);
      const status = await session.preauth(uploadUrl, { signal });
      if (status.status === 404) {
        // Gone after the last byte went out: the upload may have completed; the item will say.
        await status.body?.cancel();
        return { kind: 'check' };
      }
      const next = nextExpected(await jsonOf('upload status', status), size);
      if (next === undefined) return { kind: 'check' };
      offset = next;
    }
  } finally {
    await fh.close();
  }
}

/**
 * The start of the first range still expected ("12345-" or "12345-67890"); undefined if none, or
 * if it is the file's end (nothing left to send: the item will say whether the upload completed).
 * A start past the end (or not a number) is the server's error, not a place to read from.
 */
function nextExpected(body: unknown, size: number): number | undefined {
  const ranges = (body as { nextExpectedRanges?: unknown } | null)?.nextExpectedRanges;
  if (!Array.isArray(ranges) || ranges.length === 0) return undefined;
  const m = /^(\d+)-/.exec(String(ranges[0]));
  if (!m) throw new RemoteError('graph: upload status answered an unreadable range', true);
  const next = Number(m[1]);
  if (!Number.isSafeInteger(next) || next > size) throw new RemoteError('graph: upload session expects bytes beyond the end of the file', true);
  return next === size ? undefined : next;
}

function itemOf(body: unknown): { item?: DriveItem } {
  const item = parseItem(body);
  return item ? { item } : {};
}

async function cancel(session: GraphSession, uploadUrl: string): Promise<void> {
  try {
    const res = await session.preauth(uploadUrl, { method: 'DELETE' });
    await res.body?.cancel();
  } catch {
    // The session expires by itself.
  }
}
