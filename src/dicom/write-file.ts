import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { DataElement } from './dataset.js';
import type { TransferSyntax } from './transfer-syntax.js';
import { type Chunk, serializeDataset, serializeFileMeta } from './write.js';

export interface Part10Output {
  readonly meta: readonly DataElement[];
  readonly dataset: readonly DataElement[];
  readonly transferSyntax: TransferSyntax;
  /** The file that `bulk` elements' byte ranges refer to. */
  readonly sourcePath: string;
}

async function* bytesOf(chunks: readonly Chunk[], sourcePath: string): AsyncGenerator<Buffer> {
  for (const c of chunks) {
    if (Buffer.isBuffer(c)) {
      yield c;
    } else if (c.length > 0) {
      // Pixel bytes are copied from the source in bounded chunks, never decoded or held whole.
      yield* createReadStream(sourcePath, { start: c.offset, end: c.offset + c.length - 1, highWaterMark: 1024 * 1024 });
    }
  }
}

/** Makes the directory entry for a just-renamed file durable. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `target` so that `target` is either absent or complete: a temporary name in
 * the same directory, fsync, rename, fsync of the directory.
 */
export async function writeAtomically(target: string, bytes: AsyncIterable<Buffer> | Iterable<Buffer>, mode = 0o644): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    for await (const b of bytes) await fh.write(b);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** Writes a valid Part 10 file in the dataset's own transfer syntax, atomically. */
export async function writePart10File(target: string, out: Part10Output): Promise<void> {
  const header = serializeFileMeta(out.meta);
  const chunks = serializeDataset(out.dataset, out.transferSyntax);
  if (out.transferSyntax.deflated) {
    // Deflated datasets are read whole (they cannot be seeked), so they are written whole too.
    const parts = chunks.map((c) => {
      if (Buffer.isBuffer(c)) return c;
      throw new Error('a deflated dataset has no streamed ranges');
    });
    await writeAtomically(target, [header, deflateRawSync(Buffer.concat(parts))]);
    return;
  }
  await writeAtomically(target, (async function* () {
    yield header;
    yield* bytesOf(chunks, out.sourcePath);
  })());
}
