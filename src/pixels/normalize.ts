import type { DecodedFrame } from './decode-frame.js';

/**
 * One frame made ready for a text detector: 8-bit grey, bright text likely, at a size the
 * detector reads well. Burned-in text is often drawn at full scale (white on a CT, whatever the
 * stored window), so the window is taken from the frame's own values, not from the header.
 */
export interface DetectorImage {
  readonly width: number;
  readonly height: number;
  /** width × height grey levels, row by row. */
  readonly grey: Buffer;
  /** The frame's pixel at (x, y) is at (x × scale, y × scale) here; padding is to the right and below. */
  readonly scale: number;
  /** The frame's own size, before scaling and padding. */
  readonly frameWidth: number;
  readonly frameHeight: number;
}

export interface NormalizeOptions {
  /** Scale small frames up so the longest side is about this (default 1024), by at most `maxUpscale` (default 3). */
  readonly targetLongSide?: number;
  readonly maxUpscale?: number;
  /** Width and height padded to a multiple of this (default 32), as the detector's network wants. */
  readonly padTo?: number;
  /** Percentiles of the window (default 0.5 and 99.5). */
  readonly lowPercentile?: number;
  readonly highPercentile?: number;
  /**
   * How colour becomes grey: 'max' (default), max(R, G, B), so text of any colour stands out
   * on a dark ground; 'luma' (BT.601), which keeps white text visible on a saturated colour,
   * where max(R, G, B) is white too. A detector looks at both when the frame has colour.
   */
  readonly colour?: 'max' | 'luma';
}

/** The frame's values as numbers, Bits Stored and the sign applied (the bits above them ignored). */
function storedValues(f: DecodedFrame): Float64Array | Uint8Array {
  if (f.bitsAllocated === 8 && f.bitsStored === 8 && f.highBit === 7 && f.pixelRepresentation === 0) return f.data;
  const n = f.data.length / (f.bitsAllocated / 8);
  const out = new Float64Array(n);
  // The stored bits end at High Bit: shifted down, then masked (or sign-extended).
  const low = f.highBit + 1 - f.bitsStored;
  const shift = 32 - f.bitsStored;
  const mask = f.bitsStored >= 32 ? 0xffffffff : 2 ** f.bitsStored - 1;
  for (let i = 0; i < n; i++) {
    const word = f.bitsAllocated === 8 ? (f.data[i] as number) : f.bitsAllocated === 16 ? f.data.readUInt16LE(i * 2) : f.data.readUInt32LE(i * 4);
    const raw = Math.floor(word / 2 ** low);
    out[i] = f.pixelRepresentation === 1 ? (raw << shift) >> shift : (raw & mask) >>> 0;
  }
  return out;
}

/** YBR_FULL (JPEG's full-range YCbCr, PS3.3 C.7.6.3.1.2) to RGB, one sample at a time. */
const ybrToRgb = (y: number, cb: number, cr: number): [number, number, number] => [
  y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), y + 1.772 * (cb - 128),
];

/** One value per pixel: grey as stored; colour as max(R, G, B) or its luma (see NormalizeOptions.colour). */
function onePerPixel(f: DecodedFrame, colour: 'max' | 'luma'): Float64Array | Uint8Array {
  const values = storedValues(f);
  const pixels = f.rows * f.columns;
  if (f.palette) {
    // Indexes mean nothing by themselves: text is a colour of the palette, often a grey index.
    const { firstIndex, red, green, blue } = f.palette;
    const out = new Float64Array(pixels);
    const last = red.length - 1;
    for (let p = 0; p < pixels; p++) {
      const i = Math.min(last, Math.max(0, (values[p] as number) - firstIndex));
      const [r, g, b] = [red[i] as number, green[i] as number, blue[i] as number];
      out[p] = colour === 'max' ? Math.max(r, g, b) : 0.299 * r + 0.587 * g + 0.114 * b;
    }
    return out;
  }
  if (f.samplesPerPixel === 1) return values;
  const out = new Float64Array(pixels);
  const ybr = isYbr(f.photometricInterpretation);
  for (let p = 0; p < pixels; p++) {
    const [a, b, c] = [values[p * 3] as number, values[p * 3 + 1] as number, values[p * 3 + 2] as number];
    const [r, g, bl] = ybr ? ybrToRgb(a, b, c) : [a, b, c];
    out[p] = colour === 'max' ? Math.max(r, g, bl) : 0.299 * r + 0.587 * g + 0.114 * bl;
  }
  return out;
}

