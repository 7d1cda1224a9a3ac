import { readFile } from 'node:fs/promises';

/** Why an attribute is one of "the places to look". */
export type Highlight = 'description' | 'date-time' | 'free-text';

/** One attribute left in a de-identified output, at any depth. */
export interface SampleAttribute {
  /** The tag path: `(0040,0275)[0]/(0040,0007)` (items numbered from 0). Marks name attributes by it. */
  readonly path: string;
  /** This attribute's own tag, `(gggg,eeee)`. */
  readonly tag: string;
  /** The dictionary's keyword; absent for private and unknown attributes. */
  readonly keyword?: string;
  readonly vr: string;
  /** 0 at the top level, 1 inside one sequence, … */
  readonly depth: number;
  /** The value as text: strings joined by `\`, numbers, a sequence's item count, binary values and pixel data as their sizes. */
  readonly value: string;
  readonly highlight?: Highlight;
}

interface RawElement {
  readonly vr: string;
  readonly Value?: readonly unknown[];
}
type RawDataset = Readonly<Record<string, RawElement>>;

const FREE_TEXT_VRS = new Set(['LO', 'LT', 'ST', 'UT', 'SH', 'PN', 'UC']);
const DATE_TIME_VRS = new Set(['DA', 'DT', 'TM']);
/** Keywords that hold someone's description of the patient or procedure, whatever their VR. */
const DESCRIPTIVE = /(Description|Comments?|Remarks|Notes|History|ReasonFor[A-Za-z]*|ProtocolName|Impressions?|Findings|Diagnos[ie]s|Occupation|Label|Title)$/;
const MAX_VALUE_TEXT = 4000;
const BINARY_VRS = new Set(['OB', 'OW', 'OD', 'OF', 'OL', 'OV', 'UN']);

/** The reason an attribute with a non-empty value is highlighted, if it is. */
export function highlightOf(keyword: string | undefined, vr: string, value: string): Highlight | undefined {
  if (value === '' || vr === 'SQ') return undefined;
  if (keyword !== undefined && DESCRIPTIVE.test(keyword)) return 'description';
  if (DATE_TIME_VRS.has(vr)) return 'date-time';
  if (FREE_TEXT_VRS.has(vr)) return 'free-text';
  return undefined;
}

const byteSize = (v: unknown): number | undefined =>
  v instanceof ArrayBuffer ? v.byteLength : ArrayBuffer.isView(v) ? v.byteLength : undefined;

function personName(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') {
    const p = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    return [p.Alphabetic ?? '', p.Ideographic ?? '', p.Phonetic ?? ''].join('=').replace(/=+$/, '');
  }
  return String(v);
}

function valueText(tag: string, el: RawElement): string {
  const values = el.Value ?? [];
  if (tag === '7FE00010' || BINARY_VRS.has(el.vr)) {
    const sizes = values.map(byteSize).filter((n): n is number => n !== undefined);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (tag === '7FE00010') return sizes.length > 1 ? `pixel data: ${sizes.length} fragments, ${bytes} bytes` : `pixel data: ${bytes} bytes`;
    return `${bytes} bytes`;
  }
  const text = values.map((v) => (el.vr === 'PN' ? personName(v) : byteSize(v) !== undefined ? `${byteSize(v)} bytes` : String(v))).join('\\');
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT)}… (${text.length} characters)` : text;
}

/**
 * Every attribute of a de-identified output at every depth, in file order, read back by dcmjs
 * (as the quarantine review's header preview is: what the researcher's software will read),
 * with the places to look highlighted: free text, dates and times, and descriptions. Only for
 * our own outputs: these values are what was delivered, never an original's.
 */
export async function attributesOf(outputPath: string): Promise<SampleAttribute[]> {
  return attributesOfBytes(await readFile(outputPath));
}

/** attributesOf for an output already read (QA reads its outputs itself, checked: delivered-output.ts). */
export async function attributesOfBytes(bytes: Buffer): Promise<SampleAttribute[]> {
  const { default: dcmjs } = await import('dcmjs');
  dcmjs.log.setLevel('silent');
  const parsed = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const dictionary = (dcmjs.data.DicomMetaDictionary as unknown as { dictionary: Readonly<Record<string, { name?: string } | undefined>> }).dictionary;
  const out: SampleAttribute[] = [];
  const walk = (ds: RawDataset, prefix: string, depth: number): void => {
    for (const key of Object.keys(ds).sort()) {
      const el = ds[key];
      if (!el || key.startsWith('_')) continue;
      const tag = `(${key.slice(0, 4)},${key.slice(4)})`.toUpperCase();
      const path = `${prefix}${tag}`;
      const group = parseInt(key.slice(0, 4), 16);
      const known = group % 2 === 1 ? undefined : dictionary[`(${key.slice(0, 4)},${key.slice(4)})`.toUpperCase()]?.name;
      const keyword = known && /^[A-Za-z0-9]+$/.test(known) ? known : undefined;
      if (el.vr === 'SQ') {
        const items = (el.Value ?? []) as RawDataset[];
        out.push({ path, tag, ...(keyword ? { keyword } : {}), vr: 'SQ', depth, value: `${items.length} item(s)` });
        items.forEach((item, i) => walk(item, `${path}[${i}]/`, depth + 1));
        continue;
      }
      const value = valueText(key.toUpperCase(), el);
      const highlight = highlightOf(keyword, el.vr, value);
      out.push({ path, tag, ...(keyword ? { keyword } : {}), vr: el.vr, depth, value, ...(highlight ? { highlight } : {}) });
    }
  };
  walk(parsed.dict as RawDataset, '', 0);
  return out;
}
