import { type DataElement, asciiValue, valueOf } from '../dicom/dataset.js';
import type { DicomFile } from '../dicom/read-file.js';
import { Tags, tagOf } from '../dicom/tag.js';
import { PixelError } from '../pixels/image-geometry.js';
import type { Detector, Finding, InstanceFacts } from './detector.js';
import type { TextLine } from './ocr-engine.js';
import type { LosslessSyntax } from '../pixels/encode-lossless.js';
import type { DecodedFrame } from '../pixels/decode-frame.js';

/**
 * The decoders and the OCR, imported when an image is first looked at: a worker thread of a
 * project that looks at no pixels (or an image the policy leaves to the header) carries none of it.
 */
const looking = async () => {
  const [{ openPixelFrames }, { textInFrame }] = await Promise.all([import('../pixels/decode-frame.js'), import('./pixel-text.js')]);
  return { openPixelFrames, textInFrame };
};

/**
 * How a project treats one kind of image: look at its pixels ('all'), trust the header rules
 * alone ('header'), or look at a series' first eight images and a sample of the rest, and at
 * all of them once one shows text ('series', see createPixelTextDetector).
 */
export type InspectMode = 'all' | 'series' | 'header';

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
  /** How a cleaned image is written: native explicit VR little endian (default), or re-encoded losslessly. */
  readonly cleanedSyntax?: 'native' | LosslessSyntax;
}

/**
 * The default: look at every image of the kinds that carry burned-in text (projection and
 * fluoroscopy, ultrasound, mammography, endoscopy and photographs, secondary captures). CT, MR,
 * PT and NM are looked at by series: text in their cross-sections is rare, but when a scanner or
 * a reformat burns it in, it is in every slice, so a series' first images tell, for the cost of
 * eight frames instead of hundreds (and a short series is looked at whole). SEG follows the header rules: its frames are label maps, not
 * pictures anything writes text into. A project may set any of them to 'all' or 'header'.
 */
