import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO, dcmFiles } from './corpus.js';

/** The generator of the taint corpus (pydicom, Debian's python3-pydicom). */
export const TAINT_SCRIPT = join(REPO, 'scripts', 'make-taint-corpus.py');

/**
 * Writes the taint corpus into `dir` (an empty folder, created if needed) with
 * scripts/make-taint-corpus.py and returns its .dcm paths, sorted: synthetic files with fake PHI
 * in nested sequences, SR content, presentation-state text, waveform annotations, private blocks,
 * unknown tags and URLs, an embedded overlay, and two implicit-VR files (one mislabelled explicit).
 * Deterministic: the same bytes on every run.
 */
export function makeTaintCorpus(dir: string): string[] {
  execFileSync('/usr/bin/python3', ['-W', 'ignore', TAINT_SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return dcmFiles(dir);
}
