/**
 * The syntax of the ASCII-only string VRs (PS3.5 Table 6.2-1): what a strict reader accepts.
 * Values are checked one by one (multi-valued with `\`), padding trimmed.
 */
const SYNTAX: Record<string, { readonly max: number; readonly pattern: RegExp }> = {
  AE: { max: 16, pattern: /^[^\\\x00-\x1f\x7f]*$/ },
  AS: { max: 4, pattern: /^(\d{3}[DWMY])?$/ },
  CS: { max: 16, pattern: /^[A-Z0-9 _]*$/ },
  DA: { max: 18, pattern: /^(\d{8}|\d{4}\.\d{2}\.\d{2})?(-(\d{8})?)?$/ },
  DS: { max: 16, pattern: /^ *([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)? *$/ },
  DT: { max: 54, pattern: /^(\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?)?(-(\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?)?)?$/ },
  IS: { max: 12, pattern: /^ *([+-]?\d+)? *$/ },
  TM: { max: 28, pattern: /^((\d{2}(:?\d{2}(:?\d{2}(\.\d{1,6})?)?)?)?(-(\d{2}(:?\d{2}(:?\d{2}(\.\d{1,6})?)?)?)?)?)?$/ },
};

/** Whether every value of `value` (raw bytes) is valid for `vr`. VRs not listed are not checked. */
export function conformsToVr(vr: string, value: Buffer): boolean {
  const rule = SYNTAX[vr];
  if (!rule) return true;
  const text = value.toString('latin1').replace(/[\0 ]+$/, '');
  return text.split('\\').every((v) => {
    const trimmed = vr === 'DS' || vr === 'IS' ? v : v.replace(/^ +| +$/g, '');
    return v.length <= rule.max && rule.pattern.test(trimmed);
  });
}
