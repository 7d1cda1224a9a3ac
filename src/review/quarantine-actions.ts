import { rm } from 'node:fs/promises';
import { appendAudit } from '../audit/audit-log.js';
import type { Detector, Finding, TextBox } from '../detect/detector.js';
import { processInstance } from '../pipeline/process-instance.js';
import { settleAside } from '../pipeline/settle-aside.js';
import { type QuarantineItem, ReviewError, readItem, resolveItem } from './quarantine-items.js';
import { type ReviewDesk, deliveryRefusal, reviewContext, withItemLock } from './review-desk.js';

/**
 * The reviewer's four decisions on a held input. Each needs a comment, is written to the audit
 * log (who, action, project, the input's SHA-256, pseudonym, counts: never an input value), and
 * is safe to run twice or at once for one item: actions on an item take its lock and look for it
 * again, so a second release finds it gone ('gone') and delivers nothing.
 *
 * Order, for crashes: a release delivers first (outputs are named by their new UIDs, so delivering
 * again replaces, never duplicates), then writes the audit entry, then removes the original and
 * then its sidecar. Discard and back-to-failed write the audit entry first. A crash between the
 * audit entry and the removal leaves the item listed; doing it again adds a second entry.
 */

export interface ReviewRequest {
  /** `console:<account>` (or `cli:<user>`). */
  readonly who: string;
  /** The reviewer's words, required (they are told to write no PHI in it). */
  readonly comment: string;
}

export interface CleanRequest extends ReviewRequest {
  /** The reviewer's adjusted boxes; the detectors' boxes when absent. */
  readonly boxes?: readonly TextBox[];
}

export type ReviewResult =
  /** `outputPath`: the pseudonym's folder and new UIDs only (spooled and gone when the outbox is a cloud folder's spool). */
  | { readonly kind: 'released'; readonly id: string; readonly pseudonym: string; readonly outputPath: string; readonly cleanedBoxes?: number }
  | { readonly kind: 'discarded'; readonly id: string }
  | { readonly kind: 'sent-to-failed'; readonly id: string };

/** The failed sidecar's reason; the reviewer's comment is in the audit log, not the sidecar. */
export const SENT_BACK_REASON = 'sent back from quarantine review';

function checkComment(comment: string): void {
  if (comment.trim() === '') throw new ReviewError('no-comment', 'a comment is required');
}

/** Resolves the id, then runs `fn` on the item under its lock, the item read again there. */
async function onItem<T>(desk: ReviewDesk, id: string, fn: (item: QuarantineItem) => Promise<T>): Promise<T> {
  const dir = desk.spec.project.quarantine;
  const found = await resolveItem(dir, id);
  return withItemLock(dir, found.name, async () => {
    const item = await readItem(dir, found.name);
    if (!item) throw new ReviewError('gone', `item ${found.id} was settled meanwhile`);
    return fn(item);
  });
}

async function removeItem(item: QuarantineItem): Promise<void> {
  await rm(item.path, { force: true });
  await rm(item.sidecarPath, { force: true });
}

/** Delivers through processInstance with `detectors` in place of the project's; the item's audit entry once delivered. */
async function deliver(desk: ReviewDesk, item: QuarantineItem, req: ReviewRequest, action: string, detectors: readonly Detector[] | 'project', clean: boolean, detail: Record<string, number | boolean>): Promise<ReviewResult> {
  // Checked under the lock, at the moment of delivery: an agreement may run out while a reviewer looks.
  const refusal = deliveryRefusal(desk);
  if (refusal !== undefined) throw new ReviewError('dua-expired', refusal);
  const outcome = await processInstance(item.path, reviewContext(desk, detectors, { clean }));
  switch (outcome.kind) {
    case 'quarantined':
      throw new ReviewError('held', `still held: ${outcome.reason}`);
    case 'failed':
      throw new ReviewError('failed', `cannot be delivered: ${outcome.reason}`);
    case 'delivered':
      break;
  }
  // A release is a delivery like any other: QA's batches draw from it too.
  await desk.onDelivered?.(outcome);
  await appendAudit(desk.auditPath, {
    who: req.who, action, project: desk.spec.project.name, inputHash: item.inputHash, pseudonyms: [outcome.pseudonym], comment: req.comment,
    detail: { ...detail, ...(outcome.cleanedBoxes === undefined ? {} : { cleanedBoxes: outcome.cleanedBoxes }) },
  });
  await removeItem(item);
  desk.onReviewed?.('delivered');
  return {
    kind: 'released', id: item.id, pseudonym: outcome.pseudonym, outputPath: outcome.outputPath,
    ...(outcome.cleanedBoxes === undefined ? {} : { cleanedBoxes: outcome.cleanedBoxes }),
  };
}

