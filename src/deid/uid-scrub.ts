import type { DataElement } from '../dicom/dataset.js';
import { groupOf } from '../dicom/tag.js';
import { dictionaryVr, isStringVr } from '../dicom/vr.js';
import { NON_INSTANCE_UID_TAGS } from './rules/attribute-classes.js';
import { isWellKnownUid } from './uid-remap.js';

/** A UID as it appears in text: digits and dots, at least two components. */
const UID_IN_TEXT = /(?<![0-9])[0-9]+(?:\.[0-9]+)+/g; // one start per digit run: linear time

const components = (value: Buffer): string[] =>
  value.toString('latin1').replace(/[\0 ]+$/, '').split('\\').map((u) => u.trim()).filter((u) => u !== '');

/**
 * Every instance UID in a data set, at any depth and in any element (private ones too), before
 * the rules run: the UIDs the profile replaces. Class, syntax and coding-scheme UIDs and the
 * standard's own (1.2.840.10008.…) are not among them.
 */
export function instanceUidsIn(elements: readonly DataElement[], into = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.kind === 'sequence') {
      for (const item of e.items) instanceUidsIn(item.elements, into);
    } else if (e.kind === 'value' && (e.vr === 'UI' || dictionaryVr(e.tag) === 'UI') && groupOf(e.tag) !== 0x0002 && !NON_INSTANCE_UID_TAGS.has(e.tag)) {
      for (const uid of components(e.value)) if (!isWellKnownUid(uid)) into.add(uid);
    }
  }
  return into;
}

/**
 * Whether an original UID is part of a longer dotted number, on component boundaries
 * ('<study UID>.1.2', 'v1.<UID>'): such a number is derived from the original and gives it away,
 * so it is remapped whole. One indexOf scan per original: linear in the text.
 */
function containsReplaced(run: string, replaced: ReadonlySet<string>): boolean {
  for (const uid of replaced) {
    for (let i = run.indexOf(uid); i >= 0; i = run.indexOf(uid, i + 1)) {
      const end = i + uid.length;
      if ((i === 0 || run[i - 1] === '.') && (end === run.length || run[end] === '.')) return true;
    }
  }
  return false;
}

export interface UidScrubResult {
  readonly elements: DataElement[];
  /** Elements whose text had an original UID replaced, or that were removed for holding one. */
  readonly scrubbed: number;
}

/**
 * The last pass over an output: no original UID the profile replaces may survive anywhere, in
 * whatever VR (a kept UI attribute the table does not list, a URL, a comment, kept private
 * bytes). In UI and text values each occurrence is replaced by its remapped UID, so a reference
 * written as text still points at the de-identified instance; a binary value holding one cannot
 * be edited safely and is removed.
 */
export function scrubUids(elements: readonly DataElement[], replaced: ReadonlySet<string>, remap: (uid: string) => string): UidScrubResult {
  let scrubbed = 0;
  const walk = (list: readonly DataElement[]): DataElement[] => {
    const out: DataElement[] = [];
    for (const e of list) {
      if (e.kind === 'sequence') {
        out.push({ ...e, items: e.items.map((item) => ({ ...item, elements: walk(item.elements) })) });
        continue;
      }
      if (e.kind !== 'value' || e.value.length === 0) {
        out.push(e);
        continue;
      }
      const text = e.value.toString('latin1');
      let hit = false;
      const rewritten = text.replace(UID_IN_TEXT, (uid) => {
        if (!replaced.has(uid) && !containsReplaced(uid, replaced)) return uid;
        hit = true;
        return remap(uid);
      });
      if (!hit) {
        out.push(e);
        continue;
      }
      scrubbed++;
      if (isStringVr(e.vr)) out.push({ ...e, value: Buffer.from(rewritten, 'latin1') });
      // a binary value (kept private bytes, UN) holding an original UID: removed
    }
    return out;
  };
  return { elements: walk(elements), scrubbed };
}
