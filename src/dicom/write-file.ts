import { createReadStream } from 'node:fs';
import { writeAtomically } from '../fs/atomic-write.js';
import type { DataElement } from './dataset.js';
import type { TransferSyntax } from './transfer-syntax.js';
import type { Encoding } from './transfer-syntax.js';
import { type Chunk, deflateDataset, serializeDataset, serializeFileMeta, swapWords } from './write.js';

export interface Part10Output {
  readonly meta: readonly DataElement[];
  readonly dataset: readonly DataElement[];
  readonly transferSyntax: TransferSyntax;
  /** The file that `bulk` elements' byte ranges refer to. */
  readonly sourcePath: string;
  /** How the values were read, when it differs from `transferSyntax` (byte order changes). */
  readonly sourceEncoding?: Encoding;
  /** Where the temporary file goes (same file system as the target); default beside it. */
  readonly tmpDir?: string;
}

async function* bytesOf(chunks: readonly Chunk[], sourcePath: string): AsyncGenerator<Buffer> {
  for (const c of chunks) {
    if (Buffer.isBuffer(c)) {
      yield c;
    } else if (c.length > 0) {
      // Pixel bytes are copied from the source in bounded chunks (16 MiB: fewer thread-pool round trips; word-aligned), never
      // decoded or held whole; swapped word by word when the byte order changes.
      const stream = createReadStream(sourcePath, { start: c.offset, end: c.offset + c.length - 1, highWaterMark: 16 * 1024 * 1024 });
      for await (const chunk of stream) yield c.swap ? swapWords(chunk as Buffer, c.swap) : (chunk as Buffer);
    }
  }
}

/** Writes a valid Part 10 file in the dataset's own transfer syntax, atomically. */
export async function writePart10File(target: string, out: Part10Output): Promise<void> {
  const header = serializeFileMeta(out.meta);
  const chunks = serializeDataset(out.dataset, out.transferSyntax, out.sourceEncoding ?? out.transferSyntax);
  if (out.transferSyntax.deflated) {
    // Deflated datasets are read whole (they cannot be seeked), so they are written whole too.
    const parts = chunks.map((c) => {
      if (Buffer.isBuffer(c)) return c;
      throw new Error('a deflated dataset has no streamed ranges');
    });
    await writeAtomically(target, [header, deflateDataset(Buffer.concat(parts))], 0o644, out.tmpDir);
    return;
  }
  await writeAtomically(target, (async function* () {
    yield header;
    yield* bytesOf(chunks, out.sourcePath);
  })(), 0o644, out.tmpDir);
}
