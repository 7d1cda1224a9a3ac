import type { ProjectRecord } from '../config/project-record.js';
import { type DataElement, type ValueElement, sortElements, valueOf } from '../dicom/dataset.js';
import { Tags, tagOf } from '../dicom/tag.js';
import { isStringVr } from '../dicom/vr.js';

/** The Clinical Trial Subject attributes a project record stamps (PS3.3 C.7.1.3). */
export const CLINICAL_TRIAL_TAGS = {
  sponsorName: tagOf(0x0012, 0x0010),
  protocolId: tagOf(0x0012, 0x0020),
  protocolName: tagOf(0x0012, 0x0021),
  siteId: tagOf(0x0012, 0x0030),
  siteName: tagOf(0x0012, 0x0031),
  subjectId: tagOf(0x0012, 0x0040),
} as const;

const ASCII = /^[\x20-\x7e]*$/;
const UTF8 = 'ISO_IR 192';

/** How the record's text is written into this output, and the character set to declare if it changes. */
interface TextCoding {
  readonly encode: (s: string) => Buffer;
  readonly declare?: string;
}

/** Every text value at every depth is ASCII: declaring UTF-8 then changes the meaning of none. */
function allTextAscii(elements: readonly DataElement[]): boolean {
  return elements.every((e) => {
    if (e.kind === 'sequence') return e.items.every((item) => allTextAscii(item.elements));
    if (e.kind !== 'value' || (!isStringVr(e.vr) && e.vr !== 'UN')) return true;
    return e.value.every((b) => b < 0x80);
  });
}

/** Non-ASCII that this output cannot carry: accents dropped, the rest '?'. Better than mis-encoded bytes. */
const foldToAscii = (s: string): string => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '?').slice(0, 64);

/**
 * Kept values are copied as bytes in the input's Specific Character Set, so the record's text must
 * be written in that same set: ASCII (the same bytes in every set), UTF-8 under ISO_IR 192,
 * Latin-1 under ISO_IR 100. An output in the default repertoire whose text is all ASCII is
 * declared ISO_IR 192 instead. Anything else (another set, ISO 2022 extensions, or non-ASCII bytes
 * under the default repertoire) gets the text folded to ASCII rather than bytes a reader would
 * decode as something else.
 */
function textCoding(dataset: readonly DataElement[], values: readonly string[]): TextCoding {
  const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
  if (values.every((v) => ASCII.test(v))) return { encode: latin1 };
  const terms = (valueOf(dataset, Tags.SpecificCharacterSet)?.toString('latin1') ?? '').split('\\').map((t) => t.replace(/\0/g, '').trim());
  const only = terms.length === 1 ? terms[0] : undefined;
  if (only === UTF8) return { encode: (s) => Buffer.from(s, 'utf8') };
  if (only === 'ISO_IR 100' && values.every((v) => [...v].every((c) => c.charCodeAt(0) <= 0xff))) return { encode: latin1 };
  if ((only === '' || only === 'ISO_IR 6') && allTextAscii(dataset)) return { encode: (s) => Buffer.from(s, 'utf8'), declare: UTF8 };
  return { encode: (s) => latin1(foldToAscii(s)) };
}

/**
 * Stamps the project record into a de-identified dataset, after the profile has run: the profile
 * dummies or empties an input's own Clinical Trial attributes, and these replace them, so no
 * input value of the six survives. Protocol Name, Site ID and Site Name are Type 2: present,
 * empty when the record has none. The Subject ID is the patient's pseudonym.
 */
export function stampClinicalTrial(dataset: readonly DataElement[], record: ProjectRecord, pseudonym: string): DataElement[] {
  const values: ReadonlyArray<readonly [number, string]> = [
    [CLINICAL_TRIAL_TAGS.sponsorName, record.sponsorName ?? record.principalInvestigator],
    [CLINICAL_TRIAL_TAGS.protocolId, record.protocolId],
    [CLINICAL_TRIAL_TAGS.protocolName, record.protocolName ?? ''],
    [CLINICAL_TRIAL_TAGS.siteId, record.siteId ?? ''],
    [CLINICAL_TRIAL_TAGS.siteName, record.siteName ?? ''],
    [CLINICAL_TRIAL_TAGS.subjectId, pseudonym],
  ];
  const coding = textCoding(dataset, values.map(([, v]) => v.trim()));
  const stamped = new Set(values.map(([tag]) => tag));
  const out = dataset.filter((e) => !stamped.has(e.tag) && !(coding.declare && e.tag === Tags.SpecificCharacterSet));
  if (coding.declare) out.push({ kind: 'value', tag: Tags.SpecificCharacterSet, vr: 'CS', value: Buffer.from(coding.declare, 'latin1') });
  for (const [tag, v] of values) {
    const element: ValueElement = { kind: 'value', tag, vr: 'LO', value: coding.encode(v.trim()) };
    out.push(element);
  }
  return sortElements(out);
}