export const DEFAULT_PIXEL_POLICY: PixelPolicy = {
  inspect: Object.fromEntries([
    ...['CT', 'MR', 'PT', 'NM'].map((m) => [m, 'series' as const]),
    ['SEG', 'header' as const],
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
// A scale mark: up to 3 digits, up to 2 decimals ("10", "5.5 cm"); "123.4567890" is a record number.
const SCALE = /^\d{1,3}([.,]\d{1,2})?\s?(CM|MM)?$/;
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

/** Series remembered by one detector at most (the least recently seen forgotten first): a few hundred bytes each, ~3 MB in all. */
export const MAX_SERIES_REMEMBERED = 10_000;
/** Under 'series', a clean series' images at these counts are looked at too: 64th, 128th, 256th, … */
export const SERIES_SAMPLE_EVERY = 64;

/**
 * Whether an image is one of a clean series' samples: its count within the series (1-based, in
 * arrival order) is 64 times a power of two. The series' size is not known while it streams in
 * (no "middle" or "last" to pick), and a doubling sample costs a bounded few images whatever the
 * size: 3 more of 500 slices, 6 of 5,000.
 */
export const isSeriesSample = (count: number): boolean => {
  if (count < SERIES_SAMPLE_EVERY || count % SERIES_SAMPLE_EVERY !== 0) return false;
  const k = count / SERIES_SAMPLE_EVERY;
  return (k & (k - 1)) === 0;
};

/**
 * Under 'series', the first images of a series are each looked at: a short series (a scout, a
 * dose screen, a handful of key images, an image and its re-saved twin) is looked at whole, and
 * text on only some of the first slices is still found. Eight, at ~1 s each for a 512² slice.
 */
export const SERIES_LOOKED_WHOLE = 8;

/** What one detector remembers of a series under 'series'. */
interface SeriesState {
  /** Images of the series met so far, counted on arrival (before any waiting). */
  seen: number;
  /** The verdicts of its first images (true: text, unreadable pixels, or a look that failed). */
  readonly early: Array<Promise<boolean>>;
  /** Text was seen in one of its images: every later one is looked at. */
  text: boolean;
  /** What its first images look like (see imageKind): a later image of another kind is looked at. */
  readonly kinds: Set<string>;
}

/**
 * What kind of image this is, as far as a series goes: SOP class, Image Type, size and
 * photometric interpretation. A key image, a screen save or a reformat saved into an existing
 * series later differs from the slices the series began with, and is looked at.
 */
function imageKind(facts: InstanceFacts, dataset: readonly DataElement[]): string {
  const hex = (tag: number): string => valueOf(dataset, tag)?.toString('hex') ?? '';
  return [facts.sopClassUid, facts.imageType.join('\\'), hex(tagOf(0x0028, 0x0010)), hex(tagOf(0x0028, 0x0011)), hex(tagOf(0x0028, 0x0004))].join('|');
}

export interface PixelTextDetectorOptions {
  /** Text lines in one frame; the OCR (./pixel-text.js) unless a test hands in another. */
  readonly textInFrame?: (frame: DecodedFrame) => Promise<TextLine[]>;
}

/**
 * Finds text drawn into the pixels of the images the policy says to look at. Every line that is
 * not allow-listed holds the image: it matches the header's name, ID, dates or accession number
 * (PHI for certain) or it is text nobody vouched for. Findings carry boxes and counts, never the
 * text read. An image that cannot be decoded cannot be shown clean, and is held too.
 *
 * Under 'series' the detector (one per project in each worker thread, so this closure is the
 * thread's memory of the project's series) looks at the first SERIES_LOOKED_WHOLE images of a
 * series it meets. The later ones wait for those verdicts: several instances are in flight at
 * once, and none may pass on the header rules while an earlier one is still being read. Text (or
 * pixels that cannot be read) in any of them: every later image is looked at. Clean: later images
 * follow the header rules, except the samples (isSeriesSample), and text in a sample turns the
 * series to looking at everything from then on. An image without a Series Instance UID is looked at.
 */
export function createPixelTextDetector(policy: PixelPolicy = DEFAULT_PIXEL_POLICY, options: PixelTextDetectorOptions = {}): Detector {
  /** By Series Instance UID; a Map iterates in insertion order, and a series is re-inserted when met, so the first key is the least recently seen. */
  const series = new Map<string, SeriesState>();

  async function look(dataset: readonly DataElement[], file: DicomFile): Promise<readonly Finding[]> {
    const loaded = await looking();
    const textInFrame = options.textInFrame ?? loaded.textInFrame;
    let frames;
    try {
      frames = await loaded.openPixelFrames(file);
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
  }

  async function bySeries(uid: string, facts: InstanceFacts, dataset: readonly DataElement[], file: DicomFile): Promise<readonly Finding[]> {
    let state = series.get(uid);
    if (state) {
      series.delete(uid); // re-inserted below: the most recently seen
    } else {
      state = { seen: 0, early: [], text: false, kinds: new Set() };
      if (series.size >= MAX_SERIES_REMEMBERED) series.delete(series.keys().next().value as string);
    }
    series.set(uid, state);
    // Counted now, before any waiting: arrival order, whatever order the waits end in.
    state.seen += 1;
    const count = state.seen;
    const kind = imageKind(facts, dataset);
    if (count <= SERIES_LOOKED_WHOLE) {
      state.kinds.add(kind);
      const looked = look(dataset, file);
      // A look that throws (decoding errors are findings, not throws) counts as text.
      state.early.push(looked.then((f) => f.length > 0, () => true));
      const findings = await looked;
      if (findings.length > 0) state.text = true;
      return findings;
    }
    // Later images wait for every early verdict: none passes on the header rules while one of the
    // first images (in flight beside it) may still show text.
    const earlyText = (await Promise.all(state.early)).some(Boolean);
    if (!earlyText && !state.text && !isSeriesSample(count) && state.kinds.has(kind)) return [];
    const findings = await look(dataset, file);
    if (findings.length > 0) state.text = true;
    return findings;
  }

  return {
    name: 'pixel-text',
    async inspect(facts: InstanceFacts, dataset: readonly DataElement[], file?: DicomFile): Promise<readonly Finding[]> {
      if (!file) return [];
      const mode = modeFor(policy, facts);
      if (mode === 'header') return [];
      const uid = mode === 'series' ? asciiValue(dataset, Tags.SeriesInstanceUID) : undefined;
      // Keyed by study and series: a series UID reused in another study (a copy, a careless
      // workstation) is another series, and does not inherit a clean verdict.
      return uid ? bySeries(`${asciiValue(dataset, Tags.StudyInstanceUID) ?? ''}/${uid}`, facts, dataset, file) : look(dataset, file);
    },
  };
}
