// The pixel detector in the pipeline, through the real CLI (`anonymize`, worker threads): a
// radiograph with a name and a record number burned in is held, with boxes and no text in its
// sidecar; its clean twin is delivered; a CT series is looked at by default (its first image),
// and follows the header rules alone when the project says so.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/agent-process.js';
import { REPO, VENDOR_CORPUS } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';

let corpus: string;
beforeAll(() => {
  corpus = mkdtempSync(join(tmpdir(), 'deid-text-pipeline-'));
  execFileSync('/usr/bin/python3', [join(REPO, 'scripts', 'make-text-corpus.py'), corpus, VENDOR_CORPUS], { stdio: 'ignore' });
}, 120_000);

/** Copies of corpus files with header changes (dcmtk's dcmodify), into a fresh input folder. */
function inputs(files: Record<string, { from: string; set: Record<string, string> }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deid-text-in-'));
  for (const [name, { from, set }] of Object.entries(files)) {
    copyFileSync(join(corpus, from), join(dir, name));
    const args = Object.entries(set).flatMap(([tag, v]) => ['-nb', '-i', `${tag}=${v}`]);
    if (args.length) execFileSync('dcmodify', [...args, join(dir, name)], { stdio: 'ignore' });
  }
  return dir;
}

function anonymize(input: string, config?: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), 'deid-text-out-'));
  const d = { out: join(root, 'out'), q: join(root, 'q'), f: join(root, 'f'), store: join(root, 'store.json') };
  const args = ['anonymize', input, '--out', d.out, '--quarantine', d.q, '--failed', d.f, '--prefix', 'TXT_', '--store', d.store, '--shift-days', '-5', '--workers', '1'];
  if (config) {
    mkdirSync(join(root, 'cfg'));
    const file = join(root, 'cfg', 'config.json');
    writeFileSync(file, JSON.stringify({ store: d.store, projects: [{ name: 'TXT', prefix: 'TXT_', inbox: input, outbox: d.out, quarantine: d.q, failed: d.f, dateShiftDays: -5, ...config }] }));
    args.push('--config', file);
  }
  const r = runCli(args);
  expect(r.status, r.stderr).toBe(0);
  const sidecars = filesUnder(d.q).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { reason: string; findings: Array<{ rule: string; boxes?: unknown[] }> });
  return { delivered: filesUnder(d.out).length, sidecars, raw: filesUnder(d.q).filter((f) => f.endsWith('.json')).map((f) => readFileSync(f, 'utf8')).join('\n') };
}

describe('burned-in text in the pipeline', () => {
  it('holds a radiograph with text (matching its header or not) and delivers its clean twin', () => {
    const dir = inputs({
      'text.dcm': { from: 'ct-white-tl.dcm', set: { '(0008,0060)': 'DX' } },
      'named.dcm': { from: 'ct-label-br.dcm', set: { '(0008,0060)': 'CR', '(0010,0010)': 'DOE^JANE', '(0010,0020)': '12345678' } },
      'clean.dcm': { from: 'ct-clean.dcm', set: { '(0008,0060)': 'DX' } },
      'ruler.dcm': { from: 'ct-ruler.dcm', set: { '(0008,0060)': 'DX' } },
    });
    const r = anonymize(dir);
    expect(r.delivered).toBe(2);
    expect(r.sidecars.map((s) => s.findings[0]?.rule).sort()).toEqual(['text-in-pixels', 'text-matches-header']);
    for (const s of r.sidecars) expect((s.findings[0]?.boxes ?? []).length).toBeGreaterThan(0);
    // Boxes and counts only: nothing read from the pixels, no identifier.
    for (const phi of ['DOE', 'JANE', '12345678', '2024', 'MRN']) expect(r.raw, phi).not.toContain(phi);
  }, 180_000);

  it('looks at a CT series by default: text in its first image holds it, the clean twin is delivered; a project may set CT to the header rules', () => {
    // Two series (the corpus's twins share CT_small's): each one's first image is looked at.
    const dir = inputs({
      'ct-text.dcm': { from: 'ct-white-tl.dcm', set: { '(0020,000E)': '1.2.826.0.1.3680043.10.1137.13.1' } },
      'ct-clean.dcm': { from: 'ct-clean.dcm', set: { '(0020,000E)': '1.2.826.0.1.3680043.10.1137.13.2' } },
    });
    const r = anonymize(dir);
    expect(r.delivered).toBe(1);
    expect(r.sidecars.map((s) => s.findings[0]?.rule)).toEqual(['text-in-pixels']);
    expect((r.sidecars[0]?.findings[0]?.boxes ?? []).length).toBeGreaterThan(0);
    expect(anonymize(dir, { pixels: { inspect: { CT: 'header' } } }).delivered).toBe(2);
  }, 180_000);
});
