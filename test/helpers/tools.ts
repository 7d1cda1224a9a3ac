import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './corpus.js';

/** The built CLI, as `npm ci` leaves it (prepare builds it). */
export const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; a run that hangs is killed after two minutes (status -1), failing its test. */
export function runCli(args: readonly string[]): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** dcmtk's dump, the independent reader: one line per element, values printed as text. */
export function dcmdump(path: string, ...flags: string[]): string {
  return execFileSync('dcmdump', ['-q', '+L', '-M', ...flags, path], { encoding: 'latin1', maxBuffer: 64 << 20 });
}

/** dicom3tools' validator: the lines it reports as errors, without the file-specific prefix. */
export function dciodvfyErrors(path: string): string[] {
  const r = spawnSync('dciodvfy', [path], { encoding: 'latin1' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('Error')).map((l) => l.trim());
}

/**
 * dciodvfy errors an output has that its input had not. Values differ (dciodvfy quotes some), so
 * the kinds of error are compared, not their wording.
 */
export function addedDciodvfyErrors(pairs: ReadonlyArray<readonly [input: string, output: string]>, label = (p: string): string => p): string[] {
  const kinds = (lines: string[]): Set<string> => new Set(lines.map((l) => l
    .replace(/\b\d+(\.\d+)*\b/g, '<n>').replace(/value <[^>]*>/g, 'value')));
  const added: string[] = [];
  for (const [src, out] of pairs) {
    const before = kinds(dciodvfyErrors(src));
    for (const k of kinds(dciodvfyErrors(out))) if (!before.has(k)) added.push(`${label(src)}: ${k}`);
  }
  return added;
}

/** Runs a pydicom script (Debian's python3-pydicom) that prints JSON. */
export function pydicomJson<T>(script: string, ...args: string[]): T {
  const out = execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}

export interface Description {
  readonly error?: string;
  readonly transferSyntax: string;
  readonly mediaStorageSOPInstanceUID: string;
  readonly mediaStorageSOPClassUID: string;
  readonly preamble: boolean;
  /** [path, VR, text]: path like '00081140[0].00081155'. */
  readonly elements: ReadonlyArray<readonly [string, string, string]>;
  readonly pixelSha256: string | null;
  readonly decodes: boolean;
}

/** pydicom's view of each file (see describe.py). */
export function describe(paths: readonly string[]): Record<string, Description> {
  const out: Record<string, Description> = {};
  // In batches: argument lists have limits.
  for (let i = 0; i < paths.length; i += 100) {
    const batch = paths.slice(i, i + 100);
    const r = execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'describe.py'), ...batch], { encoding: 'utf8', maxBuffer: 256 << 20 });
    Object.assign(out, JSON.parse(r) as Record<string, Description>);
  }
  return out;
}

export const valueAt = (d: Description, path: string): string | undefined => d.elements.find(([p]) => p === path)?.[2];
