import { kernelCopyAvailable } from '../fs/kernel-copy.js';
import { type FileHandle, open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { readExactly } from '../fs/file-io.js';
import { type DataElement, asciiValue } from './dataset.js';
import { DicomParseError, NeedMoreData, type ParseInput, parseMetaGroup, parseTopLevel } from './parse.js';
import { Tags, tagOf } from './tag.js';
import {
  EXPLICIT_BIG, EXPLICIT_LITTLE, type Encoding, IMPLICIT_LE, IMPLICIT_LITTLE, type TransferSyntax, transferSyntaxFor,
} from './transfer-syntax.js';
import { KNOWN_VRS } from './vr.js';

/** A DICOM file read up to its pixel data; the pixel bytes stay in the file as a byte range. */
export interface DicomFile {
  readonly sourcePath: string;
  /** The syntax the output is written in: the declared one, or the one sniffed when none was declared. */
  readonly transferSyntax: TransferSyntax;
  /**
   * How the dataset bytes were actually laid out. It differs from `transferSyntax` only for a
   * mislabelled input (meta says explicit VR, the bytes are implicit): values are read this way
   * and written back in `transferSyntax`, so the output's meta tells the truth.
   */
  readonly encoding: Encoding;
  /** The meta group as read; empty when the input had none. */
  readonly meta: readonly DataElement[];
  /** Every dataset element in order, top-level pixel data as a `bulk` range of `sourcePath`. */
  readonly dataset: readonly DataElement[];
  /** The whole file, when it was small enough to read in one go: `bulk` ranges index into it. */
  readonly bytes?: Buffer;
}

// Headers are rarely larger; a bigger first read would mostly re-read pixel data streamed later.
const FIRST_READ = 64 * 1024;
/** Elements after the pixel data are held in memory; more than this is not a real header. */
const MAX_TRAILING = 64 * 1024 * 1024;

export interface ReadOptions {
  /**
   * Read the whole file and hold pixel data in memory instead of as a byte range: for sending
   * an instance whole over the network, and for checking that the streamed path gives the same
   * result. De-identification never uses it.
   */
  readonly inMemory?: boolean;
  /**
   * Files up to this size are read with one read and kept as `bytes` (pixel data stays a range
   * into them): a small file then costs one read, not a header read and a pixel read. Larger
   * files are read up to their pixel data only. Default: 0 where the kernel copies (the pixel
   * data then never passes through user space: half the CPU of a 0.5 MB file), else 1 MiB.
   */
  readonly holdWholeBelow?: number;
  /**
   * A deflated data set is inflated in memory (it cannot be seeked); past this many bytes the file
   * is refused, so a small file made to inflate to gigabytes cannot exhaust memory. Default 256 MiB.
   */
  readonly maxInflatedBytes?: number;
}

export const DEFAULT_MAX_INFLATED = 256 * 1024 * 1024;

const HOLD_WHOLE_BELOW = kernelCopyAvailable ? 0 : 1024 * 1024;

export async function readDicomFile(path: string, options: ReadOptions = {}): Promise<DicomFile> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) throw new DicomParseError('empty', 'the file is empty');
    return await readOpen(fh, path, size, options);
  } finally {
    await fh.close();
  }
}

/**
 * Reads an already-open file (labelled `label` in `sourcePath`): for a caller that checked what it
 * opened (no link followed, a regular file) and must not open it again by name. Give a large
 * `holdWholeBelow` to keep the pixel data in memory too, so nothing reopens `label` later.
 */
export async function readDicomHandle(fh: FileHandle, label: string, options: ReadOptions = {}): Promise<DicomFile> {
  const size = (await fh.stat()).size;
  if (size === 0) throw new DicomParseError('empty', 'the file is empty');
  return readOpen(fh, label, size, options);
}

async function readRange(fh: FileHandle, start: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  try {
    await readExactly(fh, buf, length, start);
  } catch (e) {
    if (e instanceof RangeError) throw new DicomParseError('truncated', e.message);
    throw e;
  }
  return buf;
}