/** Findings that say nothing of the pixels: the project's expired agreement held the input. */
const heldByRecordOnly = (item: QuarantineItem): boolean => item.findings.length > 0 && item.findings.every((f) => f.detector === 'project-record');

/**
 * Release as is: de-identified and delivered as the pipeline would (outbox, and every sink's
 * ledger), skipping only the burned-in detection that held it. An input held only because the
 * agreement had expired was never looked at: it meets the project's own detectors now (and may
 * be held by them, 'held'). What the pipeline holds after detection (pixel bits it cannot mask)
 * stays held ('held'); an expired agreement refuses ('dua-expired').
 */
export async function releaseItem(desk: ReviewDesk, id: string, req: ReviewRequest): Promise<ReviewResult> {
  checkComment(req.comment);
  return onItem(desk, id, (item) => deliver(desk, item, req, 'quarantine.release', heldByRecordOnly(item) ? 'project' : [], false, { findings: item.findings.length }));
}

/** A sane box: whole frame number, finite non-negative position and a positive size. */
const validBox = (b: TextBox): boolean =>
  Number.isInteger(b.frame) && b.frame >= 0 && [b.x, b.y, b.width, b.height].every((v) => Number.isFinite(v) && v >= 0) && b.width > 0 && b.height > 0;

/**
 * Clean and release: the boxes (the reviewer's, else the detectors') blanked as the pipeline's
 * cleaner does (src/detect/pixel-text-cleaner.ts: padded, filled with the ring's median, in
 * every frame, looked at again up to three rounds, the project's cleanedSyntax, Burned In
 * Annotation NO and the cleaned-pixels code), then delivered as a release is. When the last look
 * still finds text the item stays held ('held').
 */
export async function cleanAndReleaseItem(desk: ReviewDesk, id: string, req: CleanRequest): Promise<ReviewResult> {
  checkComment(req.comment);
  if (req.boxes && (req.boxes.length > 10_000 || !req.boxes.every(validBox))) throw new ReviewError('bad-boxes', 'boxes need a frame from 0, a position from 0 and a positive size');
  return onItem(desk, id, async (item) => {
    const boxes = (req.boxes ?? item.boxes).map((b) => ({ frame: b.frame, x: b.x, y: b.y, width: b.width, height: b.height, confidence: b.confidence ?? 0 }));
    if (boxes.length === 0) throw new ReviewError('bad-boxes', 'no boxes to clean: draw the text\'s boxes first');
    // The boxes as the pixel detector's finding: the pipeline's cleaning step takes exactly these.
    const finding: Finding = { detector: 'pixel-text', rule: 'text-in-pixels', reason: `${boxes.length} box(es) from review`, boxes };
    const fromReview: Detector = { name: 'review-boxes', inspect: async () => [finding] };
    return deliver(desk, item, req, 'quarantine.clean-release', [fromReview], true, { boxes: boxes.length, adjusted: req.boxes !== undefined });
  });
}

/** Discard: the original and its sidecar are deleted; the audit entry keeps the input hash. */
export async function discardItem(desk: ReviewDesk, id: string, req: ReviewRequest): Promise<ReviewResult> {
  checkComment(req.comment);
  return onItem(desk, id, async (item) => {
    await appendAudit(desk.auditPath, { who: req.who, action: 'quarantine.discard', project: desk.spec.project.name, inputHash: item.inputHash, comment: req.comment });
    await removeItem(item);
    desk.onReviewed?.('discarded');
    return { kind: 'discarded', id: item.id };
  });
}

/**
 * Back to failed: the original moves to the project's failed folder with a failed sidecar, as
 * settleAside writes it for the pipeline (reason SENT_BACK_REASON), and the quarantine's sidecar goes.
 */
export async function sendBackToFailed(desk: ReviewDesk, id: string, req: ReviewRequest): Promise<ReviewResult> {
  checkComment(req.comment);
  return onItem(desk, id, async (item) => {
    await appendAudit(desk.auditPath, { who: req.who, action: 'quarantine.back-to-failed', project: desk.spec.project.name, inputHash: item.inputHash, comment: req.comment });
    await settleAside(item.path, desk.spec.project.failed, { kind: 'failed', reason: SENT_BACK_REASON }, desk.spec.project.name, 'move');
    await rm(item.sidecarPath, { force: true });
    desk.onReviewed?.('failed');
    return { kind: 'sent-to-failed', id: item.id };
  });
}
