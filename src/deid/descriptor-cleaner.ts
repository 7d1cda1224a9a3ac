import { type DataElement } from '../dicom/dataset.js';
import { tagKey } from '../dicom/tag.js';
import { PROFILE_ROWS } from './rules/confidentiality-profile.generated.js';
import { shiftYmd } from './date-shift.js';

/**
 * Clean Descriptors (PS3.15 E.3.5): a description keeps its clinical words and loses what
 * identifies: the names of the people in the same file (any component order, any case), the
 * identifiers and other values the profile removes from it, dates (shifted by the project's
 * shift, or removed when they cannot be read unambiguously), phone numbers, e-mail addresses,
 * URLs, UIDs and MRN-like digit runs. Removal, never replacement: a cleaned value is never longer.
 */
export interface DescriptorContext {
  /** Name components of every person name in the file, lower case. */
  readonly nameTokens: readonly string[];
  /** Whole values the profile does not keep (IDs, accession and serial numbers, institutions), lower case. */
  readonly phrases: readonly string[];
  /** Days to shift dates by; undefined keeps dates (Retain Full Dates). */
  readonly shiftDays: number | undefined;
  /** How the file's text is read: UTF-8 (ISO_IR 192), so names match in any case, else byte for byte. */
  readonly encoding: BufferEncoding;
}

/** UTF-8 text is decoded as such; every other cleanable set is matched byte for byte (latin1). */
export const textEncodingFor = (charsets: readonly string[]): BufferEncoding =>
  charsets.some((c) => c.trim() === 'ISO_IR 192') ? 'utf8' : 'latin1';

const TEXT_VRS_WITH_IDENTIFIERS = new Set(['LO', 'SH']);
/** Titles and suffixes in names: removing them from a description would remove ordinary words. */
const NAME_STOP = new Set(['dr', 'mr', 'mrs', 'ms', 'md', 'jr', 'sr', 'phd', 'ii', 'iii', 'prof']);

const trimmed = (b: Buffer, encoding: BufferEncoding): string => b.toString(encoding).replace(/[\0 ]+$/, '').trim();

/**
 * What to look for in this file's descriptors. Every PN value gives its name components; every LO/SH
 * value of an attribute the table does not keep (and that is not itself a descriptor) gives its
 * whole value. `kept` says whether the profile keeps an attribute (then it need not be hunted).
 */
export function descriptorContext(dataset: readonly DataElement[], shiftDays: number | undefined, encoding: BufferEncoding = 'latin1'): DescriptorContext {
  const names = new Set<string>();
  const phrases = new Set<string>();
  const walk = (list: readonly DataElement[]): void => {
    for (const e of list) {
      if (e.kind === 'sequence') {
        for (const item of e.items) walk(item.elements);
        continue;
      }
      if (e.kind !== 'value') continue;
      if (e.vr === 'PN') {
        for (const part of trimmed(e.value, encoding).toLowerCase().split(/[\^=,\s\\]+/)) {
          // 'smith-jones' is also 'smith' and 'jones'; a Han or kana name part may be one character.
          for (const t of new Set([part, ...part.split('-')])) {
            if ((t.length >= 2 || CJK.test(t)) && !NAME_STOP.has(t.replace(/\.$/, ''))) names.add(t);
          }
        }
        continue;
      }
      const row = PROFILE_ROWS.get(tagKey(e.tag));
      if (!row || row.basic === 'K' || row.options.cleanDescriptors === 'C' || !TEXT_VRS_WITH_IDENTIFIERS.has(e.vr)) continue;
      for (const v of trimmed(e.value, encoding).toLowerCase().split('\\')) if (v.trim().length >= 3) phrases.add(v.trim());
    }
  };
  walk(dataset);
  // Longest first, so a phrase is removed whole before a shorter one inside it.
  const byLength = (a: string, b: string): number => b.length - a.length || a.localeCompare(b);
  return { nameTokens: [...names].sort(byLength), phrases: [...phrases].sort(byLength), shiftDays, encoding };
}

