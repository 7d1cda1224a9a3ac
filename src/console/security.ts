import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfMatches } from './sessions.js';

/** On every answer, including the event stream (written by hand). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The CSRF check of every state-changing request: the request must come from this console's own
 * pages, and the session's synchronizer token must come back in the `_csrf` form field or the
 * X-CSRF-Token header. Answers 403 and returns false when either fails.
 *
 * "From its own pages": an Origin header naming another origin is refused. Under our
 * `Referrer-Policy: no-referrer` Chromium sends `Origin: null` on form posts, so then the
 * browser's Sec-Fetch-Site must say same-origin. A client sending neither (curl, a script) is
 * judged by the token alone.
 */
export function passesCsrf(request: FastifyRequest, reply: FastifyReply): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const self = `${request.protocol}://${request.host}`;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  let fromHere = true;
  if (typeof origin === 'string' && origin !== 'null') fromHere = origin === self;
  else if (typeof site === 'string') fromHere = site === 'same-origin';
  else if (origin === 'null') fromHere = false;
  const body = request.body as Record<string, unknown> | undefined;
  const submitted = request.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
  const expected = request.console.csrf;
  if (fromHere && expected !== undefined && csrfMatches(expected, submitted)) return true;
  void reply.code(403).type('text/plain; charset=utf-8').send(fromHere ? 'Forbidden: missing or wrong CSRF token. Reload the page and try again.' : 'Forbidden: cross-origin request.');
  return false;
}
