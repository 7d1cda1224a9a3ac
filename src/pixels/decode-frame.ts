import { open } from 'node:fs/promises';
import { type BulkElement } from '../dicom/dataset.js';
import type { DicomFile } from '../dicom/read-file.js';
import { Tags } from '../dicom/tag.js';
import { type Codecs, loadCodecs } from './codecs.js';
import { type ByteRange, type FrameStart, type ReadBytes, framesOf, j2kStart, jpegStart, readFragments } from './frame-index.js';
import { type ImageGeometry, PixelError, decodedFrameBytes, imageGeometryOf, nativeFrameBits, nativeFrameBytes } from './image-geometry.js';

/**
 * One decoded frame: every sample, interleaved (R G B R G B … for colour), in little-endian
 * words of `bitsAllocated` bits, as many samples as rows × columns × samplesPerPixel. Values are
 * the stored values (no rescale, no window); `photometricInterpretation` says what they are:
 * YBR_FULL_422 comes out as YBR_FULL (its chroma repeated), JPEG's YBR as the codec gives it.
 */
export interface DecodedFrame extends ImageGeometry {
  readonly data: Buffer;
}

/** The pixel data of one file, decoded one frame at a time: a large multi-frame never sits in memory whole. */
export interface PixelFrames {
  readonly geometry: ImageGeometry;
  readonly frameCount: number;
  frame(index: number): Promise<DecodedFrame>;
  close(): Promise<void>;
}

type Context = InstanceType<Codecs['Context']>;
type Decoder = (ctx: Context, native: Codecs['NativeCodecs']) => Context;

/** The codec for each encapsulated syntax (PS3.5 A.4), and how a frame's codestream starts. */
function codecFor(uid: string): { decode: Decoder; starts?: FrameStart } | undefined {
  switch (uid) {
    case '1.2.840.10008.1.2.5':
      return { decode: (c, n) => n.decodeRle(c) };
    case '1.2.840.10008.1.2.4.50': // baseline
    case '1.2.840.10008.1.2.4.51': // extended (12-bit)
    case '1.2.840.10008.1.2.4.57': // lossless
    case '1.2.840.10008.1.2.4.70': // lossless, first-order prediction
      return { decode: (c, n) => n.decodeJpeg(c, { convertColorspaceToRgb: false }), starts: jpegStart };
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      return { decode: (c, n) => n.decodeJpegLs(c), starts: jpegStart };
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      return { decode: (c, n) => n.decodeJpeg2000(c), starts: j2kStart };
    case '1.2.840.10008.1.2.4.201':
    case '1.2.840.10008.1.2.4.202':
    case '1.2.840.10008.1.2.4.203':
      return { decode: (c, n) => n.decodeHtJpeg2000(c), starts: j2kStart };
    default:
      return undefined;
  }
}

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);

