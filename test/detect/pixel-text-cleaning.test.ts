// Cleaning burned-in text end to end, through the real CLI (`anonymize`, worker threads) and the
// real OCR, on the text corpus (scripts/make-text-corpus.py): under onText 'clean' every text image
// comes out, and each output reads in pydicom (strictly) and dcmdump, adds no dciodvfy error kind,
// shows no text to a second look, states what was done (Burned In Annotation NO, code 113101),
// and differs from its input only where the text was drawn. What cannot be cleaned stays held.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDetectors } from '../../src/detect/detector.js';
import { createPixelTextDetector } from '../../src/detect/pixel-text-detector.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { filesUnder } from '../helpers/agent-process.js';
import { REPO, VENDOR_CORPUS } from '../helpers/corpus.js';
import { addedDciodvfyErrors, dcmdump, runCli } from '../helpers/tools.js';

let corpus: string;
beforeAll(() => {
  corpus = mkdtempSync(join(tmpdir(), 'deid-text-clean-'));
  execFileSync('/usr/bin/python3', [join(REPO, 'scripts', 'make-text-corpus.py'), corpus, VENDOR_CORPUS], { stdio: 'ignore' });
}, 120_000);

interface Input { from: string; set: Record<string, string>; encode?: readonly string[] }

/** Copies of corpus files, headers changed with dcmodify and re-encoded by dcmtk when asked. */
function inputs(files: Record<string, Input>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deid-text-clean-in-'));
  for (const [i, [name, { from, set, encode }]] of Object.entries(files).entries()) {
    const to = join(dir, name);
    if (encode) execFileSync(encode[0] as string, [...encode.slice(1), join(corpus, from), to], { stdio: 'ignore' });
    else copyFileSync(join(corpus, from), to);
    // Two inputs made from one corpus file are two instances, not one sent twice.
    const args = Object.entries({ ...set, '(0008,0018)': `2.25.${9_000 + i}` }).flatMap(([tag, v]) => ['-nb', '-i', `${tag}=${v}`]);
    execFileSync('dcmodify', [...args, to], { stdio: 'ignore' });
  }
  return dir;
}

function anonymizeCleaning(input: string, pixels: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'deid-text-clean-out-'));
  const d = { out: join(root, 'out'), q: join(root, 'q'), f: join(root, 'f'), store: join(root, 'store.json') };
  mkdirSync(join(root, 'cfg'));
  const config = join(root, 'cfg', 'config.json');
  writeFileSync(config, JSON.stringify({ store: d.store, projects: [{
    name: 'TXT', prefix: 'TXT_', inbox: input, outbox: d.out, quarantine: d.q, failed: d.f, dateShiftDays: -5,
    pixels: { otherwise: 'all', onText: 'clean', ...pixels },
  }] }));
  const r = runCli(['anonymize', input, '--out', d.out, '--quarantine', d.q, '--failed', d.f, '--prefix', 'TXT_', '--store', d.store, '--shift-days', '-5', '--workers', '1', '--config', config]);
  expect(r.status, r.stderr).toBe(0);
  const sidecars = filesUnder(d.q).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { reason: string; findings: Array<{ rule: string; reason: string }> });
  return { outputs: filesUnder(d.out).filter((f) => f.endsWith('.dcm')), sidecars, failed: filesUnder(d.f) };
}

const dx = { '(0008,0060)': 'DX' };
const TEXT: Record<string, Input> = {
  'dx-white.dcm': { from: 'ct-white-tl.dcm', set: dx },
  'cr-label.dcm': { from: 'ct-label-br.dcm', set: { '(0008,0060)': 'CR', '(0010,0010)': 'DOE^JANE', '(0010,0020)': '12345678' } },
  'dx-mono1.dcm': { from: 'ct-m1-text.dcm', set: dx },
  'dx-mr.dcm': { from: 'mr-white-tl.dcm', set: dx },
  'dx-jpegls.dcm': { from: 'ct-white-tl.dcm', set: dx, encode: ['dcmcjpls'] },
  'dx-ankle-512.dcm': { from: 'ankle-white-tl.dcm', set: dx },
  // Ultrasound is held by the header rules; cleaning releases it once text was found and removed.
  'us-rgb.dcm': { from: 'rgb-white-tl.dcm', set: { '(0008,0060)': 'US' } },
  'us-jpeg-baseline.dcm': { from: 'rgb-white-tl.dcm', set: { '(0008,0060)': 'US' }, encode: ['dcmcjpeg', '+eb'] },
};
/** The clean twin each text image was drawn on: where they differ is where the text is. */
const TWIN: Record<string, string> = {
  'dx-white.dcm': 'ct-clean.dcm', 'cr-label.dcm': 'ct-clean.dcm', 'dx-mono1.dcm': 'ct-m1-clean.dcm', 'dx-mr.dcm': 'mr-clean.dcm',
  'dx-jpegls.dcm': 'ct-clean.dcm', 'us-rgb.dcm': 'rgb-clean.dcm',
};

/**
 * For each (input, output, twin): pixels that changed, and how many of them lie farther from the
 * drawn text's bounding box than the cleaning's padding and the detector's slack can reach.
 */
