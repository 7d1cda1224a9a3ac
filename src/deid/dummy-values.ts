/**
 * VR-correct dummy values (action D): non-empty, carrying no information, ASCII so that they
 * mean the same under every Specific Character Set. Numbers are zero in either byte order.
 */
const TEXT: Record<string, string> = {
  AE: 'ANONYMIZED', AS: '000Y', CS: 'ANONYMIZED', DA: '19000101', DS: '0', DT: '19000101000000', IS: '0',
  LO: 'ANONYMIZED', LT: 'ANONYMIZED', PN: 'ANONYMIZED', SH: 'ANONYMIZED', ST: 'ANONYMIZED', TM: '000000',
  UC: 'ANONYMIZED', UR: 'ANONYMIZED', UT: 'ANONYMIZED',
};

const BINARY_SIZE: Record<string, number> = {
  AT: 4, FL: 4, FD: 8, OB: 2, OD: 8, OF: 4, OL: 4, OV: 8, OW: 2, SL: 4, SS: 2, SV: 8, UL: 4, UN: 2, US: 2, UV: 8,
};

/** A dummy for `vr`; UI is not handled here (a dummy UID is a remapped one). */
export function dummyValue(vr: string): Buffer {
  const text = TEXT[vr];
  if (text !== undefined) return Buffer.from(text, 'latin1');
  return Buffer.alloc(BINARY_SIZE[vr] ?? 2);
}
