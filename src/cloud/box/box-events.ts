// The Box change feed as one bounded wait: OPTIONS /events (the long-poll server), a long poll
// on it from our stream position, then GET /events to advance the position. Why not the SDK's
// EventStream: it starts at "now", hides its position (nothing to persist across restarts), and
// can raise an unhandled rejection after destroy(). Why raw requests: the SDK's RealtimeServer
// schema insists on a string `ttl` (Box may send a number), and JSON.parse would round stream
// positions, which exceed 2^53: positions are read from the raw text. Why not client.makeRequest:
// it drops the cancellation token, so a long poll could not be cut short.
import { text } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { FetchOptions, type FetchResponse } from 'box-node-sdk/networking';
import type { RemoteChanges } from '../remote-folder.js';
import { RemoteError } from '../remote-folder.js';
import { rethrowIfAborted, toRemoteError } from './box-errors.js';
import type { BoxSession } from './box-session.js';

const EVENTS_LIMIT = 500;
/** Pages of events read per wake-up; more waits for the next call. */
const MAX_EVENT_PAGES = 20;

async function rawJson(response: FetchResponse): Promise<{ readonly raw: string; readonly data: unknown }> {
  const raw = response.content ? await text(response.content as Readable) : '';
  return { raw, data: raw ? (JSON.parse(raw) as unknown) : undefined };
}

function field(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
}

function request(session: BoxSession, method: string, url: string, signal?: AbortSignal, params?: Record<string, string>): Promise<FetchResponse> {
  const { auth, networkSession } = session;
  return networkSession.networkClient.fetch(new FetchOptions({ method, url, params, auth, networkSession, cancellationToken: signal, responseFormat: 'json' }));
}

async function getEvents(session: BoxSession, position: string, signal?: AbortSignal): Promise<{ readonly next: string; readonly count: number }> {
  const params = { stream_position: position, stream_type: 'all', limit: String(EVENTS_LIMIT) };
  const response = await request(session, 'GET', `${session.networkSession.baseUrls.baseUrl}/2.0/events`, signal, params);
  const { raw, data } = await rawJson(response);
  const next = /"next_stream_position"\s*:\s*"?(\d+)"?/.exec(raw)?.[1];
  if (next === undefined) throw new RemoteError('box events: no next_stream_position', true);
  const entries = field(data, 'entries');
  return { next, count: Array.isArray(entries) ? entries.length : 0 };
}

async function realtimeServer(session: BoxSession, signal?: AbortSignal): Promise<{ readonly url: string; readonly timeoutMs: number }> {
  const response = await request(session, 'OPTIONS', `${session.networkSession.baseUrls.baseUrl}/2.0/events`, signal);
  const entries = field((await rawJson(response)).data, 'entries');
  const server: unknown = Array.isArray(entries) ? entries.find((e) => field(e, 'type') === 'realtime_server') : undefined;
  const url = field(server, 'url');
  if (typeof url !== 'string') throw new RemoteError('box events: no realtime server offered', true);
  const retryTimeout = Number(field(server, 'retry_timeout'));
  return { url, timeoutMs: Number.isFinite(retryTimeout) && retryTimeout > 0 ? retryTimeout * 1000 : 600_000 };
}

/** Long-polls `url` from `position` for up to `ms`: 'new_change', 'reconnect', or 'timeout'. */
async function longPoll(session: BoxSession, url: string, position: string, ms: number, signal?: AbortSignal): Promise<string> {
  const deadline = new AbortController();
  const onAbort = (): void => deadline.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => deadline.abort(), ms);
  try {
    const target = new URL(url);
    target.searchParams.set('stream_position', position);
    const response = await request(session, 'GET', target.toString(), deadline.signal);
    const message = field((await rawJson(response)).data, 'message');
    return typeof message === 'string' ? message : 'reconnect';
  } catch (e) {
    rethrowIfAborted(signal);
    if (deadline.signal.aborted) return 'timeout';
    throw e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

export async function boxChanges(session: BoxSession, cursor: string | undefined, waitMs: number, signal?: AbortSignal): Promise<RemoteChanges> {
  try {
    if (cursor === undefined) return { cursor: (await getEvents(session, 'now', signal)).next, changed: true };
    const until = Date.now() + Math.max(0, waitMs);
    // A bounded number of reconnects: each round asks for a fresh long-poll server.
    for (let round = 0; round < 10 && Date.now() < until; round++) {
      const server = await realtimeServer(session, signal);
      const answer = await longPoll(session, server.url, cursor, Math.min(until - Date.now(), server.timeoutMs), signal);
      if (answer === 'timeout') break;
      if (answer !== 'new_change') continue;
      let position = cursor;
      let seen = 0;
      for (let page = 0; page < MAX_EVENT_PAGES; page++) {
        const { next, count } = await getEvents(session, position, signal);
        position = next;
        seen += count;
        if (count < EVENTS_LIMIT) break;
      }
      return { cursor: position, changed: seen > 0 || position !== cursor };
    }
    return { cursor, changed: false };
  } catch (e) {
    rethrowIfAborted(signal);
    throw toRemoteError(e, 'change feed');
  }
}
