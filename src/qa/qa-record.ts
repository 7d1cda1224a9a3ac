import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../fs/atomic-write.js';
import { StoreError } from '../store/secure-json-file.js';
import { acquireStoreLock } from '../store/store-lock.js';
import type { QaSettings } from './qa-settings.js';
import { type BatchId, batchesDir } from './qa-paths.js';

/** One output drawn for inspection: its new SOP Instance UID and its path in the outbox. */
export interface SampleItem {
  readonly sop: string;
  readonly path: string;
  readonly request?: string;
}

/** A region of the image, in the frame's own pixels (frame 0-based). */
export interface ImageRegion {
  readonly frame: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type Verdict = 'clean' | 'phi-found';

/** Where PHI was seen: never its value. */
export interface MarkPlace {
  /** The attribute's tag path, as `attributesOf` gives it: `(0040,0275)[0]/(0040,0007)`. */
  readonly attribute?: string;
  readonly region?: ImageRegion;
  /** The reviewer's own words (they are told to write no PHI in it). */
  readonly note?: string;
}

export interface Mark extends MarkPlace {
  readonly sop: string;
  readonly verdict: Verdict;
  /** PHI found in an attribute: its keyword, when the dictionary knows it; a private one's creator. */
  readonly keyword?: string;
  readonly creator?: string;
  /** PHI found: the output's Modality (a region's suggested pixel policy is per modality). */
  readonly modality?: string;
  readonly who: string;
  readonly at: string;
}

export interface SignOff {
  readonly who: string;
  readonly at: string;
  readonly comment: string;
}

/**
 * A batch's QA record: what was drawn and how (the seed, so anyone can draw it again), the marks
 * in the order made (the latest per output is its verdict), and the sign-off. No input value.
 */
export interface QaRecord {
  readonly version: 1;
  readonly project: string;
  readonly batch: BatchId;
  /** 64 hex digits. */
  readonly seed: string;
  readonly drawnAt: string;
  readonly drawnBy: string;
  /** Outputs in the batch when drawn, and the settings that sized the sample. */
  readonly batchSize: number;
  readonly settings: Pick<QaSettings, 'percent' | 'min' | 'max'>;
  readonly sample: readonly SampleItem[];
  readonly marks: readonly Mark[];
  readonly signOff?: SignOff;
}

export class QaError extends Error {
  constructor(readonly code: 'no-batch' | 'bad-seed' | 'empty-batch' | 'no-sample' | 'not-in-sample' | 'bad-mark' | 'unmarked' | 'signed-off', message: string) {
    super(message);
    this.name = 'QaError';
  }
}

export const recordPathOf = (storePath: string, project: string, batch: BatchId): string => join(batchesDir(storePath, project), `${batch}.json`);

/** The batch's record, or undefined before a sample is drawn. */
export async function readRecord(storePath: string, project: string, batch: BatchId): Promise<QaRecord | undefined> {
  const text = await readFile(recordPathOf(storePath, project, batch), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  return text === undefined ? undefined : (JSON.parse(text) as QaRecord);
}

/** Replaces the record atomically and durably (temporary file, fsync, rename), mode 0600. */
export async function writeRecord(storePath: string, record: QaRecord): Promise<void> {
  const dir = batchesDir(storePath, record.project);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(recordPathOf(storePath, record.project, record.batch), [Buffer.from(`${JSON.stringify(record, null, 2)}\n`)], 0o600, join(dir, '.tmp'));
}

/**
 * Runs `change` on the batch's record under its lock (the console and the CLI may both write it):
 * read, change, write, with no other writer in between.
 */
export async function withRecordLock<T>(storePath: string, project: string, batch: BatchId, change: () => Promise<T>): Promise<T> {
  await mkdir(batchesDir(storePath, project), { recursive: true, mode: 0o700 });
  const path = recordPathOf(storePath, project, batch);
  let release: (() => Promise<void>) | undefined;
  for (let attempt = 0; !release; attempt++) {
    try {
      release = await acquireStoreLock(path);
    } catch (e) {
      if (attempt >= 500 || !(e instanceof StoreError) || !/in use by process/.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, 10 + (attempt % 7) * 3));
    }
  }
  try {
    return await change();
  } finally {
    await release();
  }
}
