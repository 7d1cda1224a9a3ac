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

/** What the data set says about its pixels, for choosing between the VRs a dictionary entry allows. */
export interface PixelContext {
  /** (0028,0103): 1 when pixel values are signed. */
  readonly pixelRepresentation?: number;
}

/**
 * One VR for a dictionary entry that allows several (PS3.6 'US or SS', 'OB or OW', …), as PS3.5
 * says to read them: US/SS by Pixel Representation (C.7.6.3.1.4); OB/OW as OW, which is what
 * implicit VR little endian requires of pixel and overlay data (A.1); LUT data as OW (16-bit words,
 * a 32-bit length). A wrong pick here would leave 16-bit values unswapped in big endian.
 */
export function resolveVr(vr: string, context: PixelContext): string {
  if (!vr.includes(' or ')) return vr;
  const choices = vr.split(' or ');
  if (choices.includes('OW')) return 'OW';
  if (choices.includes('SS') && choices.includes('US')) return context.pixelRepresentation === 1 ? 'SS' : 'US';
  return choices[0] ?? 'UN';
}

/** The dictionary's VR for `tag`; a choice of VRs is returned whole (see `resolveVr`). Private data: UN. */
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

/** Whether the data dictionary knows a standard tag (an unknown one cannot be classified). */
export function isKnownStandardTag(tag: Tag): boolean {
  if (isPrivateTag(tag)) return false;
  if (DICTIONARY_VR.has(tagKey(tag))) return true;
  return DICTIONARY_VR_MASKS.some(([mask, value]) => ((tag & mask) >>> 0) === value);
}
