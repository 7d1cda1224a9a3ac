import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFileMeta } from './file-meta.js';
import { serializeFileMeta } from './write.js';

/** A received dataset being written to disk as it arrives, under a fresh Part 10 header. */
export interface IncomingFile {
  readonly path: string;
  readonly stream: WriteStream;
  /** Set when writing failed (ENOSPC, the folder gone): the file is incomplete and never handed over. */
  error?: NodeJS.ErrnoException;
}

/**
 * Opens `dir/.incoming-<random>` (a dot name: a crash leaves it to be cleared, never processed)
 * and writes the meta group; the caller pipes the dataset bytes into `stream`.
 */
export function openIncomingFile(dir: string, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): IncomingFile {
  const path = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
  const stream = createWriteStream(path, { mode: 0o600 });
  const file: IncomingFile = { path, stream };
  // A write error must not become an unhandled 'error' event (that would end the agent): it is
  // kept, and the C-STORE is answered out of resources.
  stream.on('error', (e: NodeJS.ErrnoException) => { file.error ??= e; });
  stream.write(serializeFileMeta(buildFileMeta(sopClassUid, sopInstanceUid, transferSyntaxUid)));
  return file;
}

/** Closes the file and removes it: for an aborted association or a failed write (it may hold PHI). */
export async function discardIncomingFile(f: IncomingFile): Promise<void> {
  if (!f.stream.closed) {
    f.stream.destroy();
    await new Promise<void>((r) => f.stream.once('close', () => r()));
  }
  await rm(f.path, { force: true });
}

/** Resolves once the stream is closed and the file's bytes are on disk; rejects if writing failed. */
export async function finishIncomingFile(f: IncomingFile): Promise<void> {
  if (!f.stream.closed) await new Promise<void>((r) => f.stream.once('close', () => r()));
  if (f.error) throw f.error;
  const fh = await open(f.path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
