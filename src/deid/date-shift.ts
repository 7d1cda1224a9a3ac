/**
 * Shifts DA and DT values by a whole number of days (one constant per project), so intervals
 * between dates survive. Times of day are kept. A value that is not a valid date cannot be
 * shifted and could still be a real date in an odd format: callers blank it.
 */
const DAY_MS = 86_400_000;

export function shiftYmd(y: number, m: number, d: number, days: number): Date | undefined {
  const t = Date.UTC(y, m - 1, d);
  const check = new Date(t);
  // Date.UTC rolls 20240231 into March: a rolled date was not a real one.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
  if (y < 1 || m < 1 || m > 12) return undefined;
  return new Date(t + days * DAY_MS);
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const ymd = (d: Date): string => `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;

function shiftOneDate(v: string, days: number): string | undefined {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v); // YYYYMMDD, or ACR-NEMA YYYY.MM.DD
  if (!m) return undefined;
  const d = shiftYmd(Number(m[1]), Number(m[2]), Number(m[3]), days);
  return d && ymd(d);
}

/** A DA value (possibly multi-valued, possibly a range); undefined when any part is not a date. */
export function shiftDa(value: string, days: number): string | undefined {
  const parts = value.split('\\').map((component) => {
    const c = component.trim();
    if (c === '') return '';
    if (c.includes('-')) {
      const [from = '', to = ''] = c.split('-');
      const a = from === '' ? '' : shiftOneDate(from, days);
      const b = to === '' ? '' : shiftOneDate(to, days);
      return a === undefined || b === undefined ? undefined : `${a}-${b}`;
    }
    return shiftOneDate(c, days);
  });
  return parts.some((p) => p === undefined) ? undefined : parts.join('\\');
}

const DT_REST = /^(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?([+-]\d{4})?$/;

function shiftOneDateTime(v: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(.*)$/.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, rest = ''] = m;
  if (!DT_REST.test(rest)) return undefined;
  if (d !== undefined && mo !== undefined) {
    const s = shiftYmd(Number(y), Number(mo), Number(d), days);
    return s && ymd(s) + rest;
  }
  if (rest !== '') return undefined; // a time without a full date is not a valid DT
  // Reduced precision: shift the middle of the period and keep the precision.
  if (mo !== undefined) {
    const s = shiftYmd(Number(y), Number(mo), 15, days);
    return s && ymd(s).slice(0, 6);
  }
  const s = shiftYmd(Number(y), 7, 1, days);
  return s && ymd(s).slice(0, 4);
}

/** A DT value (possibly multi-valued): the date part shifted, time and offset kept. */
export function shiftDt(value: string, days: number): string | undefined {
  const parts = value.split('\\').map((component) => {
    const c = component.trim();
    return c === '' ? '' : shiftOneDateTime(c, days);
  });
  return parts.some((p) => p === undefined) ? undefined : parts.join('\\');
}
