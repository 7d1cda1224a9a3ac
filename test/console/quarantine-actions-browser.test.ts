// The quarantine's actions in headless Chromium (Debian's, driven by playwright-core): a DX image
// with a name drawn in is held by the OCR; the reviewer opens it, reaches every comment and button
// by Tab, widens the detector's box, drags a second one on the image (the preview redraws), and
// cleans and releases with a comment; the cleaned output is in the outbox (pydicom, warnings as
// errors: Burned In Annotation NO) and the audit page lists the action. axe finds nothing.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/agent-process.js';
import { HAS_CHROMIUM, axeViolations, consoleInChromium, screenshot, tabOrder } from '../helpers/browser.js';
import { ALICE, type ConsoleFixture, startConsoleWithHeldDx } from './console-fixture.js';

describe.skipIf(!HAS_CHROMIUM)('quarantine actions in headless Chromium', () => {
  let f: ConsoleFixture;
  const chromium = consoleInChromium(async () => (f = await startConsoleWithHeldDx()), { timeoutMs: 120_000 });

  it('adjusts the boxes, cleans and releases with a comment, finds the output in the outbox and the action in the audit log', async () => {
    const page = await chromium.loggedInPage(ALICE);
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
    await expect.poll(() => page.locator('#box-rows tr').count(), { message: chromium.problems.join('; ') }).toBe(rowsBefore + 1);
    await expect(page.locator('#box-status').textContent()).resolves.toMatch(/^Box \d+ added: frame 0, x \d+, y \d+, width \d+, height \d+\.$/);
    await expect.poll(() => img.getAttribute('alt')).toMatch(new RegExp(`, ${rowsBefore + 1} text boxes outlined in red \\(yours\\)$`));
    await expect.poll(loaded).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.fill('#comment-clean', 'Name in the top left corner: box widened and one more drawn, cleaned.');
    await screenshot(page, 'quarantine-actions.png', { fullPage: true });
    // The page's top, tall enough for the image, the first two forms and the boxes (README).
    await page.setViewportSize({ width: 1100, height: 1480 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'quarantine-actions-item.png');
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.locator('#clean-form').evaluate((e) => e.scrollIntoView());
    await screenshot(page, 'quarantine-actions-clean.png');

    await Promise.all([page.waitForURL(`${f.url}/quarantine?done=clean`), page.getByRole('button', { name: 'Clean and release', exact: true }).click()]);
    await expect(page.locator('p.flash').textContent()).resolves.toMatch(/^Cleaned and released/);
    await expect(page.locator('main').textContent()).resolves.toContain('Nothing is held.');
    await screenshot(page, 'quarantine-after-clean.png', { fullPage: true });

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
    await screenshot(page, 'audit-after-clean.png', { fullPage: true });
    expect(chromium.problems).toEqual([]);
    expect(chromium.foreign).toEqual([]);
  }, 120_000);
});
