import { loadCodecs } from './codecs.js';
import type { DecodedFrame } from './decode-frame.js';

/** The lossless syntaxes a cleaned image can be re-encoded in (PS3.5 A.4.2, A.4.3). */
export const LOSSLESS_SYNTAXES = {
  rle: '1.2.840.10008.1.2.5',
  'jpeg-ls': '1.2.840.10008.1.2.4.80',
} as const;
export type LosslessSyntax = keyof typeof LOSSLESS_SYNTAXES;

/** Encapsulated pixel data: the items stream after the element header (offset table, one fragment per frame, delimiter). */
export interface Encapsulated {
  readonly transferSyntaxUid: string;
  readonly items: Buffer;
}

const item = (tag: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(tag, 2);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
};

/**
 * Encodes decoded frames (interleaved, little endian) losslessly, one fragment per frame with a
 * Basic Offset Table, and proves it: each frame is decoded back and must equal its input byte for
 * byte, or undefined is returned (the codec drops bits it was not asked to keep: bits above Bits
 * Stored, a sign it does not carry; 32-bit samples). The caller then keeps the native pixels.
 */
export async function encodeLossless(frames: readonly DecodedFrame[], syntax: LosslessSyntax): Promise<Encapsulated | undefined> {
  const { Context, NativeCodecs } = await loadCodecs();
  const fragments: Buffer[] = [];
  for (const f of frames) {
    const geometry = {
      width: f.columns, height: f.rows, bitsAllocated: f.bitsAllocated, bitsStored: f.bitsStored, samplesPerPixel: f.samplesPerPixel,
      pixelRepresentation: f.pixelRepresentation, planarConfiguration: 0, photometricInterpretation: f.photometricInterpretation,
    };
    let encoded: Uint8Array | undefined;
    let decoded: Uint8Array | undefined;
    try {
      const ctx = new Context({ ...geometry, decodedBuffer: new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.length) });
      encoded = (syntax === 'rle' ? NativeCodecs.encodeRle(ctx) : NativeCodecs.encodeJpegLs(ctx, { lossy: false })).getEncodedBuffer();
      if (!encoded) return undefined;
      const back = new Context({ ...geometry, encodedBuffer: encoded });
      decoded = (syntax === 'rle' ? NativeCodecs.decodeRle(back) : NativeCodecs.decodeJpegLs(back)).getDecodedBuffer();
    } catch {
      return undefined;
    }
    if (!decoded || !Buffer.from(decoded.buffer, decoded.byteOffset, decoded.length).equals(f.data)) return undefined;
    const fragment = Buffer.from(encoded);
    // Items are of even length; a codestream is padded with one zero byte after its end.
    fragments.push(fragment.length % 2 === 0 ? fragment : Buffer.concat([fragment, Buffer.alloc(1)]));
  }
  const offsets = Buffer.alloc(4 * fragments.length);
  let at = 0;
  for (const [i, f] of fragments.entries()) {
    offsets.writeUInt32LE(at, i * 4);
    at += 8 + f.length;
  }
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return { transferSyntaxUid: LOSSLESS_SYNTAXES[syntax], items: Buffer.concat([item(0xe000, offsets), ...fragments.map((f) => item(0xe000, f)), delimiter]) };
}
