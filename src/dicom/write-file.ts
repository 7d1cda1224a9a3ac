import { createReadStream } from 'node:fs';
import { writeAtomically } from '../fs/atomic-write.js';
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
