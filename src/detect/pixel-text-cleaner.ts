import { type DataElement, type ValueElement, sortElements } from '../dicom/dataset.js';
import type { DicomFile } from '../dicom/read-file.js';
import { Tags, tagOf } from '../dicom/tag.js';
import { EXPLICIT_LITTLE, transferSyntaxFor } from '../dicom/transfer-syntax.js';
import type { DecodedFrame } from '../pixels/decode-frame.js';
import { type Rect, fillRects, paddedRect, ringFill } from '../pixels/blank-boxes.js';
import { type LosslessSyntax, encodeLossless } from '../pixels/encode-lossless.js';
import { embeddedOverlayPlan } from '../deid/embedded-overlays.js';
import { PixelError, decodedFrameBytes } from '../pixels/image-geometry.js';
import type { TextBox } from './detector.js';

/** Finds the text that must go in one frame (lines a detector would hold the image for). */
export type FindText = (frame: DecodedFrame) => Promise<readonly Rect[]>;

export interface CleanOptions {
  /** Re-encode the cleaned pixels losslessly in this syntax (default: native, explicit VR little endian). */
  readonly syntax?: LosslessSyntax;
  /** The text finder (default: the OCR, allow-listed lines left out); tests script it. */
  readonly find?: FindText;
}

export type CleanResult =
  /** `file` reads like the input with the cleaned pixels, native, written as explicit VR little endian. */
  | { readonly kind: 'cleaned'; readonly file: DicomFile; readonly boxes: readonly TextBox[]; readonly rounds: number }
  /** Why the image could not be cleaned and shown clean: it stays held. */
  | { readonly kind: 'refused'; readonly reason: string };

/** Rounds of blanking and looking again: one wide box can leave a few characters behind. */
export const MAX_ROUNDS = 3;
/** Every frame is looked at again after cleaning: more than this is no image to clean unattended. */
export const MAX_CLEAN_FRAMES = 64;
/** All frames are held decoded while they are cleaned (twice, as they are joined), beside the OCR's own ~0.5–0.9 GB. */
export const MAX_CLEAN_BYTES = 256 * 1024 * 1024;

/**
 * The photometric interpretation of the decoded samples, when the output can state it truthfully:
 * YBR_FULL_422 comes out of the decoders with its chroma repeated (YBR_FULL); JPEG 2000's
 * YBR_ICT and YBR_RCT are undone by its decoder (RGB).
 */
const DECODED_AS: Readonly<Record<string, string>> = {
  MONOCHROME1: 'MONOCHROME1', MONOCHROME2: 'MONOCHROME2', 'PALETTE COLOR': 'PALETTE COLOR',
  RGB: 'RGB', YBR_FULL: 'YBR_FULL', YBR_FULL_422: 'YBR_FULL', YBR_ICT: 'RGB', YBR_RCT: 'RGB',
};

const EXTENDED_OFFSET_TABLE = tagOf(0x7fe0, 0x0001);
const LOSSY_IMAGE_COMPRESSION = tagOf(0x0028, 0x2110);
/**
 * Syntaxes whose pixels may have been through lossy compression (JPEG baseline and extended,
 * JPEG-LS near-lossless, JPEG 2000 and HTJ2K that allow either): an output decoded from them
 * without Lossy Image Compression says 01 (PS3.3 C.7.6.1.1.5), the safe reading when it is unknown.
 */
const MAY_BE_LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.203']);
const EXTENDED_OFFSET_TABLE_LENGTHS = tagOf(0x7fe0, 0x0002);

const findText: FindText = async (frame) => {
  const [{ textInFrame }, { allowListed }] = await Promise.all([import('./pixel-text.js'), import('./pixel-text-detector.js')]);
  // Every box the detector draws counts here, whatever its confidence or length: what is left
  // after blanking is a fragment, read poorly by nature.
  return (await textInFrame(frame, { every: true })).filter((l) => !allowListed(l.text)).map((l) => l.box);
};

/**
 * Blanks the text found in an image: every box, padded, is filled with the ground around it (the
 * median of a thin ring outside it, see ringFill) in every frame (text drawn by a modality stays in place from frame to frame, and a frame the
 * detector did not sample gets the same treatment). Every frame is then looked at again; what is
 * still found is blanked in the next round, up to three. Only an image in which the last look
 * finds nothing comes back cleaned; every other case is refused, with a reason, and stays held.
 * Bytes outside the boxes are the decoded input's, unchanged.
 */
