import { barLine, finalPlainLine, plainLine, type ProgressSnapshot } from './progress-format.js';

/**
 * Progress of a long command on stderr (stdout stays the command's result): a redrawn bar on a
 * terminal, plain lines every few seconds elsewhere (CI, cron, a pipe), so a log stays readable.
 *
 * Our own ~150 lines rather than cli-progress: that library reads the wall clock and runs its own
 * timers (tests would need fake timers), its non-terminal output repeats the bar format on a fixed
 * schedule whether or not anything moved, and it has no notion of a total still growing. What
 * we need beyond writing `\r` is the sliding-window rate and the honest ETA, which we would
 * write either way.
 */

/** What the reporter writes to: process.stderr, or a test's collector. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressUpdate {
  readonly done: number;
  /** Undefined: not known yet. */
  readonly total?: number | undefined;
  /** More may still be found (inputs being listed): no percent or ETA is claimed. */
  readonly growing?: boolean;
  /** Labelled counts (numbers only), e.g. delivered / quarantined / failed. */
  readonly counts?: Readonly<Record<string, number>>;
  /** A fixed word from our code, e.g. `listing`, `waiting for the agent`. */
  readonly phase?: string | undefined;
}

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** What is counted (`files`, `accessions`). */
  readonly unit: string;
  /** `off` for --no-progress; default: from the stream and the environment (`progressMode`). */
  readonly mode?: ProgressMode;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds; injectable so tests are deterministic. */
  readonly now?: () => number;
  /** Plain lines at most this often (default 5 s). */
  readonly lineIntervalMs?: number;
  /** Terminal redraws at most this often (default 100 ms: 10 a second). */
  readonly redrawIntervalMs?: number;
  /** The rate is measured over this much of the recent past (default 10 s). */
  readonly windowMs?: number;
}

/**
 * A bar only on a terminal that can take it: TERM=dumb (an editor's shell buffer, some CI
 * consoles) shows `\r` and escape codes literally, so it gets plain lines. Nothing is coloured,
 * so NO_COLOR needs no more than that.
 */
export function progressMode(stream: ProgressStream, env: Readonly<Record<string, string | undefined>>): ProgressMode {
  return stream.isTTY === true && env.TERM !== 'dumb' ? 'bar' : 'lines';
}

/** Carriage return and erase the line (ECMA-48 EL 2): the redraw never leaves a longer line's tail. */
const REDRAW = '\r\x1b[2K';

export class ProgressReporter {
  readonly mode: ProgressMode;
  private readonly now: () => number;
  private readonly started: number;
  private state: ProgressUpdate = { done: 0 };
  /** Points (time, done) within the window, plus the last one before it as the anchor. */
  private samples: Array<{ t: number; done: number }> = [];
  /** The first update: what was done before it is not ours to count in a rate. */
  private first: { t: number; done: number } | undefined;
  private lastWrite: number | undefined;
  private drawn = false;
  private finished = false;

  constructor(private readonly o: ProgressOptions) {
    this.mode = o.mode ?? progressMode(o.stream, o.env ?? process.env);
    this.now = o.now ?? Date.now;
    this.started = this.now();
  }

  update(u: ProgressUpdate): void {
    if (this.mode === 'off' || this.finished) return;
    const t = this.now();
    this.state = u;
    this.first ??= { t, done: u.done };
    const last = this.samples.at(-1);
    if (!last || last.done !== u.done) this.samples.push({ t, done: u.done });
    const windowStart = t - (this.o.windowMs ?? 10_000);
    while (this.samples.length > 2 && (this.samples[1] as { t: number }).t <= windowStart) this.samples.shift();
    const interval = this.mode === 'bar' ? (this.o.redrawIntervalMs ?? 100) : (this.o.lineIntervalMs ?? 5000);
    const since = t - (this.lastWrite ?? this.started);
    // A bar is drawn at once (and then throttled); a log line only once a whole interval has passed.
    if ((this.mode === 'bar' && this.lastWrite === undefined) || since >= interval) this.write(t, false);
  }

  /**
   * Writes the last state, finished (a newline after a bar; a closing line in a log). Idempotent;
   * silent when nothing was ever reported (`retrieve` without --wait).
   */
  finish(phase?: string): void {
    if (this.mode === 'off' || this.finished || this.first === undefined) return;
    if (phase !== undefined) this.state = { ...this.state, phase };
    this.write(this.now(), true);
    this.finished = true;
  }

  /**
   * Runs a command's work under the display: finished when it succeeds; when it fails, a drawn bar
   * is ended where it stood (so the error starts on a line of its own) and no closing line claims
   * the run finished.
   */
  async around<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await work;
      this.finish();
      return result;
    } catch (e) {
      if (this.mode === 'bar' && this.drawn && !this.finished) this.o.stream.write('\n');
      this.finished = true;
      throw e;
    }
  }

  private snapshot(t: number): ProgressSnapshot {
    const anchor = this.samples[0];
    const span = anchor ? (t - anchor.t) / 1000 : 0;
    // Under a second of history says little: no rate rather than a wild one.
    const rate = anchor && span >= 1 ? (this.state.done - anchor.done) / span : undefined;
    return {
      done: this.state.done, total: this.state.total, growing: this.state.growing === true,
      counts: Object.entries(this.state.counts ?? {}), phase: this.state.phase, rate, unit: this.o.unit,
    };
  }

  private write(t: number, final: boolean): void {
    this.lastWrite = t;
    const s = this.snapshot(t);
    const elapsed = (t - this.started) / 1000;
    if (this.mode === 'bar') {
      const columns = this.o.stream.columns && this.o.stream.columns > 0 ? this.o.stream.columns : 80;
      const finalState = final ? { ...s, rate: this.averageRate(t) } : s;
      this.o.stream.write(`${this.drawn ? REDRAW : '\r'}${barLine(finalState, columns, final, elapsed)}${final ? '\n' : ''}`);
      this.drawn = true;
    } else {
      this.o.stream.write(`${final ? finalPlainLine(s, elapsed, this.averageRate(t)) : plainLine(s)}\n`);
    }
  }

  /** Over the whole run, counting only what moved while we watched (a resumed retrieval's earlier work is not ours). */
  private averageRate(t: number): number | undefined {
    const seconds = this.first ? (t - this.first.t) / 1000 : 0;
    return this.first && seconds > 0 ? (this.state.done - this.first.done) / seconds : undefined;
  }
}
