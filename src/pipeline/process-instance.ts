import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Detector, type Finding, instanceFacts, runDetectors } from '../detect/detector.js';
import { type CleanResult, cleanPixelText } from '../detect/pixel-text-cleaner.js';
import type { LosslessSyntax } from '../pixels/encode-lossless.js';
import { asciiValue } from '../dicom/dataset.js';
import { buildFileMeta } from '../dicom/file-meta.js';
import { DicomParseError } from '../dicom/parse.js';
import { type DicomFile, readDicomFile } from '../dicom/read-file.js';
import { Tags, formatTag } from '../dicom/tag.js';
import { writePart10File } from '../dicom/write-file.js';
import { temporariesOf } from '../fs/atomic-write.js';
import { deidentify, instanceUids } from '../deid/deidentify.js';
import { withCleanPixelData } from '../deid/provenance.js';
import { stampClinicalTrial } from '../deid/clinical-trial.js';
import type { ProjectRecord } from '../config/project-record.js';
import { embeddedOverlayPlan, withPixelMask } from '../deid/embedded-overlays.js';
import { type PatientIdentity, patientIdentity } from '../deid/patient-identity.js';
import type { Profile } from '../deid/profile.js';
import type { ProjectSecrets } from '../store/project-store.js';
import type { Outcome } from './outcome.js';
import { type ForwardLedger, isQueueableUid } from '../sinks/forward-ledger.js';
import { TransientError, errorCode, isTransientReadError } from './transient.js';
import { retainForQa } from '../qa/qa-retention.js';

/** Answers that only the main thread can give, because they touch the store. */
export interface StoreCalls {
  /**
   * The project's pseudonym for a patient, durable before it returns. `input` is the file asking
   * (a one-shot run hands out new numbers in its input order with it).
   */
  readonly pseudonymFor: (identity: PatientIdentity, input: string) => Promise<string>;
}

export interface ProjectContext extends StoreCalls {
  readonly name: string;
  readonly profile: Profile;
  readonly secrets: ProjectSecrets;
  readonly detectors: readonly Detector[];
  /** Text found in the pixels is blanked and verified (the project's onText: 'clean'), not held. */
  readonly cleaning?: { readonly syntax?: LosslessSyntax };
  readonly outbox: string;
  /** The cap on a deflated data set's inflated size (default: the reader's). */
  readonly maxInflatedBytes?: number;
  /** The ledgers of the project's sinks (C-STORE, cloud folders): each output is queued in every one. */
  readonly ledgers?: readonly ForwardLedger[];
  /**
   * The outbox is a spool for the sinks (a cloud outbox): an output is removed from it once queued
   * in every ledger, whose entries are hard links to it, so its bytes go when the last sink has it.
   */
  readonly spool?: boolean;
  /** With a spool: where each output is kept for sample inspection before the spool lets it go (src/qa/qa-retention.ts). */
  readonly qaRetain?: string;
  /** The project record: its Clinical Trial attributes are stamped into every output. */
  readonly record?: ProjectRecord;
}

const MEDIA_DIRECTORY_CLASS = '1.2.840.10008.1.3.10';

/** A reason safe to record: our own errors name tags and offsets; system errors only their code. */
export function safeReason(prefix: string, e: unknown): string {
  if (e instanceof DicomParseError) return e.message;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return `${prefix} (${code ?? (e instanceof Error ? e.name : 'error')})`;
}

/**
 * Reads one input, decides its outcome and, when it is clean, writes the de-identified instance
 * to the outbox as `<pseudonym>/<study>/<series>/<instance>.dcm` (new UIDs only, no input names).
 * Moving or copying the input itself is the caller's job.
 */
