/**
 * Errors that belong to the moment, not to the file: a full or failing disk, too many open files,
 * a store that cannot be written. A file meeting one stays claimed and is tried again with
 * backoff; only errors of the file itself (unparseable, refused by the rules) send it to failed.
 */
export class TransientError extends Error {
  constructor(readonly what: string, readonly code: string) {
    super(`${what} (${code})`);
    this.name = 'TransientError';
  }
}

/** System errors worth waiting out when they meet an input being read. */
const TRANSIENT_READ_CODES = new Set(['EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ESTALE', 'ENOSPC', 'EDQUOT']);

/** An error reading an input that says nothing about the input (the disk, the descriptor table). */
export function isTransientReadError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_READ_CODES.has(code);
}

/**
 * Whether an error that escaped an input's processing or settling is worth waiting out: ours by
 * name (it crosses worker threads as name and code), or any system error while writing, which is
 * the destination's state (full, read-only, gone), never the input's fault.
 */
export function isTransient(e: unknown): boolean {
  if ((e as Error | undefined)?.name === 'TransientError') return true;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !NOT_TRANSIENT.has(code);
}

/** System codes that a retry cannot change for this file. */
const NOT_TRANSIENT = new Set(['ENAMETOOLONG', 'ELOOP', 'EISDIR', 'EINVAL']);

export const errorCode = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : (e instanceof Error ? e.name : 'error');
};
