import { cjsDefault } from '../cjs-default.js';
import type { TextBox } from '../detect/detector.js';
import { DicomParseError } from '../dicom/parse.js';
import { type DicomFile, readDicomFile } from '../dicom/read-file.js';
import { openPixelFrames } from '../pixels/decode-frame.js';
import { PixelError } from '../pixels/image-geometry.js';
import { normalizeForDetection } from '../pixels/normalize.js';
import { ReviewError } from './quarantine-items.js';

export interface RenderOptions {
  /** 0-based (default 0). */
  readonly frame?: number;
  /** Scaled down (never up) to at most this width, the boxes with it. */
  readonly maxWidth?: number;
}

export interface RenderedFrame {
  readonly png: Buffer;
  readonly frame: number;
  /** Every frame can be browsed: 0 … frameCount − 1. */
  readonly frameCount: number;
  /** The PNG's size, and the frame's own. */
  readonly width: number;
  readonly height: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** PNG pixels per frame pixel (1 unless scaled down). */
  readonly scale: number;
  /** Boxes of this frame drawn over it. */
  readonly boxesDrawn: number;
}

/** The outline's colour: a grey image has no pure red, so an outline never hides in it. */
export const BOX_COLOUR = '#ff0000';
const MAX_RENDER_WIDTH = 4096;

/**
 * Renders one frame of a DICOM file to PNG for the reviewer: windowed as the OCR sees it
 * (normalizeForDetection: stored bits and sign applied, the frame's own 0.5–99.5 percentile
 * window, MONOCHROME1 inverted, colour as its luma), at its own size or scaled down to
 * `maxWidth`, with `boxes` of that frame drawn as outlines (just outside the box, so the text
 * under it stays visible). The boxes are the detector's or a reviewer's adjusted ones.
 */
export async function renderFrame(path: string, boxes: readonly TextBox[], options: RenderOptions = {}): Promise<RenderedFrame> {
  const index = options.frame ?? 0;
  if (!Number.isInteger(index) || index < 0) throw new ReviewError('bad-frame', 'a frame is a whole number from 0');
  const file = await readDicomFile(path).catch((e: unknown) => {
    if (e instanceof DicomParseError) throw new ReviewError('unrenderable', `the file cannot be read: ${e.message}`);
    throw e;
  });
  return renderDicomFrame(file, boxes, options);
}

/** renderFrame for a file already read (QA reads its outputs itself, checked, and held in memory). */
export async function renderDicomFrame(file: DicomFile, boxes: readonly TextBox[], options: RenderOptions = {}): Promise<RenderedFrame> {
  const index = options.frame ?? 0;
  // Imported on first use: the agent that never renders carries no image library.
  const sharp = cjsDefault(await import('sharp'));
  if (!Number.isInteger(index) || index < 0) throw new ReviewError('bad-frame', 'a frame is a whole number from 0');
  let pixels;
  try {
    pixels = await openPixelFrames(file);
  } catch (e) {
    throw new ReviewError('unrenderable', `the image cannot be rendered: ${e instanceof PixelError ? e.message : (e as Error).name}`);
  }
  try {
    if (index >= pixels.frameCount) throw new ReviewError('bad-frame', `frame ${index} of ${pixels.frameCount}`);
    const frame = await pixels.frame(index).catch((e: unknown) => {
      throw new ReviewError('unrenderable', `the frame cannot be decoded: ${e instanceof PixelError ? e.message : (e as Error).name}`);
    });
    const grey = normalizeForDetection(frame, { maxUpscale: 1, padTo: 1, colour: 'luma' });
    const fw = frame.columns;
    const fh = frame.rows;
    const maxWidth = Math.min(MAX_RENDER_WIDTH, options.maxWidth ?? MAX_RENDER_WIDTH);
    const scale = Math.min(1, Math.max(1, Math.floor(maxWidth)) / fw);
    const width = Math.max(1, Math.round(fw * scale));
    const height = Math.max(1, Math.round(fh * scale));
    const base = await sharp(grey.grey, { raw: { width: grey.width, height: grey.height, channels: 1 } })
      .resize(width, height, { fit: 'fill', kernel: scale < 1 ? 'lanczos3' : 'nearest' })
      .toColourspace('srgb').raw().toBuffer();
    const mine = boxes.filter((b) => b.frame === index);
    const overlay = outlines(mine, scale, width, height);
    const png = await sharp(base, { raw: { width, height, channels: 3 } })
      .composite(mine.length > 0 ? [{ input: Buffer.from(overlay), top: 0, left: 0 }] : [])
      .png().toBuffer();
    return { png, frame: index, frameCount: pixels.frameCount, width, height, frameWidth: fw, frameHeight: fh, scale, boxesDrawn: mine.length };
  } finally {
    await pixels.close();
  }
}

/** An SVG of the boxes' outlines at the rendered size: a 2-pixel line just outside each box. */
function outlines(boxes: readonly TextBox[], scale: number, width: number, height: number): string {
  const rects = boxes.map((b) => {
    const x = b.x * scale - 2;
    const y = b.y * scale - 2;
    return `<rect x="${x + 1}" y="${y + 1}" width="${Math.max(0, b.width * scale + 2)}" height="${Math.max(0, b.height * scale + 2)}" fill="none" stroke="${BOX_COLOUR}" stroke-width="2" shape-rendering="crispEdges"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects.join('')}</svg>`;
}

export interface FrameInfo {
  /** 0 without pixel data (or pixels that cannot be opened). */
  readonly frameCount: number;
  readonly columns: number;
  readonly rows: number;
}

/** How many frames a file's pixel data has, and their size (for browsing and laying out), without decoding any. */
export async function frameInfoOf(path: string): Promise<FrameInfo> {
  const file = await readDicomFile(path).catch((e: unknown) => {
    if (e instanceof DicomParseError) return undefined;
    throw e;
  });
  return file ? frameInfoOfFile(file) : { frameCount: 0, columns: 0, rows: 0 };
}

/** frameInfoOf for a file already read. */
export async function frameInfoOfFile(file: DicomFile): Promise<FrameInfo> {
  try {
    const pixels = await openPixelFrames(file);
    await pixels.close();
    return { frameCount: pixels.frameCount, columns: pixels.geometry.columns, rows: pixels.geometry.rows };
  } catch (e) {
    if (e instanceof PixelError || e instanceof DicomParseError) return { frameCount: 0, columns: 0, rows: 0 };
    throw e;
  }
}
