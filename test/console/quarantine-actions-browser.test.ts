// The quarantine's actions in headless Chromium (Debian's, driven by playwright-core): a DX image
// with a name drawn in is held by the OCR; the reviewer opens it, reaches every comment and button
// by Tab, widens the detector's box, drags a second one on the image (the preview redraws), and
// cleans and releases with a comment; the cleaned output is in the outbox (pydicom, warnings as
// errors: Burned In Annotation NO) and the audit page lists the action. axe finds nothing.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, waitFor } from '../helpers/agent-process.js';
import { REPO } from '../helpers/corpus.js';
import { textCorpus } from '../review/review-fixture.js';
import { ALICE, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts', 'console');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

interface AxeViolation { id: string; help: string; nodes: string[] }

async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ html: string }> }> }> } }).axe;
    return axe.run({ resultTypes: ['violations'] });
  });
  return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.html) }));
}

/** The ids (or button texts) focused by pressing Tab from the top of the page, `max` times. */
async function tabOrder(page: Page, max: number): Promise<string[]> {
  await page.evaluate(() => { (document.activeElement as HTMLElement | null)?.blur(); window.scrollTo(0, 0); });
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      return e ? (e.id || `${e.tagName.toLowerCase()}:${(e.textContent ?? '').trim()}`) : '';
    }));
  }
  return seen;
}

describe.skipIf(!existsSync(CHROMIUM))('quarantine actions in headless Chromium', () => {
  let f: ConsoleFixture;
  let context: BrowserContext;
  let profile: string;
  let corpus: string;
  const problems: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    corpus = textCorpus();
    f = await startConsoleFixture();
    const demo = f.config.projects.find((p) => p.name === 'DEMO');
    if (!demo) throw new Error('no DEMO project');
    const staged = join(f.dir, 'DEMO', 'staging', 'dx.dcm');
    mkdirSync(join(f.dir, 'DEMO', 'staging'), { recursive: true });
    copyFileSync(join(corpus, 'ct-white-tl.dcm'), staged);
    execFileSync('dcmodify', ['-nb', '-i', '(0008,0060)=DX', '-i', '(0010,0010)=DOE^JANE', '-i', '(0010,0020)=12345678', staged], { stdio: 'ignore' });
    renameSync(staged, join(demo.inbox, 'dx.dcm'));
    await waitFor(() => readdirSync(demo.quarantine).some((n) => n.endsWith('.json')), 60_000, 'the held item');
    profile = mkdtempSync(join(tmpdir(), 'deid-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1100, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context.on('request', (r) => { if (!r.url().startsWith(f.url)) foreign.push(r.url()); });
    context.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await f?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (corpus) rmSync(corpus, { recursive: true, force: true });
  });

  it('adjusts the boxes, cleans and releases with a comment, finds the output in the outbox and the action in the audit log', async () => {
    const page = await context.newPage();
    await page.goto(`${f.url}/login`);
    await page.fill('#name', ALICE.name);
    await page.fill('#password', ALICE.password);
    await Promise.all([page.waitForURL(`${f.url}/`), page.keyboard.press('Enter')]);
    await page.goto(`${f.url}/quarantine`);
    await Promise.all([page.waitForURL(/\/quarantine\/DEMO\/[0-9a-f]{12}$/), page.locator('table a[href^="/quarantine/DEMO/"]').click()]);

    // Every comment and every action button is reached by Tab.
    const order = await tabOrder(page, 80);
    for (const id of ['comment-release', 'comment-clean', 'comment-discard', 'confirm-discard', 'comment-fail', 'b0_on', 'b0_x', 'new_x']) expect(order).toContain(id);
    for (const label of ['Release as is', 'Show these boxes on the image', 'Clean and release', 'Discard', 'Back to failed']) expect(order).toContain(`button:${label}`);
    expect(order.indexOf('comment-clean')).toBeLessThan(order.indexOf('button:Clean and release'));
    expect(await axeViolations(page)).toEqual([]);

    // Widen the detector's first box by 2 pixels (inside the frame), then drag a second one.
    const img = page.locator('#held-image');
    const loaded = () => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0);
    const columns = Number(await img.getAttribute('data-columns'));
    const [x, w] = [Number(await page.inputValue('#b0_x')), Number(await page.inputValue('#b0_w'))];
    const widened = Math.min(w + 2, columns - x);
    await page.fill('#b0_w', String(widened));
    await expect.poll(() => page.evaluate(() => document.body.getAttribute('data-previews'))).toBe('1');
    await expect.poll(() => img.getAttribute('src')).toContain(encodeURIComponent(`${x},`));
    const rowsBefore = await page.locator('#box-rows tr').count();
    await img.scrollIntoViewIfNeeded();
    const r = await img.boundingBox();
    if (!r) throw new Error('no image box');
    await page.mouse.move(r.x + r.width * 0.45, r.y + r.height * 0.55);
    await page.mouse.down();
    await page.mouse.move(r.x + r.width * 0.55, r.y + r.height * 0.62, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.locator('#box-rows tr').count(), { message: problems.join('; ') }).toBe(rowsBefore + 1);
    await expect(page.locator('#box-status').textContent()).resolves.toMatch(/^Box \d+ added: frame 0, x \d+, y \d+, width \d+, height \d+\.$/);
    await expect.poll(() => img.getAttribute('alt')).toMatch(new RegExp(`, ${rowsBefore + 1} text boxes outlined in red \\(yours\\)$`));
    await expect.poll(loaded).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.fill('#comment-clean', 'Name in the top left corner: box widened and one more drawn, cleaned.');
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-actions.png'), fullPage: true });
    // The page's top, tall enough for the image, the first two forms and the boxes (README).
    await page.setViewportSize({ width: 1100, height: 1480 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-actions-item.png') });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.locator('#clean-form').evaluate((e) => e.scrollIntoView());
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-actions-clean.png') });

    await Promise.all([page.waitForURL(`${f.url}/quarantine?done=clean`), page.getByRole('button', { name: 'Clean and release', exact: true }).click()]);
    await expect(page.locator('p.flash').textContent()).resolves.toMatch(/^Cleaned and released/);
    await expect(page.locator('main').textContent()).resolves.toContain('Nothing is held.');
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-after-clean.png'), fullPage: true });

    const outbox = (f.config.projects.find((p) => p.name === 'DEMO') as { outbox: string }).outbox;
    const outputs = filesUnder(outbox).filter((p) => p.endsWith('.dcm'));
    expect(outputs).toHaveLength(1);
    const read = execFileSync('/usr/bin/python3', ['-W', 'error', '-c', [
      'import sys, pydicom', 'from pydicom import config', 'config.settings.reading_validation_mode = config.RAISE',
      'ds = pydicom.dcmread(sys.argv[1])', 'ds.pixel_array', 'print(ds.BurnedInAnnotation, ds.PatientName, ds.PatientID)',
    ].join('\n'), outputs[0] as string], { encoding: 'utf8' }).trim().split(' ');
    expect(read[0]).toBe('NO');
    expect(read.join(' ')).not.toMatch(/DOE|12345678/);

    await page.goto(`${f.url}/audit`);
    const row = page.locator('table.audit tbody tr').first();
    await expect(row.textContent()).resolves.toMatch(/console:alice\s*quarantine\.clean-release\s*DEMO/);
    await expect(row.textContent()).resolves.toMatch(/adjusted: true/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'audit-after-clean.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 120_000);
});
