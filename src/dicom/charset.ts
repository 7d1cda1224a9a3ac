/**
 * Decodes DICOM text in any Specific Character Set, including ISO 2022 code extensions, for the
 * honest broker's crosswalk (the store keeps original identifiers readable). The de-identified
 * output never needs this: kept values are copied as bytes and replacements are plain ASCII,
 * which every DICOM character set represents identically.
 */

// Single-byte and ASCII-compatible multi-byte sets: term → WHATWG encoding label.
const SINGLE: Record<string, string> = {
  '': 'windows-1252', 'ISO_IR 6': 'windows-1252', 'ISO_IR 100': 'iso-8859-1', 'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3', 'ISO_IR 110': 'iso-8859-4', 'ISO_IR 144': 'iso-8859-5', 'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7', 'ISO_IR 138': 'iso-8859-8', 'ISO_IR 148': 'iso-8859-9', 'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 13': 'shift_jis', 'ISO_IR 166': 'windows-874', 'ISO_IR 192': 'utf-8', GB18030: 'gb18030', GBK: 'gbk',
};

// ISO 2022 escape sequences (PS3.3 C.12.1.1.2, PS3.5 6.1.2.5) → how to decode the bytes that follow.
const ESCAPES: ReadonlyArray<readonly [string, string]> = [
  ['\x1b(B', 'ascii'], ['\x1b(J', 'jis-roman'], ['\x1b)I', 'shift_jis'], ['\x1b$B', 'jisx0208'],
  ['\x1b$(D', 'jisx0212'], ['\x1b$)C', 'euc-kr'], ['\x1b$)A', 'gb18030'], ['\x1b-A', 'iso-8859-1'],
  ['\x1b-B', 'iso-8859-2'], ['\x1b-C', 'iso-8859-3'], ['\x1b-D', 'iso-8859-4'], ['\x1b-L', 'iso-8859-5'],
  ['\x1b-G', 'iso-8859-6'], ['\x1b-F', 'iso-8859-7'], ['\x1b-H', 'iso-8859-8'], ['\x1b-M', 'iso-8859-9'],
  ['\x1b-b', 'iso-8859-15'], ['\x1b-T', 'windows-874'],
];

const INITIAL_G1: Record<string, string> = {
  'ISO 2022 IR 100': 'iso-8859-1', 'ISO 2022 IR 101': 'iso-8859-2', 'ISO 2022 IR 109': 'iso-8859-3',
  'ISO 2022 IR 110': 'iso-8859-4', 'ISO 2022 IR 144': 'iso-8859-5', 'ISO 2022 IR 127': 'iso-8859-6',
  'ISO 2022 IR 126': 'iso-8859-7', 'ISO 2022 IR 138': 'iso-8859-8', 'ISO 2022 IR 148': 'iso-8859-9',
  'ISO 2022 IR 203': 'iso-8859-15', 'ISO 2022 IR 13': 'shift_jis', 'ISO 2022 IR 166': 'windows-874',
  'ISO 2022 IR 149': 'euc-kr', 'ISO 2022 IR 58': 'gb18030',
};

function decodeSegment(bytes: Buffer, how: string): string {
  switch (how) {
    case 'ascii':
    case 'jis-roman':
      return bytes.toString('latin1');
    case 'jisx0208':
      // JIS X 0208 as 7-bit pairs: EUC-JP is the same code with the high bits set.
      return new TextDecoder('euc-jp').decode(Buffer.from(bytes.map((b) => b | 0x80)));
    case 'jisx0212':
      return new TextDecoder('euc-jp').decode(Buffer.from([...bytes].flatMap((b, i) => (i % 2 === 0 ? [0x8f, b | 0x80] : [b | 0x80]))));
    default:
      return new TextDecoder(how).decode(bytes);
  }
}

/** Decodes `bytes` under the dataset's Specific Character Set (its values, as read). */
export function decodeText(bytes: Buffer, specificCharacterSet: readonly string[]): string {
  const terms = specificCharacterSet.map((t) => t.trim());
  const first = terms[0] ?? '';
  const usesExtensions = terms.some((t) => t.startsWith('ISO 2022'));
  if (!usesExtensions) return new TextDecoder(SINGLE[first] ?? 'windows-1252').decode(bytes);

  // Split at each escape sequence; the text before the first one uses the initial designations.
  let out = '';
  let g0 = 'ascii';
  let g1 = INITIAL_G1[first] ?? 'ascii';
  let pos = 0;
  while (pos < bytes.length) {
    let next = bytes.indexOf(0x1b, pos);
    if (next < 0) next = bytes.length;
    const run = bytes.subarray(pos, next);
    // Bytes with the high bit set belong to G1, the rest to G0.
    let i = 0;
    while (i < run.length) {
      const high = (run[i] ?? 0) >= 0x80;
      let j = i;
      while (j < run.length && ((run[j] ?? 0) >= 0x80) === high) j++;
      out += decodeSegment(run.subarray(i, j), high ? g1 : g0);
      i = j;
    }
    if (next >= bytes.length) break;
    const esc = ESCAPES.find(([seq]) => bytes.toString('latin1', next, next + seq.length) === seq);
    if (!esc) return out + bytes.subarray(next).toString('latin1'); // unknown escape: keep the rest readable
    const [seq, how] = esc;
    if (seq.startsWith('\x1b(') || seq.startsWith('\x1b$B') || seq.startsWith('\x1b$(')) g0 = how;
    else g1 = how;
    pos = next + seq.length;
  }
  return out;
}
