import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { asciiValue } from '../dicom/dataset.js';
import { DicomParseError } from '../dicom/parse.js';
import { type DicomFile, readDicomHandle } from '../dicom/read-file.js';
import { Tags } from '../dicom/tag.js';
import type { SampleItem } from './qa-record.js';

/**
 * A sampled output read for inspection, or why it cannot be shown:
 * - `gone`: in neither the outbox (or spool) nor the retained copies (moved away, or pruned);
 * - `changed`: something is at its path, but not the output the ledger names: a link, not a
 *   regular file, another instance, or a file that does not say its identity was removed.
 *
 * The outbox is writable by the researcher. Whoever can write there could put a link to a
 * quarantined original (or any file the agent can read) where a sampled output was, and QA would
 * then show its identifiers in the console and in a report. So no link is ever followed below the
 * outbox or retained root, the file is read through the one descriptor that was checked, and what
 * it holds must be the instance the ledger recorded, marked Patient Identity Removed YES.
 */
export type DeliveredOutput =
  | { readonly kind: 'ok'; readonly file: DicomFile; readonly bytes: Buffer }
  | { readonly kind: 'gone' }
  | { readonly kind: 'changed' };

/** Shown wherever a `changed` output would have been. */
export const CHANGED_TEXT = 'not available (changed since delivery)';

type Found = { readonly kind: 'found'; readonly fh: FileHandle } | { readonly kind: 'gone' } | { readonly kind: 'changed' };

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/** Opens `relPath` under `base` without following any link below it; the root itself may be one (as configured). */
async function openUnder(base: string, parts: readonly string[]): Promise<Found> {
  let root: string;
  try {
    root = await realpath(base);
  } catch (e) {
    if (isMissing(e)) return { kind: 'gone' };
    throw e;
  }
  let path = root;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const st = await lstat(path).catch((e: unknown) => {
      if (isMissing(e)) return undefined;
      throw e;
    });
    if (!st) return { kind: 'gone' };
    const last = i === parts.length - 1;
    if (last ? !st.isFile() : !st.isDirectory()) return { kind: 'changed' };
  }
  let fh: FileHandle;
  try {
    // O_NOFOLLOW: a link swapped in after the lstat is refused (ELOOP); O_NONBLOCK: a FIFO
    // swapped in does not hang the open.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (isMissing(e)) return { kind: 'gone' };
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'ENXIO') return { kind: 'changed' };
    throw e;
  }
  try {
    const st = await fh.stat();
    // A directory on the way swapped for a link between the walk and the open: where the
    // descriptor really is must still be under the root.
    const actual = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => realpath(path));
    if (!st.isFile() || !actual.startsWith(root.endsWith(sep) ? root : root + sep)) {
      await fh.close();
      return { kind: 'changed' };
    }
    return { kind: 'found', fh };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Reads a sampled output from the outbox (or spool), else its retained copy, checked as above. */
export async function readDeliveredOutput(item: SampleItem, outbox: string, retained: string): Promise<DeliveredOutput> {
  const parts = item.path.split('/');
  if (item.path.startsWith('/') || parts.some((s) => s === '..' || s === '.' || s === '')) return { kind: 'changed' };
  for (const base of [outbox, retained]) {
    const found = await openUnder(base, parts);
    if (found.kind === 'gone') continue;
    if (found.kind === 'changed') return found;
    let file: DicomFile;
    let bytes: Buffer;
    try {
      // Held whole, pixel data too: nothing reopens the path later, where another file could be.
      // (A deflated file is parsed from its inflated copy and keeps no `bytes`: read it again, from
      // the same descriptor; its SOP Instance UID is checked again in what dcmjs reads of it.)
      file = await readDicomHandle(found.fh, join(base, item.path), { holdWholeBelow: Number.MAX_SAFE_INTEGER });
      bytes = file.bytes ?? await found.fh.readFile();
    } catch (e) {
      if (e instanceof DicomParseError) return { kind: 'changed' };
      throw e;
    } finally {
      await found.fh.close();
    }
    const sop = asciiValue(file.dataset, Tags.SOPInstanceUID)?.trim();
    const removed = asciiValue(file.dataset, Tags.PatientIdentityRemoved)?.trim();
    if (sop !== item.sop || removed !== 'YES') return { kind: 'changed' };
    return { kind: 'ok', file, bytes };
  }
  return { kind: 'gone' };
}
