import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PYDICOM_TEST_FILES, SAMPLES, requireCorpus } from '../helpers/corpus.js';
import { CLI, runCli } from '../helpers/tools.js';

// `anonymize`'s progress on stderr, from the built CLI (npm run build), on real files: plain lines
// off a terminal, a redrawn bar on a real pseudo-terminal (util-linux script), nothing with
// --no-progress; the summary on stdout the same in every case.

const root = mkdtempSync(join(tmpdir(), 'deid-progress-'));
/** A researcher's folder named after the patient, files too: none of it may reach the display. */
const inputs = join(root, 'Doe_Jane_MRN12345');
const INPUT_COUNT = 8;
const NAMES = ['Doe', 'Jane', 'MRN12345', 'CompressedSamples', 'CT_small', 'MR_small', 'study-a'];

/** A fresh project per run (its own store and folders); CT and MR by header rules, so no OCR is loaded. */
function config(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({
    store: join(dir, 'store.json'),
    projects: [{
      name: 'PROG', prefix: 'PROG_', inbox: join(dir, 'inbox'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'),
      dateShiftDays: -10, pixels: { inspect: { CT: 'header', MR: 'header' } },
    }],
  }));
  return file;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The CLI under a real pseudo-terminal of 120 columns; what the terminal received. */
function underTerminal(args: readonly string[], env: Record<string, string> = {}): { status: number; output: string } {
  const command = `stty cols 120 rows 30; ${[process.execPath, CLI, ...args].map(shellQuote).join(' ')}`;
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
    encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', env: { ...process.env, TERM: 'xterm-256color', ...env },
  });
  return { status: r.status ?? -1, output: r.stdout };
}

describe('anonymize progress', () => {
  let quiet: ReturnType<typeof runCli>;

  beforeAll(() => {
    requireCorpus();
    expect(spawnSync('script', ['--version']).status, 'util-linux script is needed for the terminal test').toBe(0);
    mkdirSync(join(inputs, 'nested'), { recursive: true });
    copyFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(inputs, 'Doe_Jane_CT_small.dcm'));
    copyFileSync(join(PYDICOM_TEST_FILES, 'MR_small.dcm'), join(inputs, 'Doe_Jane_MR_small.dcm'));
    // The same instance twice: a duplicate, known only at the end, and the closing report agrees with the summary.
    copyFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'), join(inputs, 'Doe_Jane_CT_small_again.dcm'));
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm', 'not-dicom.txt']) {
      copyFileSync(join(SAMPLES, f), join(inputs, 'nested', `MRN12345_${f}`));
    }
    quiet = runCli(['anonymize', inputs, '--config', config('quiet'), '--no-progress']);
  });

  it('--no-progress: nothing on stderr, the summary on stdout', () => {
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toContain(`${INPUT_COUNT} input(s) settled`);
    expect(quiet.stdout).toMatch(/delivered\s+6\n\s+quarantined\s+0\n\s+failed\s+1\n\s+duplicates\s+1 /);
  });

  it('not on a terminal: plain lines, no \\r or escape codes, a closing line n/n; stdout unchanged', () => {
    const r = runCli(['anonymize', inputs, '--config', config('lines')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(quiet.stdout);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    const lines = r.stderr.trimEnd().split('\n');
    // A run this short ends before the first 5-second line: the closing line only.
    for (const l of lines) expect(l).toMatch(/^progress: \d+\/\d+ \(\d+%\) [\d.]+ files\/s[ ,]/);
    expect(lines.at(-1)).toMatch(new RegExp(`^progress: ${INPUT_COUNT}/${INPUT_COUNT} \\(100%\\) [\\d.]+ files/s, finished in \\d+s; delivered 6, quarantined 0, failed 1, duplicates 1$`));
    for (const n of NAMES) expect(r.stderr).not.toContain(n);
  });

  it('on a terminal: one bar redrawn with \\r and erase-line, within the width, ending at n/n; then the summary', () => {
    const t = underTerminal(['anonymize', inputs, '--config', config('tty')]);
    expect(t.status, t.output).toBe(0);
    // The terminal turns \n into \r\n; the bar is everything before the first line end.
    const [bar = '', ...summary] = t.output.split('\r\n');
    expect(summary.join('\n')).toBe(quiet.stdout);
    const frames = bar.split('\r').filter((f) => f !== '').map((f) => f.replace(/^\x1b\[2K/, ''));
    expect(frames.length).toBeGreaterThanOrEqual(2); // listing, then at least the closing frame
    expect(bar.split('\r\x1b[2K').length - 1).toBe(frames.length - 1); // every redraw erases the line first
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(119);
    expect(frames[0]).toContain('listing');
    expect(frames.at(-1)).toMatch(new RegExp(`^\\[=+\\]  ${INPUT_COUNT}/${INPUT_COUNT}  100%  [\\d.]+ files/s  in \\d+s  delivered 6  quarantined 0  failed 1  duplicates 1$`));
    expect(t.output).not.toMatch(/\x1b\[[0-9;]*m/); // no colour
    for (const n of NAMES) expect(bar).not.toContain(n);
  });

  it('on a TERM=dumb terminal: plain lines', () => {
    const t = underTerminal(['anonymize', inputs, '--config', config('dumb')], { TERM: 'dumb' });
    expect(t.status, t.output).toBe(0);
    expect(t.output).not.toContain('\x1b');
    expect(t.output).toMatch(new RegExp(`^progress: ${INPUT_COUNT}/${INPUT_COUNT} \\(100%\\) .*finished in`, 'm'));
  });
});
