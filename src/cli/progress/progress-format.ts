/**
 * The text of a progress report: pure functions of a snapshot, so the renderer's tests need no
 * clock. Only numbers and fixed words from our own code are printed: a caller cannot pass a file
 * name (or any input value) in, so none can reach a terminal or a log.
 */

export interface ProgressSnapshot {
  readonly done: number;
  /** Undefined: not known (yet). */
  readonly total: number | undefined;
  /** The total may still grow (inputs still being listed): no percent, bar or ETA is claimed. */
  readonly growing: boolean;
  /** Labelled counts, shown in their order. */
  readonly counts: ReadonlyArray<readonly [string, number]>;
  /** A fixed word from our code (e.g. `listing`), shown before the counts. */
  readonly phase: string | undefined;
  /** Per second over the sliding window; undefined until there are two points far enough apart. */
  readonly rate: number | undefined;
  /** What is counted: `files`, `accessions`. */
  readonly unit: string;
}

/** 7s, 3m04s, 2h05m: short enough for a status line. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatRate(rate: number | undefined, unit: string): string {
  if (rate === undefined) return `-- ${unit}/s`;
  return `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} ${unit}/s`;
}

/** Known only when the total is final and something is moving: a growing total would make any ETA a guess. */
export function etaSeconds(s: ProgressSnapshot): number | undefined {
  if (s.total === undefined || s.growing || s.rate === undefined || s.rate <= 0) return undefined;
  return Math.max(0, s.total - s.done) / s.rate;
}

export function fraction(s: ProgressSnapshot): number | undefined {
  if (s.total === undefined || s.growing) return undefined;
  return s.total === 0 ? 1 : Math.min(1, s.done / s.total);
}

const ofTotal = (s: ProgressSnapshot): string => `${s.done}/${s.total === undefined ? '?' : `${s.total}${s.growing ? '+' : ''}`}`;

const countsText = (s: ProgressSnapshot, sep: string): string => s.counts.map(([label, n]) => `${label} ${n}`).join(sep);

/** One log line: `progress: 120/500 (24%) 31.2 files/s ETA 12s; delivered 100, quarantined 3, failed 1`. */
export function plainLine(s: ProgressSnapshot): string {
  const f = fraction(s);
  const eta = etaSeconds(s);
  const parts = [
    `progress: ${ofTotal(s)}`,
    ...(f === undefined ? [] : [`(${Math.floor(f * 100)}%)`]),
    formatRate(s.rate, s.unit),
    ...(eta === undefined ? [] : [`ETA ${formatDuration(eta)}`]),
    ...(s.phase ? [s.phase] : []),
  ];
  const counts = countsText(s, ', ');
  return `${parts.join(' ')}${counts ? `; ${counts}` : ''}`;
}

/** The last log line: the average rate over the whole run instead of an ETA. */
export function finalPlainLine(s: ProgressSnapshot, elapsedSeconds: number, averageRate: number | undefined): string {
  const f = fraction(s);
  const counts = countsText(s, ', ');
  return `progress: ${ofTotal(s)}${f === undefined ? '' : ` (${Math.floor(f * 100)}%)`} ${formatRate(averageRate, s.unit)}, ` +
    `${s.phase ?? 'finished'} in ${formatDuration(elapsedSeconds)}${counts ? `; ${counts}` : ''}`;
}

const MIN_BAR = 10;
/** The counts give way before the bar gets narrower than this. */
const COUNTS_BAR = 20;
const MAX_BAR = 40;

/** The text after the bar: what is done, then the counts. */
function barText(s: ProgressSnapshot, when: string): { core: string; full: string } {
  const f = fraction(s);
  const core = [
    ofTotal(s),
    ...(f === undefined ? [] : [`${Math.floor(f * 100)}%`]),
    formatRate(s.rate, s.unit),
    when,
    ...(s.phase ? [s.phase] : []),
  ].join('  ');
  return { core, full: s.counts.length > 0 ? `${core}  ${countsText(s, '  ')}` : core };
}

/**
 * One terminal line of at most `columns - 1` characters (a full-width line wraps on some
 * terminals, and `\r` then redraws only its second half):
 * `[=========>          ]  120/500  24%  31.2 files/s  ETA 12s  delivered 100  failed 1`.
 * The bar takes what the text leaves, within 10..40 cells; the counts are left out before the bar
 * gets narrower than 20 cells, and the bar is dropped on a narrow terminal. The room is measured
 * on the widest text this run can show (each count at the total, or above it when it already is,
 * a rate of 4 digits, an ETA of 59m59s), so the bar keeps its width while the numbers grow.
 */
export function barLine(s: ProgressSnapshot, columns: number, finished: boolean, elapsedSeconds: number): string {
  const f = fraction(s);
  const eta = etaSeconds(s);
  const text = barText(s, finished ? `in ${formatDuration(elapsedSeconds)}` : `ETA ${eta === undefined ? '--' : formatDuration(eta)}`);
  const width = columns - 1;
  if (f === undefined) return text.full.slice(0, Math.max(0, width));
  const most = s.total ?? s.done;
  const widest = barText({ ...s, done: most, rate: 99.9, counts: s.counts.map(([label, n]) => [label, Math.max(most, n)] as const) }, 'ETA 59m59s');
  const roomFor = (t: string): number => Math.min(MAX_BAR, width - t.length - 4);
  if (roomFor(widest.core) < MIN_BAR) return text.full.slice(0, Math.max(0, width));
  const withCounts = roomFor(widest.full) >= Math.min(COUNTS_BAR, roomFor(widest.core));
  const room = roomFor(withCounts ? widest.full : widest.core);
  const filled = Math.floor(f * room);
  const head = filled < room ? '>' : '';
  return `[${'='.repeat(filled)}${head}${' '.repeat(room - filled - head.length)}]  ${withCounts ? text.full : text.core}`.slice(0, Math.max(0, width));
}
