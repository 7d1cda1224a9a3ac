// Downloading a file's content. Graph answers `/content` with a 302 to a pre-authenticated URL on
// another origin: that request must not carry our token (the URL is its own credential, and the
// token would leak to a host that does not need it), so the redirect is followed by hand through
// plain fetch, and only where src/cloud/download-redirect.ts allows (https, a few hops). Bytes go to disk as they arrive (never the whole file in memory), hashed on the way,
// then fsynced; a digest or size mismatch is a retryable RemoteError.

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { RemoteFile } from '../remote-folder.js';
import { MAX_DOWNLOAD_REDIRECTS, httpAllowedFor, redirectTarget } from '../download-redirect.js';
import { writeDownload } from '../write-download.js';
import { RemoteError } from '../remote-folder.js';
import { statusError } from './graph-errors.js';
import type { GraphSession } from './graph-session.js';
import { QuickXorHash } from './quick-xor-hash.js';

interface Hasher { update(b: Uint8Array): unknown; final(): string }

function hasherFor(file: RemoteFile): Hasher | undefined {
  if (file.digest?.algorithm === 'sha1') {
    const h = createHash('sha1');
    return { update: (b) => h.update(b), final: () => h.digest('hex') };
  }
  if (file.digest?.algorithm === 'quickXorHash') {
    const h = new QuickXorHash();
    return { update: (b) => h.update(b), final: () => h.digest() };
  }
  return undefined;
}

export async function downloadItem(session: GraphSession, driveId: string, file: RemoteFile, to: string, signal?: AbortSignal): Promise<void> {
  const url = `/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(file.id)}/content`;
  let res = await session.call(url, { redirect: 'manual', signal });
  // Every hop by hand (redirect: 'manual' on the pre-authenticated side too, where fetch would
  // follow up to 20 to any http(s) host): https only, a few hops, never the token (preauth).
  const allowHttp = httpAllowedFor(session.origin);
  let from = session.origin;
  for (let hops = 1; res.status >= 300 && res.status < 400; hops++) {
    const location = res.headers.get('location');
    await res.body?.cancel();
    if (hops > MAX_DOWNLOAD_REDIRECTS) throw new RemoteError('graph: content download redirected too many times', true, res.status);
    const next = redirectTarget(location, from, allowHttp, 'graph: content download');
    from = next.href;
    res = await session.preauth(from, { signal, redirect: 'manual' });
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new RemoteError('graph: the file is gone', false, 404);
  }
  if (!res.ok || !res.body) throw await statusError('content download', res);

  const hasher = hasherFor(file);
  let size = 0;
  // 0600: an original (PHI), as the quarantine keeps it.
  const fh = await open(to, 'w', 0o600);
  try {
    try {
      size = await writeDownload(res.body as unknown as AsyncIterable<Uint8Array>, fh, file.size, (c) => hasher?.update(c), 'graph: download');
    } catch (err) {
      if (signal?.aborted || err instanceof RemoteError) throw err;
      throw new RemoteError('graph: content download interrupted', true, undefined, undefined, { cause: err });
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (size !== file.size) throw new RemoteError(`graph: downloaded ${size} bytes, expected ${file.size}`, true);
  if (hasher && file.digest) {
    const got = hasher.final();
    const same = file.digest.algorithm === 'sha1' ? got.toLowerCase() === file.digest.value.toLowerCase() : got === file.digest.value;
    if (!same) throw new RemoteError(`graph: downloaded content does not match its ${file.digest.algorithm}`, true);
  }
}
