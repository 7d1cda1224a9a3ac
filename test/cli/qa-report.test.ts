import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { markSample, signOff } from '../../src/qa/marks.js';
import { localDay } from '../../src/qa/qa-paths.js';
import type { QaRecord } from '../../src/qa/qa-record.js';
import { type QaScope, qaScopeOf } from '../../src/qa/qa-scope.js';
import { drawSample } from '../../src/qa/sample-draw.js';
import { viewSample } from '../../src/qa/sample-view.js';
import { HAS_CHROMIUM, axeViolations, guardPages, launchChromium, screenshot } from '../helpers/browser.js';
import { REPO } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';
import { type QaWorld, anonymizeWorld, inputIdentifiers, makeQaWorld } from '../qa/qa-fixture.js';

// `deid-agent qa report` from the built CLI over a real anonymize run: one self-contained HTML
// file (no script, no URL, images as data: PNG) that well-formed-checks, renders in headless
// Chromium with every image decoded and nothing fetched, escapes what reviewers wrote, holds no
// identifier of the inputs, and never replaces a file unless forced.

const ARTIFACTS = join(REPO, 'test-artifacts', 'qa');
const NOTE = '<script>alert("x")</script> & \'quoted\'';

/** Python's HTML tokenizer: every element closed in order (void elements excepted), nothing left open. */
function wellFormedProblems(path: string): string {
  const script = `
import sys
from html.parser import HTMLParser
VOID = {'area','base','br','col','embed','hr','img','input','link','meta','source','track','wbr'}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.problems = []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag: self.problems.append('unexpected </%s> at %s' % (tag, self.getpos()))
        else: self.stack.pop()
p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); p.close()
print('; '.join(p.problems + (['unclosed: ' + ' '.join(p.stack)] if p.stack else [])))
`;
  const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

let w: QaWorld;
let scope: QaScope;
let record: QaRecord;
let identifiers: string[];
let images = 0;
let regionMarked = '';
const batch = `day-${localDay(new Date())}` as const;
const report = (...extra: string[]) => runCli(['qa', 'report', '--project', 'QA', '--config', w.config, ...extra]);

beforeAll(async () => {
  w = makeQaWorld('report', { qa: { percent: 100, min: 1, max: 20 } });
  anonymizeWorld(w);
  scope = qaScopeOf(await loadConfig(w.config, { secrets: false }), 'QA');
  identifiers = await inputIdentifiers(w.inputs);
  record = await drawSample(scope, batch, 'console:alice', { seed: '3c'.repeat(32) });
  let first: string | undefined;
  for (const item of record.sample) {
    const v = await viewSample(scope, item);
    if (v.kind === 'available' && 'png' in v.image) {
      images += 1;
      first ??= item.sop;
    }
  }
  if (!first) throw new Error('no sample with an image');
  regionMarked = first;
  await markSample(scope, batch, first, 'phi-found', { region: { frame: 0, x: 1, y: 1, width: 10, height: 5 }, note: NOTE }, 'console:alice');
}, 180_000);

describe('deid-agent qa report', () => {
  it('writes one self-contained, escaped HTML file with the images inline and no identifier of the inputs', () => {
    const out = join(w.root, 'report.html');
    const r = report('--out', out); // the default batch: the latest
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${batch}, ${record.sample.length} sample(s), not signed off`);
    const page = readFileSync(out, 'utf8');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(wellFormedProblems(out)).toBe('');
    expect(page).not.toMatch(/http/i);
    expect(page).not.toMatch(/<script|url\(|@import|<link|<iframe|<object/i);
    const srcs = [...page.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(srcs.length).toBe(images);
    expect(images).toBeGreaterThanOrEqual(3);
    for (const s of srcs) {
      expect(s.startsWith('data:image/png;base64,')).toBe(true);
      const base64 = s.slice('data:image/png;base64,'.length).replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
      expect(Buffer.from(base64, 'base64').subarray(0, 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
    }
    for (const href of [...page.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1] ?? '')) expect(href).toMatch(/^#s\d+$/);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;');
    expect(page).toContain(record.seed);
    for (const s of record.sample) expect(page).toContain(s.sop);
    expect(page).toContain('PHI found in 1 sample(s)');
    expect(page).toContain('&quot;onText&quot;: &quot;clean&quot;');
    expect(page).toContain('class="look"');
    // The whole batch is the sample (100 %): a kept value that is a web address (dcmqi's Manufacturer Model Name) is shown, but not as a URL.
    expect(page).toContain('&#104;ttps://github.com/fedorov/dcmqi.git');
    for (const id of identifiers) expect(page, 'an input identifier in the report').not.toContain(id);
  });

  it('never replaces a file unless forced; refuses a bad or unsampled batch; shows the sign-off once made', async () => {
    const out = join(w.root, 'again.html');
    writeFileSync(out, 'mine');
    const refused = report('--out', out);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('exists; give --force');
    expect(readFileSync(out, 'utf8')).toBe('mine');
    expect(report('--out', join(w.root, 'x.html'), '--batch', '../../etc').status).toBe(2);
    const unsampled = report('--out', join(w.root, 'x.html'), '--batch', 'day-1999-01-01');
    expect(unsampled.status).toBe(2);
    expect(unsampled.stderr).toContain('no sample drawn');
    expect(existsSync(join(w.root, 'x.html'))).toBe(false);
    for (const s of record.sample) if (s.sop !== regionMarked) await markSample(scope, batch, s.sop, 'clean', {}, 'console:bob');
    await signOff(scope, batch, 'console:bob', 'all looked at');
    const forced = report('--out', out, '--force', '--batch', batch);
    expect(forced.status, forced.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('signed off</span> by console:bob');
    expect(page).toContain('all looked at');
  });

  it.skipIf(!HAS_CHROMIUM)('renders in headless Chromium: every image decoded, nothing fetched, no axe violation', async () => {
    const out = join(w.root, 'report.html');
    const browser = await launchChromium();
    try {
      const { foreign: fetched } = guardPages(browser.context, ['file://', 'data:']);
      const page = await browser.context.newPage();
      await page.goto(`file://${out}`);
      const decoded = await page.$$eval('img', (imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
      expect(decoded).toHaveLength(images);
      expect(decoded.every(Boolean)).toBe(true);
      await screenshot(page, 'qa-report.png', { dir: ARTIFACTS });
      expect(await axeViolations(page)).toEqual([]);
      expect(fetched).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
