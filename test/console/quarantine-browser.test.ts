// The quarantine pages in headless Chromium (Debian's, driven by playwright-core): a DX image with
// a name and record number drawn in is held by the OCR, listed, opened, and shown with its boxes
// and the header release would deliver; axe finds nothing; screenshots kept as test artifacts.
import { describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, axeViolations, consoleInChromium, screenshot } from '../helpers/browser.js';
import { ALICE, type ConsoleFixture, startConsoleWithHeldDx } from './console-fixture.js';

describe.skipIf(!HAS_CHROMIUM)('quarantine pages in headless Chromium', () => {
  let f: ConsoleFixture;
  const chromium = consoleInChromium(async () => (f = await startConsoleWithHeldDx()), { timeoutMs: 120_000 });

  it('lists the held item, opens it by keyboard, shows the image with its boxes and the released header', async () => {
    const page = await chromium.loggedInPage(ALICE);

    await page.goto(`${f.url}/quarantine`);
    const link = page.locator('table a[href^="/quarantine/DEMO/"]');
    expect(await link.count()).toBe(1);
    await expect(page.locator('table').textContent()).resolves.toMatch(/text-matches-header/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'quarantine-list.png', { fullPage: true });

    await link.focus();
    await Promise.all([page.waitForURL(/\/quarantine\/DEMO\/[0-9a-f]{12}$/), page.keyboard.press('Enter')]);
    const img = page.locator('img.held-image');
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(128);
    await expect(img.getAttribute('alt')).resolves.toMatch(/[1-9]\d* text boxes? outlined in red/);
    await expect(page.locator('main').textContent()).resolves.toMatch(/Patient: DEMO_\d+/);
    const text = (await page.locator('main').textContent()) ?? '';
    for (const phi of ['DOE^JANE', 'DOE', '12345678']) expect(text).not.toContain(phi);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'quarantine-item.png', { fullPage: true });
    expect(chromium.problems).toEqual([]);
    expect(chromium.foreign).toEqual([]);
  }, 60_000);
});
