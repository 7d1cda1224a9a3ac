import { describe, expect, it } from 'vitest';
import { ProgressReporter, progressMode, type ProgressOptions } from '../../../src/cli/progress/progress-reporter.js';
import { barLine, formatDuration, type ProgressSnapshot } from '../../../src/cli/progress/progress-format.js';

/** A stream that records what was written, and a clock the test moves. */
function rig(isTTY: boolean, extra: Partial<ProgressOptions> = {}, columns = 100) {
  const chunks: string[] = [];
  let t = 1_000_000;
  const stream = { isTTY, columns, write: (c: string) => { chunks.push(c); return true; } };
  const reporter = new ProgressReporter({ stream, unit: 'files', env: {}, now: () => t, ...extra });
  return { chunks, reporter, advance: (ms: number) => { t += ms; }, text: () => chunks.join('') };
}

const snap = (over: Partial<ProgressSnapshot>): ProgressSnapshot => ({
  done: 0, total: 100, growing: false, counts: [], phase: undefined, rate: undefined, unit: 'files', ...over,
});

describe('progress on a terminal', () => {
  it('redraws one line with \\r and erase-line, throttled to 10 a second, and ends with n/n and a newline', () => {
    const r = rig(true, {}, 100);
    expect(r.reporter.mode).toBe('bar');
    r.reporter.update({ done: 0, total: 50 });
    for (let i = 1; i <= 50; i++) {
      r.advance(20); // 50 files a second, an update every 20 ms
      r.reporter.update({ done: i, total: 50, counts: { delivered: i, quarantined: 0, failed: 0 } });
    }
    r.reporter.finish();
    // 1 s of updates at 50/s: the first draw and then one every 100 ms, not 51, plus the final.
    expect(r.chunks.length).toBeGreaterThanOrEqual(10);
    expect(r.chunks.length).toBeLessThanOrEqual(12);
    for (const c of r.chunks.slice(1)) expect(c.startsWith('\r\x1b[2K')).toBe(true);
    const last = r.chunks.at(-1) as string;
    expect(last.endsWith('\n')).toBe(true);
    expect(last).toContain('50/50');
    expect(last).toContain('100%');
    expect(last).toContain('50.0 files/s');
    expect(last).toContain('in 1s');
    expect(last).toMatch(/\[=+\]/);
    expect(r.text().split('\n')).toHaveLength(2); // one line, then the newline
    // No colour: NO_COLOR is respected by never using any (SGR codes end in 'm').
    expect(r.text()).not.toMatch(/\x1b\[[0-9;]*m/);
    // Never as wide as the terminal (a full line wraps, and \r then redraws only its tail).
    for (const c of r.chunks) expect(c.replace(/^\r(\x1b\[2K)?/, '').replace(/\n$/, '').length).toBeLessThanOrEqual(99);
  });

  it('shows files/s over a sliding window and an ETA from it', () => {
    const r = rig(true, { windowMs: 10_000 });
    r.reporter.update({ done: 0, total: 1000 });
    // 10 s at 1 file/s, then 10 s at 10 files/s: the window sees only the fast part.
    for (let i = 1; i <= 10; i++) { r.advance(1000); r.reporter.update({ done: i, total: 1000 }); }
    for (let i = 1; i <= 10; i++) { r.advance(1000); r.reporter.update({ done: 10 + 10 * i, total: 1000 }); }
    const last = r.chunks.at(-1) as string;
    expect(last).toContain('110/1000');
    expect(last).toContain('11%');
    // Anchor at 10 s (done 10): 100 files in 10 s.
    expect(last).toContain('10.0 files/s');
    expect(last).toContain(`ETA ${formatDuration(89)}`);
  });

  it('claims no rate from under a second, and no percent, bar or ETA while the total grows or is unknown', () => {
    const r = rig(true);
    r.reporter.update({ done: 0, total: 7, growing: true, phase: 'listing' });
    expect(r.chunks.at(-1)).toContain('0/7+');
    expect(r.chunks.at(-1)).toContain('-- files/s');
    expect(r.chunks.at(-1)).toContain('ETA --');
    expect(r.chunks.at(-1)).toContain('listing');
    expect(r.chunks.at(-1)).not.toContain('%');
    expect(r.chunks.at(-1)).not.toContain('[');
    r.advance(2000);
    r.reporter.update({ done: 3 });
    expect(r.chunks.at(-1)).toContain('3/?');
    expect(r.chunks.at(-1)).toContain('ETA --');
  });

  it('drops the bar on a narrow terminal and never writes past it', () => {
    const line = barLine(snap({ done: 5, rate: 2, counts: [['delivered', 5], ['quarantined', 0], ['failed', 0]] }), 40, false, 1);
    expect(line.length).toBeLessThanOrEqual(39);
    expect(line).not.toContain('[');
    expect(line.startsWith('5/100')).toBe(true);
    // 80 columns: the bar keeps 20 cells or more, and the counts give way (the summary has them).
    const counts: ProgressSnapshot['counts'] = [['delivered', 120], ['quarantined', 3], ['failed', 1]];
    const eighty = barLine(snap({ done: 124, total: 500, rate: 31.25, counts }), 80, false, 1);
    // Measured on the widest text of the run, 500/500  100%  99.9 files/s  ETA 59m59s: 79 - 39 - 4 cells.
    expect(eighty).toBe(`[${'='.repeat(8)}>${' '.repeat(27)}]  124/500  24%  31.3 files/s  ETA 12s`);
    const wider = barLine(snap({ done: 124, total: 500, rate: 31.25, counts }), 120, false, 1);
    expect(wider).toMatch(/^\[=+> +\] {2}124\/500 {2}24% {2}31\.3 files\/s {2}ETA 12s {2}delivered 120 {2}quarantined 3 {2}failed 1$/);
    // The bar keeps its width while the numbers grow (no jitter from one redraw to the next).
    const barWidth = (l: string): number => l.indexOf(']');
    const early = barLine(snap({ done: 1, total: 500, rate: 1, counts: [['delivered', 1], ['quarantined', 0], ['failed', 0]] }), 120, false, 1);
    const late = barLine(snap({ done: 499, total: 500, rate: 123.4, counts: [['delivered', 400], ['quarantined', 99], ['failed', 0]] }), 120, false, 1);
    expect(barWidth(early)).toBe(barWidth(wider));
    expect(barWidth(late)).toBe(barWidth(wider));
    expect(late.length).toBeLessThanOrEqual(119);
    const wide = barLine(snap({ done: 25, rate: 2 }), 200, false, 1);
    expect(wide).toMatch(/^\[=+> +\] {2}25\/100 {2}25%/);
    expect(/^\[([^\]]*)\]/.exec(wide)?.[1]).toHaveLength(40);
  });
});

describe('progress not on a terminal', () => {
  it('writes a plain line at most every interval, and a closing line', () => {
    const r = rig(false, { lineIntervalMs: 5000 });
    expect(r.reporter.mode).toBe('lines');
    for (let i = 1; i <= 120; i++) {
      r.advance(100); // 10 files a second for 12 s
      r.reporter.update({ done: i, total: 200, counts: { delivered: i - Math.floor(i / 10), quarantined: Math.floor(i / 10), failed: 0 } });
    }
    r.reporter.finish();
    const lines = r.text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(3); // at 5 s, at 10 s, and the close
    expect(lines[0]).toBe('progress: 50/200 (25%) 10.0 files/s ETA 15s; delivered 45, quarantined 5, failed 0');
    expect(lines[1]).toBe('progress: 100/200 (50%) 10.0 files/s ETA 10s; delivered 90, quarantined 10, failed 0');
    expect(lines[2]).toBe('progress: 120/200 (60%) 10.0 files/s, finished in 12s; delivered 108, quarantined 12, failed 0');
    expect(r.text()).not.toContain('\r');
    expect(r.text()).not.toContain('\x1b');
  });

  it('closes once, and a short run writes only its closing line', () => {
    const r = rig(false);
    r.reporter.update({ done: 0, total: 2 });
    r.advance(400);
    r.reporter.update({ done: 2, total: 2 });
    r.reporter.finish();
    r.reporter.finish();
    r.reporter.update({ done: 3, total: 3 });
    expect(r.text()).toBe('progress: 2/2 (100%) 5.0 files/s, finished in 0s\n');
  });

  it('counts only what moved while watched (a resumed retrieval) and takes a closing phase', () => {
    const r = rig(false, { lineIntervalMs: 1000 });
    r.reporter.update({ done: 4, total: 10, phase: 'waiting for the agent' });
    r.advance(1000);
    r.reporter.update({ done: 6, total: 10 });
    expect(r.chunks.at(-1)).toBe('progress: 6/10 (60%) 2.0 files/s ETA 2s\n');
    r.advance(1000);
    r.reporter.finish('still queued');
    expect(r.chunks.at(-1)).toBe('progress: 6/10 (60%) 1.0 files/s, still queued in 2s\n');
  });
});

describe('which output', () => {
  it('a bar on a terminal, lines elsewhere and on TERM=dumb, nothing when turned off', () => {
    expect(progressMode({ isTTY: true, write: () => true }, {})).toBe('bar');
    expect(progressMode({ isTTY: true, write: () => true }, { NO_COLOR: '1' })).toBe('bar');
    expect(progressMode({ isTTY: true, write: () => true }, { TERM: 'dumb' })).toBe('lines');
    expect(progressMode({ write: () => true }, {})).toBe('lines');
    const never = rig(false);
    never.reporter.finish();
    expect(never.chunks).toEqual([]); // nothing was reported: nothing to close
    const r = rig(true, { mode: 'off' });
    r.reporter.update({ done: 1, total: 1 });
    r.reporter.finish();
    expect(r.chunks).toEqual([]);
  });
});

describe('around a command', () => {
  it('closes the display when the work succeeds, and on failure ends a drawn bar with a bare newline', async () => {
    const ok = rig(false);
    ok.reporter.update({ done: 1, total: 1 });
    await expect(ok.reporter.around(Promise.resolve('summary'))).resolves.toBe('summary');
    expect(ok.text()).toMatch(/^progress: 1\/1 \(100%\) .*finished in 0s\n$/);
    const bad = rig(true);
    bad.reporter.update({ done: 1, total: 3 });
    await expect(bad.reporter.around(Promise.reject(new Error('store corrupt')))).rejects.toThrow('store corrupt');
    expect(bad.chunks.at(-1)).toBe('\n');
    expect(bad.text()).not.toContain('finished');
  });
});
