// Streams a Box file to a local path, hashing on the way. GET /files/:id/content (through the SDK:
// auth, retries) answers 302 to a pre-signed URL on a download host; the bytes are fetched from
// there with node:http(s) on the session's agent, without our token. Why not the SDK for the
// bytes: its node-fetch 2 body never ends nor errors when a Content-Length response loses its
// connection mid-body (only chunked bodies detect that), so a dropped download would hang for
// good. Here a close before the end is an error at once, and a stall past `stallMs` is one too.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { RemoteError, type RemoteFile } from '../remote-folder.js';
import { MAX_DOWNLOAD_REDIRECTS, httpAllowedFor, redirectTarget } from '../download-redirect.js';
import { writeDownload } from '../write-download.js';
import { rethrowIfAborted, toRemoteError } from './box-errors.js';
import { retryAfterMs } from './box-retry.js';
import type { BoxSession } from './box-session.js';

/** No byte for this long: the transfer is taken as lost. */
export const DOWNLOAD_STALL_MS = 60_000;

function get(url: string, agent: http.Agent | undefined, stallMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new RemoteError('box download: unsupported download URL scheme', false));
  return new Promise((resolve, reject) => {
    const req = client.get(target, { ...(agent ? { agent } : {}), ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
    // Socket inactivity, for the headers and the whole body alike.
    req.setTimeout(stallMs, () => req.destroy(new Error('stalled')));
  });
}

/**
 * GETs `first` (the target of the service's own 302, resolved against its `base`), following further redirects only where
 * src/cloud/download-redirect.ts allows: https (http only when the configured Box base is http),
 * at most MAX_DOWNLOAD_REDIRECTS in all. No Authorization header is ever set here.
 */
async function open200(base: string, first: string, agent: http.Agent | undefined, stallMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const allowHttp = httpAllowedFor(base);
  let url = redirectTarget(first, base, allowHttp, 'box download').href;
  for (let hops = 1; ; hops++) {
    const res = await get(url, agent, stallMs, signal);
    const status = res.statusCode ?? 0;
    if (status === 200) return res;
    res.resume(); // drain and free the socket
    if (status >= 300 && status < 400) {
      if (hops >= MAX_DOWNLOAD_REDIRECTS) throw new RemoteError('box download: redirected too many times', true, status);
      url = redirectTarget(res.headers.location, url, allowHttp, 'box download').href;
      continue;
    }
    const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
    const retryable = status === 202 || status === 429 || status >= 500;
    throw new RemoteError(`box download: ${status} from the download host`, retryable, status, retryAfterMs(headers));
  }
}

export async function downloadTo(session: BoxSession, file: RemoteFile, to: string, signal?: AbortSignal, stallMs = DOWNLOAD_STALL_MS): Promise<void> {
  let body: http.IncomingMessage;
  try {
    const url = await session.client.downloads.getDownloadFileUrl(file.id, { cancellationToken: signal });
    body = await open200(session.networkSession.baseUrls.baseUrl, url, session.networkSession.agent as http.Agent | undefined, stallMs, signal);
  } catch (e) {
    rethrowIfAborted(signal);
    if (e instanceof RemoteError) throw e;
    const wrapped = toRemoteError(e, 'download');
    // A socket error of ours (refused, reset, stalled) is not a Box answer: retry.
    throw wrapped.status === undefined ? new RemoteError('box download: connection failed', true) : wrapped;
  }
  const hash = createHash('sha1');
  let bytes = 0;
  // 0600: an original (PHI), as the quarantine keeps it.
  const out = await open(to, 'w', 0o600);
  try {
    bytes = await writeDownload(body as AsyncIterable<Uint8Array>, out, file.size, (c) => hash.update(c), 'box download');
    await out.sync();
  } catch (e) {
    body.destroy();
    rethrowIfAborted(signal);
    if (e instanceof RemoteError) throw e;
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    // A local write failure is not the service's doing; anything else is a lost connection.
    if (typeof code === 'string' && /^E(NOSPC|ACCES|PERM|ROFS|IO|DQUOT|ISDIR|NOENT)$/.test(code)) throw new RemoteError(`box download: local write failed (${code})`, false);
    throw new RemoteError('box download: connection lost mid-transfer', true);
  } finally {
    await out.close();
  }
  if (bytes !== file.size) throw new RemoteError(`box download: ${bytes} bytes received, ${file.size} expected`, true);
  if (file.digest?.algorithm === 'sha1' && hash.digest('hex') !== file.digest.value.toLowerCase()) {
    throw new RemoteError('box download: SHA-1 mismatch', true);
  }
}
