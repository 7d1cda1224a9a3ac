import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { temporariesOf } from '../fs/atomic-write.js';
import { processInstance } from '../pipeline/process-instance.js';
import { ReviewError, resolveItem } from './quarantine-items.js';
import { type ReviewDesk, reviewContext } from './review-desk.js';

export interface HeaderPreview {
  readonly id: string;
  /** The patient's pseudonym in the store (the one release gives: assigned now if new). */
  readonly pseudonym: string;
  /** The output's transfer syntax UID. */
  readonly transferSyntax: string;
  /** The output's file meta group, naturalized. */
  readonly meta: Readonly<Record<string, unknown>>;
  /**
   * The output's data set as dcmjs naturalizes it (keywords; a person name as [{ Alphabetic }];
   * sequences as arrays of objects), Pixel Data left out and every other binary value shown as
   * `{ binaryBytes: n }`.
   */
  readonly dataset: Readonly<Record<string, unknown>>;
}

/** Above this the output is read only up to its pixel data (elements after it, rare, are not shown). */
const WHOLE_READ_LIMIT = 256 * 1024 * 1024;

/**
 * The de-identified header a release would deliver, read back by dcmjs from our own output bytes:
 * the item goes through processInstance as a release does (the project's profile, pseudonym,
 * dates, UIDs, provenance, pixel-bit masking; detection skipped), into a scratch folder under the
 * quarantine's temporaries (0700, cleared at the agent's start), which is deleted at once. A
 * reviewer sees exactly what leaves. An input the pipeline would still hold or fail says so.
 */
export async function previewHeader(desk: ReviewDesk, id: string): Promise<HeaderPreview> {
  const quarantine = desk.spec.project.quarantine;
  const item = await resolveItem(quarantine, id);
  const temporaries = temporariesOf(quarantine);
  await mkdir(temporaries, { recursive: true, mode: 0o700 });
  const scratch = await mkdtemp(join(temporaries, 'preview-'));
  try {
    const outcome = await processInstance(item.path, reviewContext(desk, [], { scratchOutbox: scratch }));
    if (outcome.kind === 'quarantined') throw new ReviewError('held', `release would still hold it: ${outcome.reason}`);
    if (outcome.kind === 'failed') throw new ReviewError('failed', `release would fail: ${outcome.reason}`);
    const header = await naturalizedHeader(await readFile(outcome.outputPath));
    return { id: item.id, pseudonym: outcome.pseudonym, ...header };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A Part 10 file's header as dcmjs reads and naturalizes it: Pixel Data left out, binary values as their sizes. */
export async function naturalizedHeader(bytes: Buffer): Promise<Pick<HeaderPreview, 'transferSyntax' | 'meta' | 'dataset'>> {
  const { default: dcmjs } = await import('dcmjs');
  // Its warnings (dictionary VRs like 'xs' it resolves itself) would go to the console, outside our logger.
  dcmjs.log.setLevel('silent');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(buffer, bytes.length > WHOLE_READ_LIMIT ? { untilTag: '7FE00010', includeUntilTagValue: false } : {});
  const naturalize = (d: Record<string, unknown>): Record<string, unknown> => dcmjs.data.DicomMetaDictionary.naturalizeDataset(d);
  const { PixelData: _pixels, ...dataset } = naturalize(parsed.dict);
  const meta = naturalize(parsed.meta);
  return { transferSyntax: String(meta.TransferSyntaxUID ?? ''), meta: displayable(meta) as Record<string, unknown>, dataset: displayable(dataset) as Record<string, unknown> };
}

/** Binary values (ArrayBuffers, typed arrays) as their length: the page shows text, and JSON has no bytes; dcmjs's `_` keys left out. */
function displayable(v: unknown): unknown {
  if (v instanceof ArrayBuffer) return { binaryBytes: v.byteLength };
  if (ArrayBuffer.isView(v)) return { binaryBytes: v.byteLength };
  if (Array.isArray(v)) return v.map(displayable);
  // dcmjs's own bookkeeping (`_vrMap`) is no attribute of the file.
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('_')).map(([k, x]) => [k, displayable(x)]));
  return v;
}
