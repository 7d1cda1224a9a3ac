import { type TextLine, detectText } from './ocr-engine.js';
import type { DecodedFrame } from '../pixels/decode-frame.js';
import { hasChroma, normalizeForDetection } from '../pixels/normalize.js';

/**
 * What the recogniser must be sure of before a line counts as text: measured on the text corpus
 * (scripts/make-text-corpus.py) and the real images beside it, real overlays read at 0.78 and up;
 * at 0.5, two MR images' anatomy read as text too (5 of 77 clean images held instead of 3).
 */
const MIN_CONFIDENCE = 0.7;
const MIN_CHARACTERS = 2;

const counts = (l: TextLine): boolean => l.confidence >= MIN_CONFIDENCE && l.text.replace(/\s/g, '').length >= MIN_CHARACTERS;

/**
 * Text lines in one decoded frame. A colour frame is looked at twice, as max(R, G, B) and as
 * luma, since each hides what the other shows (white text on a saturated colour; coloured text
 * on a dark ground); the lines of both are kept.
 */
export async function textInFrame(frame: DecodedFrame): Promise<TextLine[]> {
  const lines = (await detectText(normalizeForDetection(frame))).filter(counts);
  if (hasChroma(frame)) lines.push(...(await detectText(normalizeForDetection(frame, { colour: 'luma' }))).filter(counts));
  return lines;
}