/** Opens a file's pixel data for decoding; `file` comes from readDicomFile. */
export async function openPixelFrames(file: DicomFile): Promise<PixelFrames> {
  const element = file.dataset.find((e) => e.tag === Tags.PixelData);
  if (!element || (element.kind !== 'bulk' && element.kind !== 'value')) throw new PixelError('no-pixels', 'no Pixel Data');
  const geometry = imageGeometryOf(file.dataset, file.encoding.littleEndian);
  // A deflated data set is inflated in memory: its native pixel data is a value, not a range.
  const inMemory = element.kind === 'value' ? element.value : file.bytes;
  const pixels: BulkElement = element.kind === 'value' ? { kind: 'bulk', tag: element.tag, vr: element.vr, offset: 0, length: element.value.length, undefinedLength: false } : element;
  const fh = inMemory ? undefined : await open(file.sourcePath, 'r');
  const read: ReadBytes = async (offset, length) => {
    if (inMemory) {
      if (offset + length > inMemory.length) throw new PixelError('truncated', 'pixel data runs past the file');
      return inMemory.subarray(offset, offset + length);
    }
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await (fh as NonNullable<typeof fh>).read(buf, 0, length, offset);
    if (bytesRead < length) throw new PixelError('truncated', 'pixel data runs past the file');
    return buf;
  };
  const close = async (): Promise<void> => { await fh?.close(); };
  try {
    const uid = file.transferSyntax.uid;
    if (NATIVE.has(uid)) return nativeFrames(geometry, pixels, read, !file.encoding.littleEndian, close);
    const codec = codecFor(uid);
    // The UID only when it is one: the meta group is the input's, and a reason never carries its text.
    if (!codec) throw new PixelError('unsupported', `transfer syntax ${/^[0-9.]{1,64}$/.test(uid) ? uid : '(not a UID)'}`);
    if (!pixels.undefinedLength) throw new PixelError('malformed', 'encapsulated pixel data with a defined length');
    const { offsetTable, fragments } = await readFragments(read, pixels.offset, pixels.length);
    const frames = await framesOf(read, geometry.numberOfFrames, offsetTable, fragments, codec.starts);
    const { Context, NativeCodecs } = await loadCodecs();
    return {
      geometry, frameCount: frames.length, close,
      async frame(index) {
        const parts = frames[index];
        if (!parts) throw new RangeError(`frame ${index} of ${frames.length}`);
        // Compressed data larger than twice the decoded frame is no codestream of this frame.
        const encodedLength = parts.reduce((n: number, p: ByteRange) => n + p.length, 0);
        if (encodedLength > 2 * decodedFrameBytes(geometry) + 65_536) throw new PixelError('malformed', `frame ${index} has ${encodedLength} encoded bytes for ${decodedFrameBytes(geometry)} decoded`);
        const encoded = Buffer.concat(await Promise.all(parts.map((p: ByteRange) => read(p.offset, p.length))));
        const ctx = new Context({
          width: geometry.columns, height: geometry.rows, bitsAllocated: geometry.bitsAllocated, bitsStored: geometry.bitsStored,
          samplesPerPixel: geometry.samplesPerPixel, pixelRepresentation: geometry.pixelRepresentation,
          planarConfiguration: geometry.planarConfiguration, photometricInterpretation: geometry.photometricInterpretation,
          encodedBuffer: new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.length),
        });
        let decoded: Uint8Array | undefined;
        try {
          decoded = codec.decode(ctx, NativeCodecs).getDecodedBuffer();
        } catch (e) {
          // The codec's message is left out: it may quote the codestream's own bytes.
          throw new PixelError('malformed', `frame ${index} does not decode (${(e as Error).name})`);
        }
        const expected = decodedFrameBytes(geometry);
        // Exactly the header's size: a codestream of other dimensions would show (or hide) another picture.
        if (!decoded || decoded.length !== expected) throw new PixelError('malformed', `frame ${index} decodes to ${decoded?.length ?? 0} bytes, not ${expected}`);
        // A view of the codec's memory until copied (interleave makes a new buffer itself).
        const decodedView = Buffer.from(decoded.buffer, decoded.byteOffset, expected);
        let data = decodedView;
        // The codecs hand colour back as the Planar Configuration says (RLE's segments are planes
        // whatever it says, and come back planar only when it says 1).
        if (geometry.samplesPerPixel === 3 && geometry.planarConfiguration === 1) data = interleave(data, geometry);
        return { ...geometry, planarConfiguration: 0, data: data === decodedView ? Buffer.from(data) : data };
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function nativeFrames(g: ImageGeometry, pixels: BulkElement, read: ReadBytes, bigEndian: boolean, close: () => Promise<void>): PixelFrames {
  if (g.bitsAllocated === 1) return bitFrames(g, pixels, read, close);
  const frameBytes = nativeFrameBytes(g);
  if (pixels.length < frameBytes * g.numberOfFrames) throw new PixelError('truncated', `pixel data of ${pixels.length} bytes for ${g.numberOfFrames} frames of ${frameBytes}`);
  // More than the declared frames (and a pad byte) is pixel data nobody looks at that would still
  // ship: frames hidden past Number of Frames. Held, not passed.
  if (pixels.length > frameBytes * g.numberOfFrames + 1) throw new PixelError('malformed', `pixel data of ${pixels.length} bytes is longer than ${g.numberOfFrames} frames of ${frameBytes}`);
  return {
    geometry: g, frameCount: g.numberOfFrames, close,
    async frame(index) {
      if (index < 0 || index >= g.numberOfFrames) throw new RangeError(`frame ${index} of ${g.numberOfFrames}`);
      const start = index * frameBytes;
      let data: Buffer;
      if (bigEndian && (g.bitsAllocated > 8 || pixels.vr === 'OW')) {
        // Words are swapped as they were written (OW: 16-bit words, even for 8-bit samples).
        const word = g.bitsAllocated === 32 ? 4 : 2;
        const from = start - (start % word);
        const span = Buffer.from(await read(pixels.offset + from, Math.ceil((start + frameBytes - from) / word) * word));
        if (word === 4) span.swap32(); else span.swap16();
        data = span.subarray(start - from, start - from + frameBytes);
      } else {
        data = Buffer.from(await read(pixels.offset + start, frameBytes));
      }
      if (g.photometricInterpretation === 'YBR_FULL_422') return { ...g, photometricInterpretation: 'YBR_FULL', planarConfiguration: 0, data: expand422(data, g) };
      if (g.samplesPerPixel === 3 && g.planarConfiguration === 1) data = interleave(data, g);
      return { ...g, planarConfiguration: 0, data };
    },
  };
}

/**
 * 1-bit frames (segmentations, overlays stored as images): bit-packed, least significant bit
 * first, frames back to back (PS3.5 8.1.1; the same in either byte order, since OB is not
 * swapped). Each sample comes out as a byte, 0 or 1.
 */
function bitFrames(g: ImageGeometry, pixels: BulkElement, read: ReadBytes, close: () => Promise<void>): PixelFrames {
  const bits = nativeFrameBits(g);
  if (pixels.length * 8 < bits * g.numberOfFrames) throw new PixelError('truncated', 'bit-packed pixel data shorter than its frames');
  return {
    geometry: g, frameCount: g.numberOfFrames, close,
    async frame(index) {
      if (index < 0 || index >= g.numberOfFrames) throw new RangeError(`frame ${index} of ${g.numberOfFrames}`);
      const first = index * bits;
      const from = Math.floor(first / 8);
      const packed = await read(pixels.offset + from, Math.ceil((first + bits) / 8) - from);
      const out = Buffer.allocUnsafe(bits);
      for (let i = 0; i < bits; i++) {
        const b = first + i - from * 8;
        out[i] = ((packed[b >> 3] as number) >> (b & 7)) & 1;
      }
      return { ...g, bitsAllocated: 8, bitsStored: 1, highBit: 0, data: out };
    },
  };
}

/** Planes (R… G… B…) to interleaved samples (R G B …). */
function interleave(planes: Buffer, g: ImageGeometry): Buffer {
  const bytes = g.bitsAllocated / 8;
  const pixels = g.rows * g.columns;
  const out = Buffer.allocUnsafe(pixels * 3 * bytes);
  for (let s = 0; s < 3; s++) {
    for (let p = 0; p < pixels; p++) planes.copy(out, (p * 3 + s) * bytes, (s * pixels + p) * bytes, (s * pixels + p + 1) * bytes);
  }
  return out;
}

/** YBR_FULL_422 (Y1 Y2 Cb Cr per pair of pixels in a row, PS3.3 C.7.6.3.1.2) to YBR_FULL, 8-bit. */
function expand422(data: Buffer, g: ImageGeometry): Buffer {
  if (g.bitsAllocated !== 8) throw new PixelError('unsupported', `YBR_FULL_422 with ${g.bitsAllocated} bits`);
  const out = Buffer.allocUnsafe(g.rows * g.columns * 3);
  const pairs = Math.ceil(g.columns / 2);
  for (let r = 0; r < g.rows; r++) {
    for (let p = 0; p < pairs; p++) {
      const i = (r * pairs + p) * 4;
      const [y1, y2, cb, cr] = [data[i] as number, data[i + 1] as number, data[i + 2] as number, data[i + 3] as number];
      const o = (r * g.columns + p * 2) * 3;
      out[o] = y1; out[o + 1] = cb; out[o + 2] = cr;
      if (p * 2 + 1 < g.columns) { out[o + 3] = y2; out[o + 4] = cb; out[o + 5] = cr; }
    }
  }
  return out;
}