export async function cleanPixelText(file: DicomFile, boxes: readonly TextBox[], options: CleanOptions = {}): Promise<CleanResult> {
  const find = options.find ?? findText;
  if (!file.encoding.littleEndian) return { kind: 'refused', reason: 'big endian pixel data is not cleaned' };
  const { openPixelFrames } = await import('../pixels/decode-frame.js');
  let pixels;
  try {
    pixels = await openPixelFrames(file);
  } catch (e) {
    return { kind: 'refused', reason: `the pixels cannot be decoded for cleaning: ${e instanceof PixelError ? e.message : (e as Error).name}` };
  }
  const frames: DecodedFrame[] = [];
  try {
    const g = pixels.geometry;
    if (g.bitsAllocated === 1) return { kind: 'refused', reason: '1-bit pixel data is not cleaned' };
    const photometric = DECODED_AS[g.photometricInterpretation];
    if (!photometric) return { kind: 'refused', reason: 'pixels of this Photometric Interpretation (0028,0004) are not cleaned' };
    if (pixels.frameCount > MAX_CLEAN_FRAMES) return { kind: 'refused', reason: `${pixels.frameCount} frames: more than ${MAX_CLEAN_FRAMES} are not cleaned unattended` };
    if (pixels.frameCount * decodedFrameBytes(g) > MAX_CLEAN_BYTES) return { kind: 'refused', reason: 'the decoded frames are too large to clean in memory' };
    for (let i = 0; i < pixels.frameCount; i++) frames.push(await pixels.frame(i));

    const blanked: TextBox[] = [];
    let pending: TextBox[] = [...boxes];
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const rects = pending.map((b) => paddedRect(b, g.columns, g.rows));
      for (const frame of frames) for (const rect of rects) fillRects(frame, [rect], ringFill(frame, rect));
      blanked.push(...pending);
      pending = [];
      for (const [index, frame] of frames.entries()) {
        for (const r of await find(frame)) pending.push({ frame: index, ...r, confidence: 0 });
      }
      if (pending.length === 0) {
        const native = withPixels(file, frames, photometric);
        return { kind: 'cleaned', file: options.syntax ? await reencoded(native, frames, options.syntax) : native, boxes: blanked, rounds: round };
      }
    }
    return { kind: 'refused', reason: `text is still found after ${MAX_ROUNDS} rounds of cleaning` };
  } catch (e) {
    return { kind: 'refused', reason: `the pixels cannot be cleaned: ${e instanceof PixelError ? e.message : (e as Error).name}` };
  } finally {
    await pixels.close();
  }
}

const cs = (tag: number, text: string): ValueElement => {
  const value = Buffer.from(text.length % 2 === 0 ? text : `${text} `, 'latin1');
  return { kind: 'value', tag, vr: 'CS', value };
};

/**
 * The input with its pixel data replaced by the cleaned frames, native and interleaved, and the
 * attributes that describe them told the truth: the photometric interpretation of the decoded
 * samples, planar configuration 0, no extended offset table, and Burned In Annotation NO (the last
 * look found nothing). Written as explicit VR little endian whatever the input's syntax.
 */
function withPixels(file: DicomFile, frames: readonly DecodedFrame[], photometric: string): DicomFile {
  const first = frames[0] as DecodedFrame;
  const data = Buffer.concat(frames.map((f) => f.data));
  const value = data.length % 2 === 0 ? data : Buffer.concat([data, Buffer.alloc(1)]);
  const pixelData: ValueElement = { kind: 'value', tag: Tags.PixelData, vr: first.bitsAllocated > 8 ? 'OW' : 'OB', value };
  const replaced = new Map<number, DataElement>([
    [Tags.PixelData, pixelData],
    [tagOf(0x0028, 0x0004), cs(tagOf(0x0028, 0x0004), photometric)],
    [Tags.BurnedInAnnotation, cs(Tags.BurnedInAnnotation, 'NO')],
  ]);
  // Decoded from a syntax that may have lost detail: the native output says so, when the input did not.
  if (MAY_BE_LOSSY.has(file.transferSyntax.uid) && !file.dataset.some((e) => e.tag === LOSSY_IMAGE_COMPRESSION)) {
    replaced.set(LOSSY_IMAGE_COMPRESSION, cs(LOSSY_IMAGE_COMPRESSION, '01'));
  }
  if (first.samplesPerPixel > 1) {
    // US, in the input's byte order (little endian: big endian inputs are refused above).
    replaced.set(tagOf(0x0028, 0x0006), { kind: 'value', tag: tagOf(0x0028, 0x0006), vr: 'US', value: Buffer.from([0, 0]) });
  }
  const dataset = file.dataset
    .filter((e) => !replaced.has(e.tag) && e.tag !== EXTENDED_OFFSET_TABLE && e.tag !== EXTENDED_OFFSET_TABLE_LENGTHS)
    .concat([...replaced.values()]);
  return { ...file, transferSyntax: transferSyntaxFor(EXPLICIT_LITTLE), dataset: sortElements(dataset) };
}

/**
 * The cleaned file re-encoded losslessly, when the codec keeps every bit (proved by decoding it
 * back) and no overlay lives in the pixels' unused bits (those are cleared from native pixels
 * only); otherwise the native file, which is lossless too.
 */
async function reencoded(native: DicomFile, frames: readonly DecodedFrame[], syntax: LosslessSyntax): Promise<DicomFile> {
  if (embeddedOverlayPlan(native.dataset, native.encoding).kind !== 'none') return native;
  const encoded = await encodeLossless(frames, syntax);
  if (!encoded) return native;
  const dataset = native.dataset.map((e): DataElement => (e.tag === Tags.PixelData ? { kind: 'fragments', tag: e.tag, vr: 'OB', raw: encoded.items } : e));
  return { ...native, transferSyntax: transferSyntaxFor(encoded.transferSyntaxUid), dataset };
}
