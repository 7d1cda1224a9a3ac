import { DICTIONARY_VR, DICTIONARY_VR_MASKS } from './dictionary.generated.js';
import { type Tag, elementOf, isPrivateTag, tagKey } from './tag.js';

export const KNOWN_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

/** VRs whose explicit-VR header has two reserved bytes and a 32-bit length (PS3.5 7.1.2). */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const hasLongLength = (vr: string): boolean => LONG_LENGTH_VRS.has(vr);

/** Character-string VRs: value bytes are text in the dataset's character set, padded with a space. */
const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);
export const isStringVr = (vr: string): boolean => STRING_VRS.has(vr) || vr === 'UI';
/** Free-text VRs: may carry any narrative, so they are the likeliest to hide PHI. */
export const isFreeTextVr = (vr: string): boolean => ['LT', 'ST', 'UT', 'UC', 'PN'].includes(vr);

/** The byte that pads an odd-length value to even length (PS3.5 6.2). */
export const padByteFor = (vr: string): number => (vr === 'UI' || !STRING_VRS.has(vr) ? 0x00 : 0x20);

/** VR from the data dictionary, for implicit-VR data and UN relabelling. Private data: UN. */
export function dictionaryVr(tag: Tag): string {
  if (isPrivateTag(tag)) {
    const el = elementOf(tag);
    return el >= 0x0010 && el <= 0x00ff ? 'LO' : 'UN'; // private creator elements are LO
  }
  if (elementOf(tag) === 0x0000) return 'UL'; // group length
  const exact = DICTIONARY_VR.get(tagKey(tag));
  if (exact) return exact;
  for (const [mask, value, vr] of DICTIONARY_VR_MASKS) if (((tag & mask) >>> 0) === value) return vr;
  return 'UN';
}