export async function processInstance(inputPath: string, ctx: ProjectContext): Promise<Outcome> {
  let file: DicomFile;
  try {
    file = await readDicomFile(inputPath, ctx.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: ctx.maxInflatedBytes });
  } catch (e) {
    if (isTransientReadError(e)) throw new TransientError('cannot read the input now', errorCode(e));
    return { kind: 'failed', reason: safeReason('cannot read the input', e) };
  }
  if (asciiValue(file.meta, Tags.MediaStorageSOPClassUID) === MEDIA_DIRECTORY_CLASS) {
    return { kind: 'failed', reason: 'DICOMDIR: a media index, not an instance; nothing to de-identify' };
  }
  const uids = instanceUids(file.dataset);
  if ('missing' in uids) return { kind: 'failed', reason: `missing or invalid required UID ${formatTag(uids.missing)}` };
  // In memory only (see Outcome): a retrieval counts its studies' instances with them.
  const source = { sourceStudyUid: uids.studyInstanceUid, sourceInstanceUid: uids.sopInstanceUid };

  const findings = await runDetectors(ctx.detectors, file.dataset, file);
  let cleanedBoxes: number | undefined;
  if (findings.length > 0) {
    const cleaned = ctx.cleaning ? await cleanFoundText(file, findings, ctx.detectors, ctx.cleaning) : undefined;
    if (cleaned?.kind !== 'cleaned') {
      const all = cleaned ? [...findings, { detector: 'pixel-text', rule: 'not-cleaned', reason: cleaned.reason }] : findings;
      return { kind: 'quarantined', reason: all.map((f) => f.rule).join(', '), findings: all, ...source };
    }
    file = cleaned.file;
    cleanedBoxes = cleaned.boxes.length;
  }

  const overlays = embeddedOverlayPlan(file.dataset, file.encoding);
  if (overlays.kind === 'refuse') {
    const finding = { detector: 'pixel-bits', rule: 'embedded-overlay', reason: overlays.reason };
    return { kind: 'quarantined', reason: finding.rule, findings: [finding], ...source };
  }

  // Durable before any output carries it (store invariant). A store that cannot be written is the
  // moment's fault, not the file's: the file waits.
  const pseudonym = await ctx.pseudonymFor(patientIdentity(file.dataset), inputPath).catch((e: unknown) => {
    throw new TransientError('the store cannot be written', errorCode(e));
  });
  const result = deidentify(file.dataset, ctx.profile, { pseudonym, ...ctx.secrets });
  const provenance = cleanedBoxes !== undefined ? withCleanPixelData(result.dataset) : result.dataset;
  const masked = overlays.kind === 'mask' ? withPixelMask(provenance, overlays.mask) : provenance;
  // After the profile: its rules for an input's own Clinical Trial attributes must not touch ours.
  const dataset = ctx.record ? stampClinicalTrial(masked, ctx.record, pseudonym) : masked;
  const out = instanceUids(dataset);
  if ('missing' in out) return { kind: 'failed', reason: `de-identified instance lacks ${formatTag(out.missing)}`, ...source };

  const outputPath = join(ctx.outbox, pseudonym, out.studyInstanceUid, out.seriesInstanceUid, `${out.sopInstanceUid}.dcm`);
  // Refused before anything is written: an output that could not be queued would be delivered
  // and failed at once (a kept over-long UID, under retain-uids).
  const ledgers = ctx.ledgers ?? [];
  if (ledgers.length > 0 && !isQueueableUid(out.sopInstanceUid)) {
    return { kind: 'failed', reason: 'the SOP Instance UID is not a valid UID (more than 64 characters): it cannot be forwarded', ...source };
  }
  try {
    await writePart10File(outputPath, {
      meta: buildFileMeta(out.sopClassUid, out.sopInstanceUid, file.transferSyntax.uid),
      dataset, transferSyntax: file.transferSyntax, sourceEncoding: file.encoding, sourcePath: file.sourcePath,
      ...(file.bytes ? { sourceBytes: file.bytes } : {}),
      tmpDir: temporariesOf(ctx.outbox),
    });
  } catch (e) {
    // A system error is the destination's state (full, read-only, failing): the file waits for it.
    if (typeof (e as NodeJS.ErrnoException).code === 'string') throw new TransientError('cannot write the output', errorCode(e));
    return { kind: 'failed', reason: safeReason('cannot write the output', e), ...source };
  }
  // Queued only now that the output is complete and durable: a sender never meets a missing or
  // partial file. A crash before this line redoes the claim, which rewrites and queues the output.
  for (const ledger of ledgers) {
    await ledger.enqueue(out.sopInstanceUid, outputPath).catch((e: unknown) => {
      // Only a system error can get here (the UID was checked): the ledger's disk, which waits.
      throw typeof (e as NodeJS.ErrnoException).code === 'string' ? new TransientError('cannot queue the output for forwarding', errorCode(e)) : e;
    });
  }
  // A crash before this leaves a spool file that the next start clears (its claim is redone).
  if (ctx.spool) {
    if (ctx.qaRetain) {
      await retainForQa(outputPath, ctx.outbox, ctx.qaRetain).catch((e: unknown) => {
        throw typeof (e as NodeJS.ErrnoException).code === 'string' ? new TransientError('cannot keep the output for sample inspection', errorCode(e)) : e;
      });
    }
    await rm(outputPath, { force: true });
  }
  return { kind: 'delivered', outputPath, pseudonym, ...source, ...(cleanedBoxes === undefined ? {} : { cleanedBoxes }) };
}

/**
 * The header rules that only say text is likely (ultrasound, secondary capture, screen saves):
 * under onText 'clean' the pixel detector may look and clean instead. Burned In Annotation YES
 * (the header says there is text: a reader that finds some of it may have missed the rest),
 * encapsulated documents and a project's own rules always hold.
 */
const LIKELY_TEXT_RULES = new Set(['ultrasound', 'ultrasound-class', 'secondary-capture', 'screen-save']);

/**
 * Under onText 'clean': the text the pixel detector found is blanked and verified. An image held
 * only by the likely-text header rules is looked at by the pixel detector too: it is released
 * only when text was found there and cleaning was verified, never because nothing was found (the
 * header's word stands against a reader that may have missed it). Undefined: there is nothing
 * the cleaner may clean (an unreadable image, a header rule that always holds, a header rule with
 * nothing seen), and the image is held.
 */
async function cleanFoundText(file: DicomFile, findings: readonly Finding[], detectors: readonly Detector[], options: { readonly syntax?: LosslessSyntax }): Promise<CleanResult | undefined> {
  const isText = (f: Finding): boolean => (f.rule === 'text-in-pixels' || f.rule === 'text-matches-header') && (f.boxes?.length ?? 0) > 0;
  if (findings.some((f) => (f.detector === 'pixel-text' && !isText(f)) || (f.detector !== 'pixel-text' && !LIKELY_TEXT_RULES.has(f.rule)))) return undefined;
  let text = findings.filter(isText);
  if (text.length === 0) {
    const pixel = detectors.find((d) => d.name === 'pixel-text');
    text = pixel ? (await pixel.inspect(instanceFacts(file.dataset), file.dataset, file)).filter(isText) : [];
    if (text.length === 0) return undefined;
  }
  return cleanPixelText(file, text.flatMap((f) => f.boxes ?? []), options.syntax ? { syntax: options.syntax } : {});
}
