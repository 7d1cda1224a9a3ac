// Where a download may be redirected. Both services answer a content request with a 302 to a
// pre-authenticated URL on another host (Graph: the item's downloadUrl; Box: dl.boxcloud.com), and
// that host may redirect again. The Location comes from the network: a hostile or compromised
// server (or anything between) could point at `file:`, at a plaintext `http:` host (the original's
// bytes in the clear), or at itself for ever. So: https: only (http: only when the service's own
// configured base is http:, which is the case for a local test fake and nothing real), and a few
// hops at most. Errors never quote the URL: pre-authenticated URLs carry tokens, and a name in a
// path may be PHI.

import { RemoteError } from './remote-folder.js';

/** Redirects one download follows at most (the service's own 302 included). */
export const MAX_DOWNLOAD_REDIRECTS = 5;

/** Plaintext redirect targets are allowed only when the service itself was configured as http:. */
export function httpAllowedFor(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).protocol === 'http:';
  } catch {
    return false;
  }
}

/** The absolute URL a redirect's Location points to, or a RemoteError (`what`: our own wording). */
export function redirectTarget(location: string | null | undefined, from: string, allowHttp: boolean, what: string): URL {
  if (!location) throw new RemoteError(`${what}: redirect without a location`, true);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new RemoteError(`${what}: redirect to an unreadable location`, false);
  }
  if (target.protocol === 'https:' || (allowHttp && target.protocol === 'http:')) return target;
  // Not retryable: the same server will most likely send the same place again.
  throw new RemoteError(`${what}: redirect to a URL that is not https refused`, false);
}
