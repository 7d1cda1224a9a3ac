import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFileMeta } from './file-meta.js';
import { serializeFileMeta } from './write.js';

/** A received dataset being written to disk as it arrives, under a fresh Part 10 header. */
export interface IncomingFile {
  readonly path: string;
  readonly stream: WriteStream;
}

/**
 * Opens `dir/.incoming-<random>` (a dot name: a crash leaves it to be cleared, never processed)
 * and writes the meta group; the caller pipes the dataset bytes into `stream`.
 */
export function openIncomingFile(dir: string, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): IncomingFile {
  const path = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
  const stream = createWriteStream(path, { mode: 0o600 });
  stream.write(serializeFileMeta(buildFileMeta(sopClassUid, sopInstanceUid, transferSyntaxUid)));
  return { path, stream };
}

/** Resolves once the stream is closed and the file's bytes are on disk. */
export async function finishIncomingFile(f: IncomingFile): Promise<void> {
  if (!f.stream.closed) await new Promise<void>((r) => f.stream.once('close', () => r()));
  const fh = await open(f.path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
