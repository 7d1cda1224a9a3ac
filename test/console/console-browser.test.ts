import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/corpus.js';
import { ALICE, BOB, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts', 'console');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

/** axe-core in the page, as the page's CSP allows no script from elsewhere: evaluated through the debugger. */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run({ resultTypes: ['violations'] });
  });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
}

describe.skipIf(!existsSync(CHROMIUM))('review console in headless Chromium', () => {
  let f: ConsoleFixture;
  let context: BrowserContext;
  let profile: string;
  const consoleProblems: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    f = await startConsoleFixture();
    profile = mkdtempSync(join(tmpdir(), 'deid-chromium-'));
    // A fresh profile per run; no GPU, QUIC, sync or background traffic: nothing leaves 127.0.0.1.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1100, height: 760 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context.on('request', (r) => { if (!r.url().startsWith(f.url)) foreignRequests.push(r.url()); });
    context.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(m.text()); });
  });

  afterAll(async () => {
    await context?.close();
    await f?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('logs in by keyboard (a wrong password refused first), shows the counts, updates live, refuses a missing CSRF token; axe finds nothing', async () => {
    const page = await context.newPage();
    const first = await page.goto(`${f.url}/`);
    expect(first?.url()).toBe(`${f.url}/login`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('name');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'login.png') });

    // Keyboard only: the account field has focus; Tab to the password; Enter submits.
    await page.keyboard.type(ALICE.name);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    await page.keyboard.type('not the password');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url() === `${f.url}/login` && r.request().method() === 'POST'), page.keyboard.press('Enter')]);
    expect(refused.status()).toBe(401);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Wrong account name or password/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'login-refused.png') });

    await page.focus('#name');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(ALICE.name);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ALICE.password);
    await Promise.all([page.waitForURL(`${f.url}/`), page.keyboard.press('Enter')]);
    const demo = page.locator('section[data-project="DEMO"]');
    await expect.poll(() => demo.locator('[data-field="received"]').textContent()).toBe('0');
    expect(await page.locator('section[data-project]').count()).toBe(1); // a reviewer sees DEMO only
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/Live: updated/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // A drop: the page follows without a reload (the marker survives), with a progress bar while it is large.
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    f.drop('DEMO', 30);
    await page.locator('section[data-project="DEMO"] progress').first().waitFor({ timeout: 20_000 });
    await expect.poll(() => demo.locator('label', { hasText: /^Drop: \d+ of \d+ files settled$/ }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    // For the picture only: a bar part-way, when the next poll catches one (not asserted: timing).
    await demo.locator('label', { hasText: /^Drop: [1-9]\d* of/ }).waitFor({ timeout: 5_000 }).catch(() => undefined);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-drop.png'), fullPage: true });
    await expect.poll(() => demo.locator('[data-field="delivered"]').textContent(), { timeout: 60_000 }).toBe('30');
    expect(await demo.locator('[data-field="received"]').textContent()).toBe('30');
    await expect.poll(() => demo.locator('progress').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-drop.png'), fullPage: true });

    // A form posted without its CSRF token is refused, and the session stays.
    await page.evaluate(() => document.querySelector('form.logout input[name="_csrf"]')?.remove());
    const [noToken] = await Promise.all([page.waitForResponse((r) => r.url() === `${f.url}/logout`), page.getByRole('button', { name: 'Log out' }).click()]);
    expect(noToken.status()).toBe(403);
    await expect(page.locator('body').textContent()).resolves.toMatch(/missing or wrong CSRF token/);
    await page.goto(`${f.url}/`);
    expect(page.url()).toBe(`${f.url}/`);
    // With it, logout ends the session.
    await Promise.all([page.waitForURL(`${f.url}/login`), page.getByRole('button', { name: 'Log out' }).click()]);
    await page.goto(`${f.url}/`);
    expect(page.url()).toBe(`${f.url}/login`);

    expect(foreignRequests).toEqual([]);
    // CSP violations and script errors show as console errors.
    expect(consoleProblems.filter((m) => !/status of 40[13]/.test(m))).toEqual([]);
  });

  it('shows a broker every project', async () => {
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(`${f.url}/login`);
    await page.fill('#name', BOB.name);
    await page.fill('#password', BOB.password);
    await Promise.all([page.waitForURL(`${f.url}/`), page.click('button[type="submit"]')]);
    expect(await page.locator('section[data-project]').evaluateAll((s) => s.map((e) => e.getAttribute('data-project')))).toEqual(['DEMO', 'OTHER']);
    await page.close();
  });
});