// Letters and digits of any script (and any high byte, when text is matched byte for byte).
const WORD = '\\p{L}\\p{N}\\p{M}\\u0080-\\u00ff';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Han, kana and hangul: written without spaces, so a name in them is found wherever it stands. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const wholeWord = (s: string): RegExp =>
  CJK.test(s) ? new RegExp(escape(s), 'giu') : new RegExp(`(?<![${WORD}])${escape(s)}(?![${WORD}])`, 'giu');

const URL = /\b(?:https?|ftp|file|dicomweb):\/\/\S+|\bwww\.\S+/gi;
/** A UID in a description points at some instance: removed whole, before any digit run inside it is. */
const UID_LIKE = /(?<![\w.])\d+(?:\.\d+){3,}(?![\w])/g;
const EMAIL = /(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}/g; // bounded: linear on hostile text
const ISO_DATE = /(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d.])/g;
const DMY_DATE = /(?<![\d.])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d.])/g;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?';
const DAY_MONTH_YEAR = new RegExp(`(?<![${WORD}])(\\d{1,2})(?:st|nd|rd|th)?([\\s/-]+)${MONTH}([\\s,/-]+)(\\d{4})(?!\\d)`, 'giu');
const MONTH_DAY_YEAR = new RegExp(`(?<![${WORD}])${MONTH}(\\s+)(\\d{1,2})(?:st|nd|rd|th)?(,?\\s+)(\\d{4})(?!\\d)`, 'giu');
const PHONE = /(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w.])/g;
const DIGIT_RUN = /(?<![\d])[A-Za-z]{0,5}\d{6,}[A-Za-z]{0,3}(?![\d])/g;
const COMPACT_DATE = /^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The date shifted (`undefined`: not a real date). Keeps dates as they are when nothing shifts. */
function shifted(y: number, m: number, d: number, days: number | undefined): { y: number; m: number; d: number } | undefined {
  const date = shiftYmd(y, m, d, days ?? 0);
  return date && { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate() };
}

function cleanDates(text: string, days: number | undefined): string {
  let out = text.replace(ISO_DATE, (_all, y: string, sep: string, m: string, d: string) => {
    const s = shifted(Number(y), Number(m), Number(d), days);
    return s ? `${pad(s.y, 4)}${sep}${pad(s.m, m.length)}${sep}${pad(s.d, d.length)}` : '';
  });
  out = out.replace(DMY_DATE, (_all, a: string, sep: string, b: string, y: string) => {
    if (y.length !== 4) return ''; // a two-digit year cannot be shifted reliably
    const [first, second] = [Number(a), Number(b)];
    let dayFirst: boolean;
    if (first > 12 && second <= 12) dayFirst = true;
    else if (second > 12 && first <= 12) dayFirst = false;
    else if (first === second) dayFirst = true;
    else return ''; // 03/04/2024: March or April, unknowable
    const s = dayFirst ? shifted(Number(y), second, first, days) : shifted(Number(y), first, second, days);
    if (!s) return '';
    return dayFirst ? `${pad(s.d, a.length)}${sep}${pad(s.m, b.length)}${sep}${s.y}` : `${pad(s.m, a.length)}${sep}${pad(s.d, b.length)}${sep}${s.y}`;
  });
  const monthName = (m: number, like: string): string => {
    const name = MONTHS[m - 1] ?? '';
    if (like === like.toUpperCase()) return name.toUpperCase();
    return like[0] === like[0]?.toUpperCase() ? name[0]?.toUpperCase() + name.slice(1) : name;
  };
  out = out.replace(DAY_MONTH_YEAR, (_all, d: string, sep1: string, mon: string, sep2: string, y: string) => {
    const s = shifted(Number(y), MONTHS.indexOf(mon.toLowerCase()) + 1, Number(d), days);
    return s ? `${pad(s.d, d.length)}${sep1}${monthName(s.m, mon)}${sep2}${s.y}` : '';
  });
  out = out.replace(MONTH_DAY_YEAR, (_all, mon: string, sep1: string, d: string, sep2: string, y: string) => {
    const s = shifted(Number(y), MONTHS.indexOf(mon.toLowerCase()) + 1, Number(d), days);
    return s ? `${monthName(s.m, mon)}${sep1}${pad(s.d, d.length)}${sep2}${s.y}` : '';
  });
  return out;
}

