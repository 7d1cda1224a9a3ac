import { createHmac } from 'node:crypto';

/**
 * Replaces a UID with a '2.25.' UID derived from it with the project's secret: the same original
 * always maps to the same replacement (references between files survive, re-runs are identical),
 * and without the secret the original cannot be recovered or confirmed. The 128 bits are shaped
 * as an RFC 9562 version 8 UUID, as PS3.5 B.2 expects of a 2.25 UID.
 */
export function remapUid(uid: string, secret: Buffer): string {
  const original = uid.replace(/[\0 ]+$/, '').trim();
  if (original === '' || isWellKnownUid(original)) return original;
  const b = createHmac('sha256', secret).update(original, 'latin1').digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString()}`;
}

/**
 * UIDs under the standard's own root (SOP classes, transfer syntaxes, well-known frames of
 * reference, coding schemes) are assigned by DICOM, identify no one, and stay as they are.
 */
export const isWellKnownUid = (uid: string): boolean => uid.startsWith('1.2.840.10008.');

/** Each value of a multi-valued UI element remapped. */
export const remapUids = (value: string, secret: Buffer): string =>
  value.replace(/[\0 ]+$/, '').split('\\').map((u) => remapUid(u, secret)).join('\\');
