// The quarantine pages in headless Chromium (Debian's, driven by playwright-core): a DX image with
// a name and record number drawn in is held by the OCR, listed, opened, and shown with its boxes
// and the header release would deliver; axe finds nothing; screenshots kept as test artifacts.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/agent-process.js';
import { REPO } from '../helpers/corpus.js';
import { textCorpus } from '../review/review-fixture.js';
import { ALICE, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts', 'console');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

interface AxeViolation { id: string; help: string }

/** axe-core evaluated in the page (its CSP allows no script from elsewhere). */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run({ resultTypes: ['violations'] });
  });
  return result.violations.map((v) => ({ id: v.id, help: v.help }));
}

describe.skipIf(!existsSync(CHROMIUM))('quarantine pages in headless Chromium', () => {
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

  it('lists the held item, opens it by keyboard, shows the image with its boxes and the released header', async () => {
    const page = await context.newPage();
    await page.goto(`${f.url}/login`);
    await page.fill('#name', ALICE.name);
    await page.fill('#password', ALICE.password);
    await Promise.all([page.waitForURL(`${f.url}/`), page.keyboard.press('Enter')]);

    await page.goto(`${f.url}/quarantine`);
    const link = page.locator('table a[href^="/quarantine/DEMO/"]');
    expect(await link.count()).toBe(1);
    await expect(page.locator('table').textContent()).resolves.toMatch(/text-matches-header/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-list.png'), fullPage: true });

    await link.focus();
    await Promise.all([page.waitForURL(/\/quarantine\/DEMO\/[0-9a-f]{12}$/), page.keyboard.press('Enter')]);
    const img = page.locator('img.held-image');
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(128);
    await expect(img.getAttribute('alt')).resolves.toMatch(/[1-9]\d* text boxes? outlined in red/);
    await expect(page.locator('main').textContent()).resolves.toMatch(/Patient: DEMO_\d+/);
    const text = (await page.locator('main').textContent()) ?? '';
    for (const phi of ['DOE^JANE', 'DOE', '12345678']) expect(text).not.toContain(phi);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'quarantine-item.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 60_000);
});
