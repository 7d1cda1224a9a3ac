// QuickXorHash, the content hash OneDrive for Business and SharePoint report in
// `file.hashes.quickXorHash` (Microsoft's published algorithm, "QuickXorHash" code snippet of the
// OneDrive API docs). The hash is a 160-bit register: byte n of the input is XORed into it at bit
// (11 * n) mod 160, wrapping around the end; the 64-bit little-endian input length is then XORed
// into the register's last 8 bytes; the 20 bytes, little-endian, base64-encoded, are the value.
//
// Why this shape rather than a transcription of the C# reference: the bit position of byte n only
// depends on n mod 160, so the hot loop just XORs each byte into one of 160 accumulators (no shifts,
// no 64-bit cells, which JS lacks), and the accumulators are spread over the register once, at the
// end. The test checks it against a literal bit-by-bit reading of the definition and against
// published vectors.

import { open } from 'node:fs/promises';

const WIDTH_BITS = 160;
const SHIFT = 11;
const WIDTH_BYTES = WIDTH_BITS / 8;

export class QuickXorHash {
  /** acc[k]: XOR of every input byte at a position n with n mod 160 === k. */
  private readonly acc = new Uint8Array(WIDTH_BITS);
  private length = 0;

  update(data: Uint8Array): this {
    const acc = this.acc;
    let k = this.length % WIDTH_BITS;
    for (let i = 0; i < data.length; i++) {
      acc[k] = acc[k]! ^ data[i]!;
      k = k === WIDTH_BITS - 1 ? 0 : k + 1;
    }
    this.length += data.length;
    return this;
  }

  /** The 20 raw bytes. Does not change the state: more input may follow. */
  digestBytes(): Buffer {
    const out = Buffer.alloc(WIDTH_BYTES);
    for (let k = 0; k < WIDTH_BITS; k++) {
      const v = this.acc[k]!;
      if (v === 0) continue;
      const bit = (k * SHIFT) % WIDTH_BITS;
      const at = bit >> 3;
      const off = bit & 7;
      out[at] = out[at]! ^ ((v << off) & 0xff);
      // The byte straddles two register bytes (the last one wraps to the first).
      if (off !== 0) {
        const next = (at + 1) % WIDTH_BYTES;
        out[next] = out[next]! ^ (v >> (8 - off));
      }
    }
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(this.length));
    for (let i = 0; i < 8; i++) out[WIDTH_BYTES - 8 + i] = out[WIDTH_BYTES - 8 + i]! ^ len[i]!;
    return out;
  }

  /** Base64, as Graph reports it. */
  digest(): string {
    return this.digestBytes().toString('base64');
  }
}

/** The QuickXorHash of a local file, read in bounded chunks. */
export async function quickXorHashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = new QuickXorHash();
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest();
}