/**
 * YBR_FULL (and YBR_FULL_422, expanded by the decoder) and YBR_PARTIAL_* are YCbCr samples. Not
 * YBR_ICT and YBR_RCT: JPEG 2000's colour transforms, which its decoder undoes (the samples are RGB).
 */
const isYbr = (pi: string): boolean => pi.startsWith('YBR') && pi !== 'YBR_ICT' && pi !== 'YBR_RCT';

/** Whether a frame has any colour at all (ultrasound is often grey stored as RGB, or a grey palette). */
export function hasChroma(f: DecodedFrame): boolean {
  if (f.palette) return f.palette.red.some((r, i) => r !== f.palette?.green[i] || r !== f.palette?.blue[i]);
  if (f.samplesPerPixel !== 3) return false;
  const ybr = isYbr(f.photometricInterpretation);
  const bytes = f.bitsAllocated / 8;
  const n = f.rows * f.columns;
  const at = (i: number): number => (bytes === 1 ? (f.data[i] as number) : bytes === 2 ? f.data.readUInt16LE(i * 2) : f.data.readUInt32LE(i * 4));
  for (let i = 0; i < n * 3; i += 3) {
    if (ybr ? at(i + 1) !== 128 || at(i + 2) !== 128 : at(i) !== at(i + 1) || at(i + 1) !== at(i + 2)) return true;
  }
  return false;
}

/** The value at each percentile, from a histogram of up to 65,536 bins over the value range. */
function percentiles(values: Float64Array | Uint8Array, low: number, high: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  if (!(max > min)) return [min, min];
  const bins = Math.min(65_536, Math.floor(max - min) + 1);
  const width = (max - min) / (bins - 1);
  const counts = new Uint32Array(bins);
  for (const v of values) counts[Math.round((v - min) / width)]! += 1;
  const at = (q: number): number => {
    const target = (q / 100) * values.length;
    let seen = 0;
    for (let b = 0; b < bins; b++) {
      seen += counts[b] as number;
      if (seen >= target) return min + b * width;
    }
    return max;
  };
  return [at(low), at(high)];
}

/**
 * Normalises a decoded frame for detection: Bits Stored and sign applied, colour reduced to
 * max(R, G, B) (YBR converted first), windowed to its own 0.5–99.5 percentile range (values
 * beyond it clipped, which keeps full-scale text white), MONOCHROME1 inverted, scaled up (nearest
 * neighbour, whole factors only, so pixel edges stay sharp) and padded with black.
 */
export function normalizeForDetection(f: DecodedFrame, options: NormalizeOptions = {}): DetectorImage {
  const values = onePerPixel(f, options.colour ?? 'max');
  let [lo, hi] = percentiles(values, options.lowPercentile ?? 0.5, options.highPercentile ?? 99.5);
  // A flat ground (a screen save, a blank film) fills the percentiles: text under 0.5 % of the
  // pixels would be clipped away with it. Then the full range is the window.
  if (!(hi > lo)) [lo, hi] = percentiles(values, 0, 100);
  const invert = f.photometricInterpretation === 'MONOCHROME1';
  const span = hi - lo;
  const long = Math.max(f.columns, f.rows);
  const scale = Math.max(1, Math.min(options.maxUpscale ?? 3, Math.floor((options.targetLongSide ?? 1024) / long)));
  const pad = options.padTo ?? 32;
  const width = Math.ceil((f.columns * scale) / pad) * pad;
  const height = Math.ceil((f.rows * scale) / pad) * pad;
  const grey = Buffer.alloc(width * height);
  for (let y = 0; y < f.rows; y++) {
    for (let x = 0; x < f.columns; x++) {
      const v = values[y * f.columns + x] as number;
      let g = span > 0 ? Math.round(((Math.min(hi, Math.max(lo, v)) - lo) / span) * 255) : 0;
      if (invert) g = 255 - g;
      for (let dy = 0; dy < scale; dy++) grey.fill(g, (y * scale + dy) * width + x * scale, (y * scale + dy) * width + (x + 1) * scale);
    }
  }
  return { width, height, grey, scale, frameWidth: f.columns, frameHeight: f.rows };
}
