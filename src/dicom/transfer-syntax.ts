/** How a dataset's bytes are laid out. */
export interface Encoding {
  readonly littleEndian: boolean;
  readonly explicitVR: boolean;
}

export interface TransferSyntax extends Encoding {
  readonly uid: string;
  /** The dataset after the meta group is a raw deflate stream (PS3.5 A.5). */
  readonly deflated: boolean;
}

export const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
export const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_LITTLE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BIG = '1.2.840.10008.1.2.2';

export const IMPLICIT_LE: Encoding = { littleEndian: true, explicitVR: false };
export const EXPLICIT_LE: Encoding = { littleEndian: true, explicitVR: true };

/** Every standard transfer syntax other than these three is explicit VR little endian (PS3.5 A.4). */
export function transferSyntaxFor(uid: string): TransferSyntax {
  switch (uid) {
    case IMPLICIT_LITTLE:
      return { uid, littleEndian: true, explicitVR: false, deflated: false };
    case EXPLICIT_BIG:
      return { uid, littleEndian: false, explicitVR: true, deflated: false };
    case DEFLATED_EXPLICIT_LITTLE:
    case '1.2.840.10008.1.2.8.1': // JPIP Referenced Deflate
      return { uid, littleEndian: true, explicitVR: true, deflated: true };
    default:
      return { uid, littleEndian: true, explicitVR: true, deflated: false };
  }
}

export const sameEncoding = (a: Encoding, b: Encoding): boolean =>
  a.littleEndian === b.littleEndian && a.explicitVR === b.explicitVR;
