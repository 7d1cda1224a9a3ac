import { describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, axeViolations, consoleInChromium, screenshot } from '../helpers/browser.js';
import { ALICE, BOB, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';

describe.skipIf(!HAS_CHROMIUM)('review console in headless Chromium', () => {
  let f: ConsoleFixture;
  const chromium = consoleInChromium(async () => (f = await startConsoleFixture()), { viewport: { width: 1100, height: 760 } });

  it('logs in by keyboard (a wrong password refused first), shows the counts, updates live, refuses a missing CSRF token; axe finds nothing', async () => {
    const page = await chromium.context.newPage();
    const first = await page.goto(`${f.url}/`);
    expect(first?.url()).toBe(`${f.url}/login`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('name');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'login.png');

    // Keyboard only: the account field has focus; Tab to the password; Enter submits.
    await page.keyboard.type(ALICE.name);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
    await page.keyboard.type('not the password');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url() === `${f.url}/login` && r.request().method() === 'POST'), page.keyboard.press('Enter')]);
    expect(refused.status()).toBe(401);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Wrong account name or password/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'login-refused.png');

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
    await screenshot(page, 'dashboard.png', { fullPage: true });

    // A drop: the page follows without a reload (the marker survives), with a progress bar while it is large.
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    f.drop('DEMO', 30);
    await page.locator('section[data-project="DEMO"] progress').first().waitFor({ timeout: 20_000 });
    await expect.poll(() => demo.locator('label', { hasText: /^Drop: \d+ of \d+ files settled$/ }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    // For the picture only: a bar part-way, when the next poll catches one (not asserted: timing).
    await demo.locator('label', { hasText: /^Drop: [1-9]\d* of/ }).waitFor({ timeout: 5_000 }).catch(() => undefined);
    await screenshot(page, 'dashboard-drop.png', { fullPage: true });
    await expect.poll(() => demo.locator('[data-field="delivered"]').textContent(), { timeout: 60_000 }).toBe('30');
    expect(await demo.locator('[data-field="received"]').textContent()).toBe('30');
    await expect.poll(() => demo.locator('progress').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await screenshot(page, 'dashboard-after-drop.png', { fullPage: true });

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

    expect(chromium.foreign).toEqual([]);
    // CSP violations and script errors show as console errors.
    expect(chromium.problems.filter((m) => !/status of 40[13]/.test(m))).toEqual([]);
  });

  it('shows a broker every project', async () => {
    await chromium.context.clearCookies();
    const page = await chromium.loggedInPage(BOB, 'click');
    expect(await page.locator('section[data-project]').evaluateAll((s) => s.map((e) => e.getAttribute('data-project')))).toEqual(['DEMO', 'OTHER']);
    await page.close();
  });
});