/** The start of the file: read once, shared by the parses, grown (x4) only when one runs out of bytes. */
class FilePrefix {
  private buf: Buffer | undefined;

  constructor(private readonly fh: FileHandle, private readonly size: number, private wanted: number) {}

  async parse<T>(streamBulk: boolean, parse: (input: ParseInput) => T): Promise<T> {
    for (;;) {
      if (!this.buf || this.buf.length < this.wanted) this.buf = await readRange(this.fh, 0, this.wanted);
      try {
        return parse({ buf: this.buf, base: 0, complete: this.wanted === this.size, streamBulk });
      } catch (e) {
        if (!(e instanceof NeedMoreData)) throw e;
        this.wanted = Math.min(this.size, this.wanted * 4);
      }
    }
  }

  /** The whole file, when it has been read whole. */
  get whole(): Buffer | undefined {
    return this.buf?.length === this.size ? this.buf : undefined;
  }
}

interface Layout {
  readonly meta: DataElement[];
  readonly datasetStart: number;
  readonly transferSyntax: TransferSyntax;
  readonly encoding: Encoding;
}

async function readOpen(fh: FileHandle, path: string, size: number, options: ReadOptions): Promise<DicomFile> {
  const inMemory = options.inMemory ?? false;
  const whole = inMemory || size <= (options.holdWholeBelow ?? HOLD_WHOLE_BELOW);
  const prefix = new FilePrefix(fh, size, whole ? size : Math.min(size, FIRST_READ));
  const layout = await prefix.parse(true, (input) => detectLayout(input, size));
  const ts = layout.transferSyntax;
  const enc = layout.encoding;
  const found = { sourcePath: path, transferSyntax: ts, encoding: enc, meta: layout.meta };
  if (ts.deflated) {
    const all = prefix.whole ?? await readRange(fh, 0, size);
    let inflated: Buffer;
    const cap = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED;
    try {
      // zlib stops at the cap instead of growing its output without bound.
      inflated = inflateRawSync(all.subarray(layout.datasetStart), { maxOutputLength: cap });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DicomParseError('unsupported', `the deflated dataset inflates to more than ${Math.round(cap / 1048576)} MiB (the limit)`, { cause });
      }
      throw new DicomParseError('malformed', 'the deflated dataset does not inflate', { cause });
    }
    const r = parseTopLevel({ buf: inflated, base: 0, complete: true, streamBulk: false }, 0, enc);
    return { ...found, dataset: r.elements };
  }
  if (inMemory) {
    const r = await prefix.parse(false, (input) => parseTopLevel(input, layout.datasetStart, enc));
    return { ...found, dataset: r.elements };
  }

  const head = await prefix.parse(true, (input) => parseTopLevel(input, layout.datasetStart, enc));
  // Only a file chosen to be held whole keeps its bytes (a small file read whole by its first
  // read does not), so `holdWholeBelow: 0` streams every range.
  const bytes = whole ? prefix.whole : undefined;
  const dataset = [...head.elements];
  if (head.stop.at === 'bulk') {
    const { tag, vr, valueOffset } = head.stop;
    const undefinedLength = head.stop.length === 'undefined';
    const end = undefinedLength ? await endOfFragments(fh, size, valueOffset, bytes) : valueOffset + (head.stop.length as number);
    if (end > size) throw new DicomParseError('truncated', `pixel data runs past the end of the file (${end} > ${size})`);
    dataset.push({ kind: 'bulk', tag, vr, offset: valueOffset, length: end - valueOffset, undefinedLength });
    if (end < size) {
      if (size - end > MAX_TRAILING) throw new DicomParseError('unsupported', `${size - end} bytes after the pixel data`);
      const buf = bytes ? bytes.subarray(end) : await readRange(fh, end, size - end);
      const tail = parseTopLevel({ buf, base: end, complete: true, streamBulk: false }, 0, enc);
      dataset.push(...tail.elements);
    }
  }
  return { ...found, dataset, ...(bytes ? { bytes } : {}) };
}

