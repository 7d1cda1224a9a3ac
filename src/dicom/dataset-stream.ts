import { type FileHandle, open } from 'node:fs/promises';
import { COPY_CHUNK, readExactly } from '../fs/file-io.js';
import { asciiValue } from './dataset.js';
import { NeedMoreData, parseMetaGroup } from './parse.js';
import { applyPixelMask } from './pixel-bits.js';
import { readDicomFile } from './read-file.js';
import { Tags } from './tag.js';
import { EXPLICIT_BIG, EXPLICIT_LITTLE, IMPLICIT_LITTLE, sameEncoding, transferSyntaxFor } from './transfer-syntax.js';
import { type Chunk, deflateDataset, serializeDataset, swapWordsInPlace } from './write.js';

/**
 * What the sender needs to know about a Part 10 file before its association opens, and nothing
 * more: the file itself is read again when its turn comes, so a batch is never held in memory.
 */
export interface InstanceInfo {
  readonly path: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The file's own transfer syntax. */
  readonly ownSyntax: string;
  /** The syntaxes it can be sent in: its own first, then the other native ones it can be rewritten in. */
  readonly offered: readonly string[];
  /**
   * The bytes after the file meta are the data set in `ownSyntax` as they are: sent unchanged.
   * False for a mislabelled file (meta says explicit VR, the bytes are implicit), which is
   * rewritten in what its meta declares, as the outbox writer does.
   */
  readonly raw: boolean;
}

const NATIVE = [EXPLICIT_LITTLE, IMPLICIT_LITTLE, EXPLICIT_BIG];

/**
 * Reads a file's header (up to its pixel data) for its UIDs and syntax. Uncompressed data (and
 * deflated, which inflates to explicit VR little endian) can also be sent in the other native
 * syntaxes; compressed data only as it is: without a codec we do not decode.
 */
export async function describeInstance(path: string): Promise<InstanceInfo> {
  // holdWholeBelow 0: a header read only, whatever the file's size; the file is read again to send.
  const file = await readDicomFile(path, { holdWholeBelow: 0 });
  const own = file.transferSyntax.uid;
  const rewritable = NATIVE.includes(own) || file.transferSyntax.deflated;
  return {
    path,
    sopClassUid: asciiValue(file.dataset, Tags.SOPClassUID) ?? '',
    sopInstanceUid: asciiValue(file.dataset, Tags.SOPInstanceUID) ?? '',
    ownSyntax: own,
    offered: [own, ...(rewritable ? NATIVE.filter((u) => u !== own) : [])],
    raw: sameEncoding(file.encoding, file.transferSyntax),
  };
}

const isDicmAt = (buf: Buffer, at: number): boolean => buf.length >= at + 4 && buf.toString('latin1', at, at + 4) === 'DICM';

/**
 * Where the data set starts: after the preamble, 'DICM' and the meta group, located the way
 * read-file.ts's detectLayout does (it does not report the offset, and it is not ours to change).
 */
async function datasetStartOf(fh: FileHandle, size: number): Promise<number> {
  let wanted = Math.min(size, 64 * 1024);
  for (;;) {
    const buf = Buffer.allocUnsafe(wanted);
    await readExactly(fh, buf, wanted, 0);
    let metaStart: number;
    if (isDicmAt(buf, 128)) metaStart = 132;
    else if (isDicmAt(buf, 0)) metaStart = 4;
    else if (buf.length >= 2 && buf.readUInt16LE(0) === 0x0002) metaStart = 0;
    else return 0; // no meta group: the file is the data set
    try {
      return parseMetaGroup({ buf, base: 0, complete: wanted === size, streamBulk: true }, metaStart).next;
    } catch (e) {
      if (!(e instanceof NeedMoreData) || wanted === size) throw e;
      wanted = Math.min(size, wanted * 4);
    }
  }
}

/** `length` bytes at `offset` of the file, in fresh buffers of at most `chunkSize` (the socket keeps each until it is sent). */
async function* fileRange(fh: FileHandle, offset: number, length: number, chunkSize: number, transform?: (b: Buffer) => void): AsyncGenerator<Buffer> {
  for (let done = 0; done < length;) {
    const n = Math.min(chunkSize, length - done);
    const buf = Buffer.allocUnsafe(n);
    await readExactly(fh, buf, n, offset + done);
    transform?.(buf);
    yield buf;
    done += n;
  }
}

/** What a pixel range needs on its way out: unused bits cleared (in the source's order), then words swapped. */
function transformOf(c: Exclude<Chunk, Buffer>): ((b: Buffer) => void) | undefined {
  const { mask, swap } = c;
  if (!mask && !swap) return undefined;
  return (b) => {
    if (mask) applyPixelMask(b, mask);
    if (swap) swapWordsInPlace(b, swap);
  };
}

/**
 * The instance's data set (no file meta) in `syntaxUid`, read from its file as it is consumed.
 * In its own syntax the bytes after the meta go out as they are. In another native syntax the
 * header is rewritten in memory by our writer (headers are small) and the pixel data is read
 * from the file in chunks and byte-swapped on the way. Chunks are at most `chunkSize` (a multiple
 * of 8, so no word straddles two) except header bytes. Only a deflated data set, which read-file
 * inflates whole anyway (capped), is rewritten whole.
 */
export async function* datasetBytes(info: InstanceInfo, syntaxUid: string, chunkSize = COPY_CHUNK): AsyncGenerator<Buffer> {
  if (syntaxUid === info.ownSyntax && info.raw) {
    const fh = await open(info.path, 'r');
    try {
      const size = (await fh.stat()).size;
      const start = await datasetStartOf(fh, size);
      yield* fileRange(fh, start, size - start, chunkSize);
    } finally {
      await fh.close();
    }
    return;
  }
  if (!info.offered.includes(syntaxUid)) throw new Error(`[dicom:dimse] ${syntaxUid} is not a syntax this instance is offered in`);
  const file = await readDicomFile(info.path);
  const ts = transferSyntaxFor(syntaxUid);
  const chunks = serializeDataset(file.dataset, ts, file.encoding);
  if (ts.deflated) {
    yield deflateDataset(Buffer.concat(chunks.map((c) => {
      if (Buffer.isBuffer(c)) return c;
      throw new Error('[dicom:dimse] a deflated dataset has no streamed ranges');
    })));
    return;
  }
  let fh: FileHandle | undefined;
  try {
    for (const c of chunks) {
      if (Buffer.isBuffer(c)) {
        yield c;
        continue;
      }
      const transform = transformOf(c);
      if (file.bytes) {
        // A small file was read whole: its ranges are slices (copied when they are rewritten).
        const range = file.bytes.subarray(c.offset, c.offset + c.length);
        if (!transform) yield range;
        else {
          const copy = Buffer.from(range);
          transform(copy);
          yield copy;
        }
        continue;
      }
      fh ??= await open(info.path, 'r');
      yield* fileRange(fh, c.offset, c.length, chunkSize, transform);
    }
  } finally {
    await fh?.close();
  }
}
