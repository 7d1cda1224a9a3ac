import { type DataElement, asciiValue, valueOf } from '../dicom/dataset.js';
import { tagOf } from '../dicom/tag.js';

/** The Image Pixel module's description of the pixel data (PS3.3 C.7.6.3), as the file states it. */
export interface ImageGeometry {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  /** The stored bits are highBit − bitsStored + 1 … highBit of each word (PS3.5 8.1.1). */
  readonly highBit: number;
  readonly pixelRepresentation: 0 | 1;
  /** 0: interleaved (R1G1B1R2…); 1: planar (R…G…B…). Meaningful only with samplesPerPixel > 1. */
  readonly planarConfiguration: 0 | 1;
  readonly photometricInterpretation: string;
  readonly numberOfFrames: number;
  /** PALETTE COLOR only: the lookup from stored index to colour (PS3.3 C.7.6.3.1.5). */
  readonly palette?: Palette;
}

/** A palette: entries for indexes from `firstIndex`, each channel scaled to 0–255. */
export interface Palette {
  readonly firstIndex: number;
  readonly red: Uint8Array;
  readonly green: Uint8Array;
  readonly blue: Uint8Array;
}

export class PixelError extends Error {
  constructor(readonly code: 'no-pixels' | 'unsupported' | 'malformed' | 'truncated', message: string) {
    super(`[pixels] ${code}: ${message}`);
    this.name = 'PixelError';
  }
}

const T = {
  SamplesPerPixel: tagOf(0x0028, 0x0002),
  PhotometricInterpretation: tagOf(0x0028, 0x0004),
  PlanarConfiguration: tagOf(0x0028, 0x0006),
  NumberOfFrames: tagOf(0x0028, 0x0008),
  Rows: tagOf(0x0028, 0x0010),
  Columns: tagOf(0x0028, 0x0011),
  BitsAllocated: tagOf(0x0028, 0x0100),
  BitsStored: tagOf(0x0028, 0x0101),
  HighBit: tagOf(0x0028, 0x0102),
  PixelRepresentation: tagOf(0x0028, 0x0103),
} as const;

/** The colour photometric interpretations of PS3.3 C.7.6.3.1.2 (with 3 samples per pixel). */
const COLOUR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

/** The limits of what is decoded: a frame past them is not an image this service meets. */
const MAX_SIDE = 65_535;
const MAX_FRAMES = 1_000_000;
/** 1 GiB: a 16k × 16k RGBA-sized frame; whole-slide images are tiled far below it. */
const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/**
 * Reads the geometry from the dataset (US values in the dataset's byte order). Refuses what
 * cannot be decoded safely: missing or zero dimensions, unsupported bit depths, a photometric
 * interpretation that does not fit the samples.
 */