const WHERE_CHANGED = `
import json, sys, warnings
warnings.simplefilter('error')
import numpy as np, pydicom
out = {}
for inp, outp, twin in json.loads(sys.argv[1]):
    a, b, t = (pydicom.dcmread(p).pixel_array.astype(np.int64) for p in (inp, outp, twin))
    changed, drawn = a != b, a != t
    if a.ndim == 3:
        changed, drawn = changed.any(axis=2), drawn.any(axis=2)
    ys, xs = np.nonzero(drawn)
    margin = max(9, min(28, a.shape[0] // 14)) + 4
    cy, cx = np.nonzero(changed)
    far = (cy < ys.min() - margin) | (cy > ys.max() + margin) | (cx < xs.min() - margin) | (cx > xs.max() + margin)
    out[outp] = {'changed': int(changed.sum()), 'far': int(far.sum())}
print(json.dumps(out))
`;

describe('cleaning burned-in text (onText: clean)', () => {
  it('releases every text image cleaned and verified, and holds what it cannot clean', () => {
    const dir = inputs({
      ...TEXT,
      'dx-clean.dcm': { from: 'ct-clean.dcm', set: dx },
      'us-clean.dcm': { from: 'rgb-clean.dcm', set: { '(0008,0060)': 'US' } },
      'dx-bigendian.dcm': { from: 'ct-white-tl.dcm', set: dx, encode: ['dcmconv', '+tb'] },
      // The header says there is text: a reader that finds some of it may have missed the rest.
      'dx-says-yes.dcm': { from: 'ct-white-tl.dcm', set: { ...dx, '(0028,0301)': 'YES' } },
    });
    const r = anonymizeCleaning(dir);
    expect(r.failed).toEqual([]);
    // Held: the ultrasound with nothing found (the header's word stands), the big endian one, and
    // the one whose header says Burned In Annotation YES (never overridden by cleaning).
    expect(r.sidecars.map((s) => s.findings.map((f) => f.rule).join(',')).sort()).toEqual(['burned-in-annotation', 'text-in-pixels,not-cleaned', 'ultrasound,secondary-capture']);
    expect(r.sidecars.find((s) => s.reason.includes('not-cleaned'))?.findings[1]?.reason).toBe('big endian pixel data is not cleaned');
    expect(r.outputs).toHaveLength(Object.keys(TEXT).length + 1);

    const strict = JSON.parse(execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'strict_read.py'), ...r.outputs], { encoding: 'utf8' })) as Record<string, string>;
    expect(strict).toEqual({});
    const cleaned = r.outputs.filter((o) => dcmdump(o, '+P', '0012,0064').includes('113101'));
    expect(cleaned).toHaveLength(Object.keys(TEXT).length);
    for (const o of cleaned) {
      expect(dcmdump(o, '+P', '0028,0301')).toContain('[NO]');
      expect(dcmdump(o, '+P', '0002,0010')).toContain('=LittleEndianExplicit');
    }
  }, 300_000);

  it('outputs add no dciodvfy error kind, show no text to a second look, and differ only where the text was', async () => {
    // Instance Number survives de-identification: it pairs each output with its input.
    const names = Object.keys(TEXT);
    const dir = inputs(Object.fromEntries(names.map((n, i) => [n, { ...TEXT[n] as Input, set: { ...(TEXT[n] as Input).set, '(0020,0013)': String(i + 1) } }])));
    const r = anonymizeCleaning(dir);
    expect(r.sidecars).toEqual([]);
    expect(r.outputs).toHaveLength(names.length);
    const inputOf = new Map(r.outputs.map((o) => [o, names[Number(/\[(\d+)\]/.exec(dcmdump(o, '+P', '0020,0013'))?.[1]) - 1] as string]));
    expect(new Set(inputOf.values())).toEqual(new Set(names));

    expect(addedDciodvfyErrors(r.outputs.map((o) => [join(dir, inputOf.get(o) as string), o] as const), (p) => basename(p))).toEqual([]);

    const triples = r.outputs.filter((o) => TWIN[inputOf.get(o) as string]).map((o) => [join(dir, inputOf.get(o) as string), o, join(corpus, TWIN[inputOf.get(o) as string] as string)]);
    const where = JSON.parse(execFileSync('/usr/bin/python3', ['-c', WHERE_CHANGED, JSON.stringify(triples)], { encoding: 'utf8' })) as Record<string, { changed: number; far: number }>;
    for (const [o, w] of Object.entries(where)) {
      expect(w.changed, inputOf.get(o)).toBeGreaterThan(0);
      expect(w.far, `${inputOf.get(o)}: pixels changed away from the text`).toBe(0);
    }

    const look = createPixelTextDetector({ inspect: {}, otherwise: 'all', onText: 'quarantine' });
    for (const o of r.outputs) {
      const file = await readDicomFile(o);
      expect(await runDetectors([look], file.dataset, file), inputOf.get(o)).toEqual([]);
    }
  }, 300_000);
});

describe('cleaned images re-encoded losslessly', () => {
  it('writes a cleaned image as JPEG-LS lossless when the project asks', () => {
    const r = anonymizeCleaning(inputs({ 'dx-white.dcm': TEXT['dx-white.dcm'] as Input }), { cleanedSyntax: 'jpeg-ls' });
    expect(r.outputs).toHaveLength(1);
    const out = r.outputs[0] as string;
    expect(dcmdump(out, '+P', '0002,0010')).toContain('=JPEGLSLossless');
    expect(dcmdump(out, '+P', '0012,0064')).toContain('113101');
    const strict = JSON.parse(execFileSync('/usr/bin/python3', [join(REPO, 'test', 'helpers', 'strict_read.py'), out], { encoding: 'utf8' })) as Record<string, string>;
    expect(strict).toEqual({});
  }, 120_000);
});
