import { type DataElement, valueOf } from '../dicom/dataset.js';
import type { DicomFile } from '../dicom/read-file.js';
import { Tags, tagOf } from '../dicom/tag.js';
import { PixelError } from '../pixels/image-geometry.js';
import type { Detector, Finding, InstanceFacts } from './detector.js';
import type { TextLine } from './ocr-engine.js';

/**
 * The decoders and the OCR, imported when an image is first looked at: a worker thread of a
 * project that looks at no pixels (or an image the policy leaves to the header) carries none of it.
 */
const looking = async () => {
  const [{ openPixelFrames }, { textInFrame }] = await Promise.all([import('../pixels/decode-frame.js'), import('./pixel-text.js')]);
  return { openPixelFrames, textInFrame };
};

/** How a project treats one kind of image: look at its pixels, or trust the header rules alone. */
export type InspectMode = 'all' | 'header';

export interface PixelPolicy {
  /** By modality (CR, DX, …) or SOP Class UID prefix; what is not listed follows `otherwise`. */
  readonly inspect: Readonly<Record<string, InspectMode>>;
  readonly otherwise: InspectMode;
  /**
   * What found text does: 'quarantine' holds the image for review; 'clean' blanks the text in
   * every frame, looks again (up to three rounds) and releases the image only when nothing is
   * left, holding it otherwise (src/detect/pixel-text-cleaner.ts).
   */
  readonly onText: 'quarantine' | 'clean';
}

/**
 * The default: look at every image of the kinds that carry burned-in text (projection and
 * fluoroscopy, ultrasound, mammography, endoscopy and photographs, secondary captures). CT, MR,
 * PT and NM follow the header rules: text in their cross-sections is rare and comes with
 * workstation screen saves (secondary capture, ImageType SCREEN SAVE), which are looked at.
 * A project may set any of them to 'all'.
 */
export const DEFAULT_PIXEL_POLICY: PixelPolicy = {
  inspect: Object.fromEntries([
    ...['CT', 'MR', 'PT', 'NM', 'SEG'].map((m) => [m, 'header' as const]),
    ['1.2.840.10008.5.1.4.1.1.7', 'all' as const], // secondary capture, every class, whatever its modality
  ]),
  // Whatever is not named is looked at: a modality spelled otherwise (XR, RG, none) is no reason to trust it.
  otherwise: 'all',
  onText: 'quarantine',
};

/** Images of up to this many frames have every frame looked at. */
const EVERY_FRAME_UP_TO = 16;
/** At most this many frames of one image are looked at (a file of a million tiny frames is no reason to spend hours). */
const MAX_SAMPLED_FRAMES = 64;

/**
 * Frames looked at: every one of up to 16 frames; of more, the first, the middle, the last and
 * every 10th (evenly fewer past 64 in all).
 */
export function sampledFrames(count: number): number[] {
  if (count <= EVERY_FRAME_UP_TO) return Array.from({ length: count }, (_, i) => i);
  const picked = new Set([0, Math.floor(count / 2), count - 1]);
  const step = Math.max(10, Math.ceil(count / (MAX_SAMPLED_FRAMES - 3)));
  for (let i = step; i < count; i += step) picked.add(i);
  return [...picked].sort((a, b) => a - b);
}

export function modeFor(policy: PixelPolicy, facts: InstanceFacts): InspectMode {
  // A UID prefix matches whole components only (…1.1.1 is not a prefix of …1.1.12.1).
  const bySop = Object.entries(policy.inspect)
    .filter(([k]) => k.includes('.') && (facts.sopClassUid === k || facts.sopClassUid.startsWith(`${k}.`)))
    .sort(([a], [b]) => b.length - a.length)[0];
  if (bySop) return bySop[1];
  return policy.inspect[facts.modality] ?? policy.otherwise;
}

/**
 * What need not hold an image: one side or orientation marker or view, or one short scale number
 * with or without its unit. Only a line that is exactly one of these: runs of numbers ("12 05 80")
 * are dates and record numbers.
 */
const MARKER = /^(L|R|A|P|H|F|S|I|AP|PA|LAT|LL|RL|RAO|LAO|SUP|INF|ANT|POST)$/;
const SCALE = /^\d{1,3}([.,]\d+)?\s?(CM|MM)?$/;
export const allowListed = (line: string): boolean => {
  const t = line.toUpperCase().trim();
  return MARKER.test(t) || SCALE.test(t);
};

/** An image whose pixels cannot be decoded cannot be shown clean: held, with our error or the error's name. */
const unreadable = (e: unknown): Finding =>
  ({ detector: 'pixel-text', rule: 'pixels-unreadable', reason: `the pixels cannot be inspected: ${e instanceof PixelError ? e.message : (e as Error).name}` });

/** The header's identifiers, as the letters and digits an overlay would show. */
function identifiers(dataset: readonly DataElement[]): string[] {
  const text = (tag: number): string => valueOf(dataset, tag)?.toString('latin1') ?? '';
  const name = text(Tags.PatientName).split(/[\^=\s]+/);
  return [...name, text(Tags.PatientID), text(Tags.PatientBirthDate), text(tagOf(0x0008, 0x0050)), text(tagOf(0x0008, 0x0020))]
    .map((s) => s.toUpperCase().replace(/[^A-Z0-9]/g, '')).filter((s) => s.length >= 3);
}
const matchesHeader = (line: string, ids: readonly string[]): boolean => {
  const l = line.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return ids.some((id) => l.includes(id));
};

/**
 * Finds text drawn into the pixels of the images the policy says to look at. Every line that is
 * not allow-listed holds the image: it matches the header's name, ID, dates or accession number
 * (PHI for certain) or it is text nobody vouched for. Findings carry boxes and counts, never the
 * text read. An image that cannot be decoded cannot be shown clean, and is held too.
 */
export function createPixelTextDetector(policy: PixelPolicy = DEFAULT_PIXEL_POLICY): Detector {
  return {
    name: 'pixel-text',
    async inspect(facts: InstanceFacts, dataset: readonly DataElement[], file?: DicomFile): Promise<readonly Finding[]> {
      if (!file || modeFor(policy, facts) === 'header') return [];
      const { openPixelFrames, textInFrame } = await looking();
      let frames;
      try {
        frames = await openPixelFrames(file);
      } catch (e) {
        if (e instanceof PixelError && e.code === 'no-pixels') return [];
        return [unreadable(e)];
      }
      const ids = identifiers(dataset);
      const found: Array<{ frame: number; line: TextLine; header: boolean }> = [];
      try {
        for (const index of sampledFrames(frames.frameCount)) {
          for (const line of await textInFrame(await frames.frame(index))) {
            if (!allowListed(line.text)) found.push({ frame: index, line, header: matchesHeader(line.text, ids) });
          }
        }
      } catch (e) {
        return [unreadable(e)];
      } finally {
        await frames.close();
      }
      if (found.length === 0) return [];
      const header = found.filter((f) => f.header).length;
      const framesWithText = [...new Set(found.map((f) => f.frame))];
      return [{
        detector: 'pixel-text',
        rule: header > 0 ? 'text-matches-header' : 'text-in-pixels',
        reason: `${found.length} text line(s) in frame(s) ${framesWithText.join(', ')}${header > 0 ? `, ${header} matching the header's identifiers` : ''}`,
        boxes: found.map((f) => ({ frame: f.frame, ...f.line.box, confidence: Math.round(f.line.confidence * 100) / 100 })),
      }];
    },
  };
}
