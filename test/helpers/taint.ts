import { type DataElement, type Item, asciiValue } from '../../src/dicom/dataset.js';
import { buildFileMeta } from '../../src/dicom/file-meta.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, elementOf, groupOf, isPrivateTag, tagKey, tagOf } from '../../src/dicom/tag.js';
import { writePart10File } from '../../src/dicom/write-file.js';
import { DICTIONARY_VR } from '../../src/dicom/dictionary.generated.js';
import { type SupportedOption } from '../../src/deid/profile.js';
import { PROFILE_PATTERN_ROWS, PROFILE_ROWS } from '../../src/deid/rules/confidentiality-profile.generated.js';
import { SAFE_PRIVATE_ATTRIBUTES } from '../../src/deid/rules/safe-private.generated.js';

/**
 * Taint testing: every text value of a file, at every depth, gets a unique mark; every UID of a
 * U row gets a fresh recorded value. After de-identification a mark may survive only where the
 * profile (read from Table E.1-1 itself, not from the engine) keeps the attribute, and no recorded
 * UID may survive anywhere in the bytes. The oracle below is the specification; it shares no code
 * with the engine's rule resolution.
 */

/** Text VRs that can carry a name or an identifier. */
const MARKED_VRS = new Set(['PN', 'LO', 'SH', 'LT', 'ST', 'UT', 'UC', 'UR', 'AE']);
export const MARK = /TQ[A-Z]{5}Z/g;

export interface Step { readonly tag: number; readonly creator?: string }
export interface Mark { readonly path: readonly Step[]; readonly vr: string }
export interface Tainted {
  readonly path: string;
  readonly marks: ReadonlyMap<string, Mark>;
  /** Fresh UIDs written in place of every U-row UID (and planted elsewhere). */
  readonly uids: ReadonlySet<string>;
}