/** Walks the fragment item headers of encapsulated pixel data without reading the fragments. */
async function endOfFragments(fh: FileHandle, size: number, start: number, whole: Buffer | undefined): Promise<number> {
  let pos = start;
  for (;;) {
    if (pos + 8 > size) throw new DicomParseError('truncated', `encapsulated pixel data ends early at offset ${pos}`);
    const h = whole ? whole.subarray(pos, pos + 8) : await readRange(fh, pos, 8);
    const tag = tagOf(h.readUInt16LE(0), h.readUInt16LE(2));
    const length = h.readUInt32LE(4);
    pos += 8;
    if (tag === Tags.SequenceDelimitationItem) return pos;
    if (tag !== Tags.Item || length === 0xffffffff) throw new DicomParseError('malformed', `bad fragment item at offset ${pos - 8}`);
    pos += length;
  }
}

const isDicmAt = (buf: Buffer, at: number): boolean =>
  buf.length >= at + 4 && buf.toString('latin1', at, at + 4) === 'DICM';

function detectLayout(input: ParseInput, size: number): Layout {
  const buf = input.buf;
  let metaStart: number | undefined;
  if (isDicmAt(buf, 128)) metaStart = 132;
  else if (isDicmAt(buf, 0)) metaStart = 4; // preamble missing, prefix present
  else if (buf.length >= 2 && buf.readUInt16LE(0) === 0x0002) metaStart = 0; // meta without preamble

  let meta: DataElement[] = [];
  let datasetStart = 0;
  if (metaStart !== undefined) {
    const r = parseMetaGroup(input, metaStart);
    meta = r.elements;
    datasetStart = r.next;
  }
  if (datasetStart >= size) throw new DicomParseError('empty', 'no dataset after the file meta information');
  const declared = asciiValue(meta, Tags.TransferSyntaxUID);
  if (declared) {
    const ts = transferSyntaxFor(declared);
    // Writers that declare explicit VR and then write implicit VR exist: read what the bytes are,
    // write what the meta declares (values are re-encoded with their dictionary VRs).
    if (!ts.deflated && ts.explicitVR && ts.littleEndian && !hasVrAt(buf, datasetStart)) {
      return { meta, datasetStart, transferSyntax: ts, encoding: IMPLICIT_LE };
    }
    return { meta, datasetStart, transferSyntax: ts, encoding: ts };
  }
  const sniffed = transferSyntaxFor(sniffEncoding(buf, datasetStart, metaStart !== undefined));
  return { meta, datasetStart, transferSyntax: sniffed, encoding: sniffed };
}

const hasVrAt = (buf: Buffer, start: number): boolean =>
  buf.length >= start + 6 && KNOWN_VRS.has(buf.toString('latin1', start + 4, start + 6));

/** Guesses the encoding of a dataset that has no declared transfer syntax from its first element. */
function sniffEncoding(buf: Buffer, start: number, hadMeta: boolean): string {
  if (buf.length < start + 8) throw new DicomParseError(hadMeta ? 'truncated' : 'not-dicom', 'too short to hold a data element');
  const groupLE = buf.readUInt16LE(start);
  const groupBE = buf.readUInt16BE(start);
  const explicit = hasVrAt(buf, start);
  // Big endian shows as a low group number only when read big endian (0008 vs 0800).
  const bigEndian = explicit && groupBE < groupLE;
  // Without a meta group a dataset must start with a low group number (0008 in practice).
  const group = bigEndian ? groupBE : groupLE;
  if (!hadMeta && (group < 0x0002 || group > 0x0010)) {
    throw new DicomParseError('not-dicom', 'no DICM prefix and no recognisable data element');
  }
  if (bigEndian) return EXPLICIT_BIG;
  return explicit ? EXPLICIT_LITTLE : IMPLICIT_LITTLE;
}
