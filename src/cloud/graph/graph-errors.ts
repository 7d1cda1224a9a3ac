// Reading Graph's answers without letting a file name through. Graph's error messages may quote a
// name ("… 'DOE^JOHN.dcm' already exists"), so only the status and the machine-readable error code
// (checked to look like one) ever reach a RemoteError; the response text never does.

import { RemoteError } from '../remote-folder.js';

/** Statuses where the same request may succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Retry-After (seconds or an HTTP date) in ms, when the answer has one. */
export function retryAfterMs(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (h === null || h.trim() === '') return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Exponential backoff for a retry without Retry-After: 1 s, 2 s, 4 s … */
export function backoffMs(attempt: number): number {
  return 1000 * 2 ** Math.min(attempt - 1, 6);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Graph's error code (e.g. nameAlreadyExists), if the body has a plausible one. Consumes the body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  try {
    const body: unknown = await res.json();
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A RemoteError for an unexpected answer: `what` is our own wording, never a name. */
export async function statusError(what: string, res: Response): Promise<RemoteError> {
  const code = await errorCode(res);
  return new RemoteError(`graph: ${what} answered ${res.status}${code ? ` (${code})` : ''}`, isRetryableStatus(res.status) || res.status === 401, res.status, retryAfterMs(res));
}

/** The JSON body of a 2xx answer, or a RemoteError. */
export async function jsonOf(what: string, res: Response): Promise<unknown> {
  if (!res.ok) throw await statusError(what, res);
  try {
    return await res.json();
  } catch {
    // No cause: a JSON SyntaxError quotes the text, which may hold names.
    throw new RemoteError(`graph: ${what} answered unreadable JSON`, true, res.status);
  }
}