const letters = (n: number): string => {
  let s = '';
  for (let i = 0; i < 5; i++) {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
};

const creatorOf = (tag: number, siblings: readonly DataElement[]): string | undefined => {
  const c = siblings.find((x) => x.tag === tagOf(groupOf(tag), elementOf(tag) >> 8));
  return c?.kind === 'value' ? c.value.toString('latin1').replace(/[\0 ]+$/, '').trim() : undefined;
};
const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');
/** The key of Table E.3.10-1: creator, group, low byte of the element. */
const safeKey = (step: Step): string => `${step.creator ?? ''}|${hex(groupOf(step.tag), 4)}|${hex(elementOf(step.tag) & 0xff, 2)}`;
/** Text VRs long enough to hold a second mark. */
const DESCRIBING_VRS = new Set(['LO', 'LT', 'ST', 'UT', 'UC']);
/** Descriptions: the C rows of Clean Descriptors, and free text the table does not list. */
const describes = (tag: number): boolean => {
  const row = PROFILE_ROWS.get(tagKey(tag));
  return row ? row.options.cleanDescriptors === 'C' : ['LT', 'ST', 'UT', 'UC'].includes(DICTIONARY_VR.get(tagKey(tag)) ?? '');
};
const isCreator = (tag: number): boolean => isPrivateTag(tag) && elementOf(tag) >= 0x10 && elementOf(tag) <= 0xff;

/** A standard text attribute that Table E.1-1 does not list: kept, so planted UIDs in it must be scrubbed. */
const UNLISTED_TEXT = [...DICTIONARY_VR.entries()].find(([k, vr]) => vr === 'LT' && !PROFILE_ROWS.has(k) && !k.startsWith('0002'))?.[0];

export async function taintFile(input: string, output: string): Promise<Tainted> {
  const file = await readDicomFile(input);
  const marks = new Map<string, Mark>();
  const uidMap = new Map<string, string>();
  let counter = 0;
  const fresh = (original: string): string => {
    let u = uidMap.get(original);
    if (!u) {
      u = `1.2.826.0.1.3680043.10.1137.77.${100000 + uidMap.size}`;
      uidMap.set(original, u);
    }
    return u;
  };
  const mark = (path: Step[], vr: string): string => {
    const m = `TQ${letters(counter++)}Z`;
    marks.set(m, { path, vr });
    return m;
  };

  const walk = (elements: readonly DataElement[], parent: Step[]): DataElement[] => elements.map((e) => {
    const step: Step = isPrivateTag(e.tag) ? { tag: e.tag, ...(creatorOf(e.tag, elements) ? { creator: creatorOf(e.tag, elements) } : {}) } : { tag: e.tag };
    const path = [...parent, step];
    if (e.kind === 'sequence') {
      return { ...e, items: e.items.map((item): Item => ({ ...item, elements: walk(item.elements, path) })) };
    }
    if (e.kind !== 'value' || groupOf(e.tag) === 0x0002 || isCreator(e.tag)) return e;
    // Opaque private bytes are marked too, except where Table E.3.10-1 says they are numbers: a
    // mark there would make a kept safe value unreadable, which tests the taint, not the engine.
    const safeVr = isPrivateTag(e.tag) ? SAFE_PRIVATE_ATTRIBUTES.get(safeKey(step)) : undefined;
    const opaquePrivate = isPrivateTag(e.tag) && (e.vr === 'UN' || e.vr === 'OB') && (safeVr === undefined || MARKED_VRS.has(safeVr));
    // Standard bytes the reader could not type (a sequence sent as UN that does not parse) can hold anything.
    const opaqueStandard = !isPrivateTag(e.tag) && e.vr === 'UN';
    if (parent.length === 0 && e.tag === Tags.PatientName) return { ...e, value: Buffer.from(patientMark, 'latin1') };
    if (MARKED_VRS.has(e.vr) || opaquePrivate || opaqueStandard) {
      // A description also names the patient: the Clean Descriptors cleaner must take that out.
      const named = hasName && DESCRIBING_VRS.has(e.vr) && describes(e.tag) ? ` ${patientMark}` : '';
      return { ...e, value: Buffer.from(mark(path, e.vr) + named, 'latin1') };
    }
    if (e.vr === 'UI' && !isPrivateTag(e.tag) && PROFILE_ROWS.get(tagKey(e.tag))?.basic === 'U') {
      const values = e.value.toString('latin1').replace(/[\0 ]+$/, '').split('\\').map((u) => (u.trim() === '' ? '' : fresh(u.trim())));
      return { ...e, value: Buffer.from(values.join('\\'), 'latin1') };
    }
    return e;
  });
  const patientMark = mark([{ tag: Tags.PatientName }], 'PN');
  // Only a name the file holds can be known to the cleaner.
  const hasName = file.dataset.some((e) => e.tag === Tags.PatientName && e.kind === 'value' && e.value.length > 0);
  const dataset = walk(file.dataset, []);

  // Plant original UIDs where no U row names them: a URL, an unlisted kept text, a private value.
  const study = asciiValue(dataset, Tags.StudyInstanceUID);
  const sop = asciiValue(dataset, Tags.SOPInstanceUID);
  const planted: DataElement[] = [];
  const text = (tag: number, vr: string, s: string): DataElement => ({ kind: 'value', tag, vr, value: Buffer.from(s, 'latin1') });
  if (study && !dataset.some((e) => e.tag === tagOf(0x0008, 0x1190))) {
    planted.push(text(tagOf(0x0008, 0x1190), 'UR', `https://pacs.example/studies/${study}`));
  }
  if (sop && UNLISTED_TEXT && !dataset.some((e) => tagKey(e.tag) === UNLISTED_TEXT)) {
    const tag = parseInt(UNLISTED_TEXT, 16);
    planted.push(text(tag, 'LT', `see ${sop} ${mark([{ tag }], 'LT')}`));
  }
  if (sop && !dataset.some((e) => groupOf(e.tag) === 0x0077)) {
    planted.push(text(tagOf(0x0077, 0x0010), 'LO', 'TAINT PROBE'));
    planted.push(text(tagOf(0x0077, 0x1001), 'LO', `${sop} ${mark([{ tag: tagOf(0x0077, 0x1001), creator: 'TAINT PROBE' }], 'LO')}`));
  }
  const all = [...dataset, ...planted].sort((a, b) => a.tag - b.tag);
  await writePart10File(output, {
    meta: buildFileMeta(asciiValue(all, Tags.SOPClassUID) ?? '1.2.3', sop ?? '1.2.3', file.transferSyntax.uid),
    dataset: all, transferSyntax: file.transferSyntax, sourceEncoding: file.encoding, sourcePath: file.sourcePath,
    ...(file.bytes ? { sourceBytes: file.bytes } : {}),
  });
  return { path: output, marks, uids: new Set(uidMap.values()) };
}

// ---------- the oracle: what the profile, with these options, lets survive ----------

/** Attributes of a coded entry: inside SR content and graphics that a Clean option keeps, they stay. */
const CODE_TEXT = new Set([0x00080100, 0x00080102, 0x00080103, 0x00080104, 0x00080119, 0x00080122]);
const TEXT_OBJECT_SEQUENCE = 0x00700008;
type Mode = 'normal' | 'descriptors' | 'structuredContent' | 'graphics';
const CLEAN_COLUMNS: ReadonlyArray<readonly [SupportedOption, Exclude<Mode, 'normal'>]> = [
  ['cleanDescriptors', 'descriptors'], ['cleanStructuredContent', 'structuredContent'], ['cleanGraphics', 'graphics'],
];
const RETAIN: readonly SupportedOption[] = ['retainUIDs', 'retainDeviceIdentity', 'retainInstitutionIdentity', 'retainPatientCharacteristics', 'retainSafePrivate'];

/** The effective code of Table E.1-1 for a tag under the options: 'K', 'C:<cleaner>', a Basic code, or undefined (unlisted). */
function effectiveCode(tag: number, options: ReadonlySet<SupportedOption>): string | undefined {
  let row = PROFILE_ROWS.get(tagKey(tag));
  const group = groupOf(tag);
  if (!row && (group & 0xff00) === 0x6000) return 'X'; // overlay planes: the (60xx,3000) row
  row ??= PROFILE_PATTERN_ROWS.find((p) => p.groupHigh !== null && group >> 8 === p.groupHigh && (p.element === null || p.element === elementOf(tag)));
  if (!row) return undefined;
  if (options.has('retainLongModifiedDates') && row.options.retainLongModifiedDates === 'C') return 'C:dates';
  if (options.has('retainLongFullDates') && row.options.retainLongFullDates === 'K') return 'K';
  for (const o of RETAIN) if (options.has(o) && row.options[o] === 'K') return 'K';
  for (const [o, mode] of CLEAN_COLUMNS) if (options.has(o) && row.options[o] === 'C') return `C:${mode}`;
  return row.basic;
}

const safePrivate = (step: Step): boolean => step.creator !== undefined && SAFE_PRIVATE_ATTRIBUTES.has(safeKey(step));

/** Whether a mark at `path` may survive de-identification with `options` (dates options resolved). */
export function maySurvive(m: Mark, options: ReadonlySet<SupportedOption>): boolean {
  let mode: Mode = 'normal';
  const last = m.path[m.path.length - 1];
  // A standard attribute is what the dictionary says it is, whatever VR the file wrote.
  const vr = last && !isPrivateTag(last.tag) ? (DICTIONARY_VR.get(tagKey(last.tag))?.split(' or ')[0] ?? m.vr) : m.vr;
  if (vr === 'SQ') return false; // a sequence sent as bytes the reader could not parse
  for (const [i, step] of m.path.entries()) {
    const leaf = i === m.path.length - 1;
    if (isPrivateTag(step.tag)) {
      if (!options.has('retainSafePrivate') || !safePrivate(step)) return false;
      continue;
    }
    if (i === 0 && (step.tag === Tags.PatientName || step.tag === Tags.PatientID)) return false;
    if (mode === 'graphics' && step.tag === TEXT_OBJECT_SEQUENCE) return false;
    const code = effectiveCode(step.tag, options);
    if (!leaf) {
      if (code === undefined && !DICTIONARY_VR.has(tagKey(step.tag))) return false; // unknown: removed with its items
      if (code === undefined || code === 'K' || code === 'X/Z/U*' || code === 'C:dates') continue;
      if (code.startsWith('C:')) {
        mode = code.slice(2) as Mode;
        continue;
      }
      return false;
    }
    if (code === undefined && !DICTIONARY_VR.has(tagKey(step.tag))) return false; // unknown: cannot be classified
    if (vr === 'UR' && code === undefined) return false; // network locations go
    if (vr === 'PN' && code === undefined) return false; // a person name is one, listed or not
    // Free text the table does not list can hold anything: only a descriptor cleaner may keep it.
    if (['LT', 'ST', 'UT', 'UC'].includes(vr) && code === undefined && mode === 'normal' && !options.has('cleanDescriptors')) return false;
    // A marked value is text: under a dates C row it is no date (Timezone Offset From UTC) and goes.
    const kept = code === undefined || code === 'K' || code === 'C:descriptors';
    if (!kept) return false;
    if (mode === 'structuredContent' || mode === 'graphics') return CODE_TEXT.has(step.tag);
    return true;
  }
  return true;
}