const isDate = (s: string): boolean => {
  for (const re of [ISO_DATE, DMY_DATE]) {
    re.lastIndex = 0;
    const m = re.exec(s);
    if (m && m[0] === s) return true;
  }
  return false;
};

/**
 * One descriptor value, cleaned, in the file's own encoding. UTF-8 that does not decode cleanly is
 * matched byte for byte instead, so no byte changes but those removed.
 */
export function cleanDescriptorBytes(value: Buffer, ctx: DescriptorContext): Buffer {
  if (ctx.encoding === 'utf8') {
    const text = value.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(value)) return Buffer.from(cleanDescriptorText(text, ctx), 'utf8');
  }
  return Buffer.from(cleanDescriptorText(value.toString('latin1'), ctx), 'latin1');
}

/** One descriptor value as text, cleaned. */
export function cleanDescriptorText(text: string, ctx: DescriptorContext): string {
  let out = text.replace(URL, ' ').replace(EMAIL, ' ').replace(UID_LIKE, ' ');
  for (const p of ctx.phrases) out = out.replace(wholeWord(p), ' ');
  for (const n of ctx.nameTokens) out = out.replace(wholeWord(n), ' ');
  out = out.replace(PHONE, (m) => {
    const digits = m.replace(/\D/g, '').length;
    const phoneLike = /[-.(+]/.test(m) || /^0\d/.test(m);
    return digits >= 7 && phoneLike && !isDate(m) ? ' ' : m;
  });
  out = cleanDates(out, ctx.shiftDays);
  out = out.replace(DIGIT_RUN, (run) => {
    if (!COMPACT_DATE.test(run)) return ' ';
    const s = shifted(Number(run.slice(0, 4)), Number(run.slice(4, 6)), Number(run.slice(6, 8)), ctx.shiftDays);
    return s ? `${pad(s.y, 4)}${pad(s.m, 2)}${pad(s.d, 2)}` : ' ';
  });
  // What removal leaves: runs of spaces, separators left alone ('^' between two removed names),
  // spaces before punctuation, punctuation at either end.
  return out.split('\\').map((v) => v
    .replace(/(^|\s)[\^,;:=]+(?=\s|$)/g, '$1').replace(/[ \t]{2,}/g, ' ').replace(/ +([,.;:)])/g, '$1')
    .replace(/^[\s,;:=^]+|[\s,;:=^]+$/g, '')).join('\\');
}

// Character sets whose every byte below 0x80 is ASCII and that never use escape sequences.
const ASCII_COMPATIBLE = new Set([
  '', 'ISO_IR 6', 'ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127', 'ISO_IR 126',
  'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 203', 'ISO_IR 166', 'ISO_IR 192', 'ISO 2022 IR 6', 'ISO 2022 IR 100',
  'ISO 2022 IR 101', 'ISO 2022 IR 109', 'ISO 2022 IR 110', 'ISO 2022 IR 144', 'ISO 2022 IR 127', 'ISO 2022 IR 126',
  'ISO 2022 IR 138', 'ISO 2022 IR 148', 'ISO 2022 IR 203', 'ISO 2022 IR 166',
]);

/**
 * Whether a value can be cleaned as bytes: pure ASCII always can; otherwise only in character sets
 * where a byte below 0x80 is always an ASCII character (not GB18030, GBK, Shift JIS trail bytes)
 * and without ISO 2022 escapes, whose shifted bytes a removal could cut in two.
 */
export function cleanableBytes(value: Buffer, charsets: readonly string[]): boolean {
  if (value.includes(0x1b)) return false;
  if (value.every((b) => b < 0x80)) return true;
  return charsets.every((c) => ASCII_COMPATIBLE.has(c.trim()));
}
