/**
 * Server-rendered HTML with escaping by default: every `${value}` in an `html` template is escaped
 * unless it is itself `SafeHtml` (another template, or `raw` for markup written in this code,
 * never for data). Arrays are joined, `undefined`/`null`/`false` render nothing.
 */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export const escapeHtml = (s: string): string => s.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);

function render(v: Interpolation): string {
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return (v as readonly Interpolation[]).map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  for (const [i, v] of values.entries()) out += render(v) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup this code wrote itself (never a value from a request, a file or the config). */
export const raw = (markup: string): SafeHtml => new SafeHtml(markup);
