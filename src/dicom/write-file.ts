import { type FileHandle, open } from 'node:fs/promises';
import { createFileAtomically } from '../fs/atomic-write.js';
import { COPY_CHUNK, copyRange, readExactly, writeAll } from '../fs/file-io.js';
import type { DataElement } from './dataset.js';
import { applyPixelMask } from './pixel-bits.js';
import type { Encoding, TransferSyntax } from './transfer-syntax.js';
import { type Chunk, deflateDataset, serializeDataset, serializeFileMeta, swapWords, swapWordsInPlace } from './write.js';

export interface Part10Output {
  readonly meta: readonly DataElement[];
  readonly dataset: readonly DataElement[];
  readonly transferSyntax: TransferSyntax;
  /** The file that `bulk` elements' byte ranges refer to. */
  readonly sourcePath: string;
  /** The whole source file, when the reader kept it: ranges are sliced from it, not read again. */
  readonly sourceBytes?: Buffer;
  /** How the values were read, when it differs from `transferSyntax` (byte order changes). */
  readonly sourceEncoding?: Encoding;
  /** Where the temporary file goes (same file system as the target); default beside it. */
  readonly tmpDir?: string;
}

/** Ranges from this size on are copied in the kernel when nothing rewrites them on the way. */
const IN_KERNEL_FROM = 64 * 1024;

/**
 * Writes the serialized chunks in order. Bytes and small ranges are gathered into one writev;
 * a range larger than a copy chunk (the pixel data of a big file) is copied chunk by chunk from
 * the source, never held whole, and swapped word by word when the byte order changes.
 */
async function writeChunks(out: FileHandle, chunks: readonly Chunk[], o: Part10Output): Promise<void> {
  let source: FileHandle | undefined;
  let gathered: Buffer[] = [];
  try {
    for (const c of chunks) {
      if (Buffer.isBuffer(c)) {
        gathered.push(c);
      } else if (c.length === 0) {
        continue;
      } else if (o.sourceBytes) {
        const range = o.sourceBytes.subarray(c.offset, c.offset + c.length);
        if (c.mask) {
          const copy = Buffer.from(range);
          transformRange(c)?.(copy);
          gathered.push(copy);
        } else {
          gathered.push(c.swap ? swapWords(range, c.swap) : range);
        }
      } else {
        source ??= await open(o.sourcePath, 'r');
        const transform = transformRange(c);
        // Small ranges, and ranges to transform, are read (pixel data of a small file goes by
        // the kernel: copy_file_range costs a syscall, a user-space copy two and page faults).
        if (c.length <= IN_KERNEL_FROM || (transform && c.length <= COPY_CHUNK)) {
          const range = Buffer.allocUnsafe(c.length);
          await readExactly(source, range, c.length, c.offset);
          transform?.(range);
          gathered.push(range);
        } else {
          await writeAll(out, gathered);
          gathered = [];
          await copyRange(source, out, c.offset, c.length, transform ? { transform } : {});
        }
      }
    }
    await writeAll(out, gathered);
  } finally {
    await source?.close();
  }
}

/** What a range needs on its way through: unused bits cleared (in the source's order), then words swapped. */
function transformRange(c: Exclude<Chunk, Buffer>): ((chunk: Buffer) => void) | undefined {
  const { mask, swap } = c;
  if (!mask && !swap) return undefined;
  return (chunk) => {
    if (mask) applyPixelMask(chunk, mask);
    if (swap) swapWordsInPlace(chunk, swap);
  };
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
    await createFileAtomically(target, (fh) => writeAll(fh, [header, deflateDataset(Buffer.concat(parts))]), 0o644, out.tmpDir);
    return;
  }
  await createFileAtomically(target, (fh) => writeChunks(fh, [header, ...chunks], out), 0o644, out.tmpDir);
}
