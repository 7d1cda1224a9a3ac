/**
 * Which bits of native pixel data are written: the stored bits only. Bits outside them (above
 * High Bit, below the lowest stored bit) are where retired embedded overlays lived (60xx,0102
 * Overlay Bit Position with no Overlay Data): a drawn annotation, often a name. Clearing them
 * keeps every pixel value while the overlay goes. Signed values keep their sign: the bits above
 * High Bit are set to the sign bit, as a reader that ignores Bits Stored expects.
 */
export interface PixelMask {
  readonly bitsAllocated: 8 | 16 | 32;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
  /** The byte order of the bytes being masked (the source's). */
  readonly littleEndian: boolean;
}

/** Masks every sample of `buf` in place; `buf` starts on a sample boundary. */
export function applyPixelMask(buf: Buffer, m: PixelMask): void {
  const low = m.highBit - m.bitsStored + 1;
  const bits = m.bitsAllocated;
  const keep = bits === 32 ? (((2 ** m.bitsStored) - 1) * 2 ** low) >>> 0 : ((1 << m.bitsStored) - 1) << low;
  const full = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  const above = (full & ~(bits === 32 ? (2 ** (m.highBit + 1) - 1) >>> 0 : (1 << (m.highBit + 1)) - 1)) >>> 0;
  const signBit = bits === 32 ? 2 ** m.highBit : 1 << m.highBit;
  const fix = (v: number): number => {
    let out = (v & keep) >>> 0;
    if (m.signed && (v & signBit) !== 0) out = (out | above) >>> 0;
    return out;
  };
  const size = bits / 8;
  const n = Math.floor(buf.length / size);
  for (let i = 0; i < n; i++) {
    const at = i * size;
    if (bits === 8) buf[at] = fix(buf[at] ?? 0);
    else if (bits === 16) {
      if (m.littleEndian) buf.writeUInt16LE(fix(buf.readUInt16LE(at)), at);
      else buf.writeUInt16BE(fix(buf.readUInt16BE(at)), at);
    } else if (m.littleEndian) buf.writeUInt32LE(fix(buf.readUInt32LE(at)), at);
    else buf.writeUInt32BE(fix(buf.readUInt32BE(at)), at);
  }
}
