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

/**
 * System errors that say nothing about the file: the disk is full, failing or read-only, the
 * process is out of descriptors or memory, a network file system is slow. An allow-list: any
 * other code (EACCES on an input, ENXIO on a socket dropped in the inbox, ENOENT) belongs to the
 * file and sends it to failed, so nothing waits forever on something time cannot fix.
 */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ESTALE']);

const codeOf = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** An error reading an input that says nothing about the input (the disk, the descriptor table). */
export function isTransientReadError(e: unknown): boolean {
  return TRANSIENT_CODES.has(codeOf(e) ?? '');
}

/**
 * Whether an error that escaped an input's processing or settling is worth waiting out: ours by
 * name (it crosses worker threads as name and code; processInstance raises it for a store or an
 * output folder that cannot be written, whatever the code), or a system error of the moment.
 */
export function isTransient(e: unknown): boolean {
  return (e as Error | undefined)?.name === 'TransientError' || TRANSIENT_CODES.has(codeOf(e) ?? '');
}

export const errorCode = (e: unknown): string => codeOf(e) ?? (e instanceof Error ? e.name : 'error');