export function imageGeometryOf(dataset: readonly DataElement[], littleEndian: boolean): ImageGeometry {
  const us = (tag: number, name: string, fallback?: number): number => {
    const v = valueOf(dataset, tag);
    if (v === undefined || v.length < 2) {
      if (fallback !== undefined) return fallback;
      // Pixel data without its geometry cannot be shown clean: held, never taken for "no image".
      throw new PixelError('malformed', `no ${name}`);
    }
    return littleEndian ? v.readUInt16LE(0) : v.readUInt16BE(0);
  };
  const rows = us(T.Rows, 'Rows');
  const columns = us(T.Columns, 'Columns');
  const samplesPerPixel = us(T.SamplesPerPixel, 'Samples per Pixel', 1);
  const bitsAllocated = us(T.BitsAllocated, 'Bits Allocated');
  const bitsStored = us(T.BitsStored, 'Bits Stored', bitsAllocated);
  const highBit = us(T.HighBit, 'High Bit', bitsStored - 1);
  const pixelRepresentation = us(T.PixelRepresentation, 'Pixel Representation', 0);
  const planarConfiguration = us(T.PlanarConfiguration, 'Planar Configuration', 0);
  const photometricInterpretation = asciiValue(dataset, T.PhotometricInterpretation) ?? (samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB');
  const framesText = asciiValue(dataset, T.NumberOfFrames);
  const numberOfFrames = framesText === undefined || framesText === '' ? 1 : Number(framesText);

  if (rows === 0 || columns === 0 || rows > MAX_SIDE || columns > MAX_SIDE) throw new PixelError('unsupported', `an image of ${rows} × ${columns}`);
  // One decoded frame is held in memory: a header that asks for more is refused before any codec allocates it.
  if (rows * columns * samplesPerPixel * Math.max(1, bitsAllocated / 8) > MAX_FRAME_BYTES) throw new PixelError('unsupported', `a frame of ${rows} × ${columns} × ${samplesPerPixel} at ${bitsAllocated} bits`);
  if (!Number.isInteger(numberOfFrames) || numberOfFrames < 1 || numberOfFrames > MAX_FRAMES) throw new PixelError('malformed', 'Number of Frames is not a count');
  if (![1, 8, 16, 32].includes(bitsAllocated) || (bitsAllocated === 1 && samplesPerPixel !== 1)) throw new PixelError('unsupported', `Bits Allocated ${bitsAllocated}`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new PixelError('malformed', `Bits Stored ${bitsStored} with Bits Allocated ${bitsAllocated}`);
  if (highBit >= bitsAllocated || highBit + 1 < bitsStored) throw new PixelError('malformed', `High Bit ${highBit} with Bits Stored ${bitsStored} and Bits Allocated ${bitsAllocated}`);
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw new PixelError('unsupported', `Samples per Pixel ${samplesPerPixel}`);
  if (pixelRepresentation > 1 || planarConfiguration > 1) throw new PixelError('malformed', 'Pixel Representation or Planar Configuration out of range');
  const mono = photometricInterpretation === 'MONOCHROME1' || photometricInterpretation === 'MONOCHROME2' || photometricInterpretation === 'PALETTE COLOR';
  // Named by the tag, never by its value: a reason must not carry what the input wrote there.
  if (!mono && !COLOUR.has(photometricInterpretation)) throw new PixelError('unsupported', 'a Photometric Interpretation (0028,0004) that is not a standard one');
  if (mono !== (samplesPerPixel === 1)) throw new PixelError('malformed', `a Photometric Interpretation (0028,0004) that does not fit ${samplesPerPixel} samples per pixel`);
  const palette = photometricInterpretation === 'PALETTE COLOR' ? paletteOf(dataset, littleEndian) : undefined;
  return {
    ...(palette ? { palette } : {}),
    rows, columns, samplesPerPixel, bitsAllocated, bitsStored, highBit,
    pixelRepresentation: pixelRepresentation as 0 | 1, planarConfiguration: planarConfiguration as 0 | 1,
    photometricInterpretation, numberOfFrames,
  };
}

/** Bytes of one native frame as stored (YBR_FULL_422 holds two luma samples per chroma pair); 1-bit frames are bit-packed, see nativeFrameBits. */
export function nativeFrameBytes(g: ImageGeometry): number {
  if (g.bitsAllocated === 1) return Math.ceil(nativeFrameBits(g) / 8);
  const samples = g.photometricInterpretation === 'YBR_FULL_422' ? 2 * Math.ceil(g.columns / 2) * g.rows * 2 : g.rows * g.columns * g.samplesPerPixel;
  return samples * (g.bitsAllocated / 8);
}

/** Bits of one 1-bit frame: frames follow each other without padding (PS3.5 8.1.1), so a frame may start mid-byte. */
export const nativeFrameBits = (g: ImageGeometry): number => g.rows * g.columns;

/** Bytes of one decoded frame: every sample, interleaved (1-bit samples take a byte each). */
export const decodedFrameBytes = (g: ImageGeometry): number => g.rows * g.columns * g.samplesPerPixel * Math.max(1, g.bitsAllocated / 8);

/**
 * Reads the palette's three descriptors and LUT data (PS3.3 C.7.6.3.1.5-6): entries (0 meaning
 * 65,536), first index mapped, bits per entry (8 or 16; 8-bit entries may still be stored in 16-bit
 * words). Segmented palettes are not read: such a frame cannot be inspected, and says so.
 */
function paletteOf(dataset: readonly DataElement[], littleEndian: boolean): Palette {
  const channel = (descriptorTag: number, dataTag: number, name: string): { first: number; values: Uint8Array } => {
    const d = valueOf(dataset, descriptorTag);
    const data = valueOf(dataset, dataTag);
    if (!d || d.length < 6 || !data) throw new PixelError('unsupported', `PALETTE COLOR without a ${name} lookup table (segmented palettes are not read)`);
    const word = (b: Buffer, i: number): number => (littleEndian ? b.readUInt16LE(i * 2) : b.readUInt16BE(i * 2));
    const entries = word(d, 0) === 0 ? 65_536 : word(d, 0);
    const first = word(d, 1);
    const bits = word(d, 2);
    const values = new Uint8Array(entries);
    const wide = data.length >= entries * 2;
    if (!wide && data.length < entries) throw new PixelError('malformed', `a ${name} lookup table shorter than its descriptor`);
    for (let i = 0; i < entries; i++) {
      const v = wide ? word(data, i) : (data[i] as number);
      values[i] = bits > 8 ? v >> 8 : v & 0xff;
    }
    return { first, values };
  };
  const r = channel(tagOf(0x0028, 0x1101), tagOf(0x0028, 0x1201), 'red');
  const g = channel(tagOf(0x0028, 0x1102), tagOf(0x0028, 0x1202), 'green');
  const b = channel(tagOf(0x0028, 0x1103), tagOf(0x0028, 0x1203), 'blue');
  // The three tables describe one palette (PS3.3 C.7.6.3.1.5): descriptors that differ are not one.
  if (r.first !== g.first || r.first !== b.first || r.values.length !== g.values.length || r.values.length !== b.values.length) {
    throw new PixelError('malformed', 'palette lookup tables whose descriptors differ');
  }
  return { firstIndex: r.first, red: r.values, green: g.values, blue: b.values };
}
