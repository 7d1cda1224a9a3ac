// Sample inspection in headless Chromium (Debian's, driven by playwright-core): the agent delivers
// the repository's samples; the reviewer opens QA, draws the batch's sample, opens a sample (its
// image, every attribute with the places to look), marks it PHI found on an attribute with a note
// by keyboard, marks the rest clean, signs off with a comment, sees the flag on the dashboard and
// qa.draw / qa.mark / qa.sign-off on the audit page. axe finds nothing; no request leaves 127.0.0.1.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BatchId } from '../../src/qa/qa-paths.js';
import { readRecord } from '../../src/qa/qa-record.js';
import { HAS_CHROMIUM, axeViolations, consoleInChromium, screenshot, tabOrder, tabTo } from '../helpers/browser.js';
import { inputIdentifiers } from '../qa/qa-fixture.js';
import { ALICE, type ConsoleFixture, startConsoleFixture } from './console-fixture.js';
import { QA_SAMPLE_INPUTS, deliverForQa } from './qa-deliveries.js';

describe.skipIf(!HAS_CHROMIUM)('sample inspection in headless Chromium', () => {
  let f: ConsoleFixture;
  let batch: BatchId;
  let identifiers: string[];
  const chromium = consoleInChromium(async () => (f = await startConsoleFixture()));

  beforeAll(async () => {
    batch = await deliverForQa(f, 'DEMO', QA_SAMPLE_INPUTS);
    identifiers = [...await inputIdentifiers(QA_SAMPLE_INPUTS), 'MRN12345', 'Doe'];
  }, 120_000);

  it('draws, marks one sample PHI found and the rest clean, signs off, and sees the flag and the audit entries', async () => {
    const page = await chromium.loggedInPage(ALICE);

    // QA, from the menu: the batch, not drawn, with its button.
    await Promise.all([page.waitForURL(`${f.url}/qa`), page.getByRole('link', { name: 'QA', exact: true }).click()]);
    await expect(page.locator('table.qa-batches tbody tr').first().textContent()).resolves.toContain('not drawn');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'qa-list.png', { fullPage: true });
    expect(await tabOrder(page, 12)).toContain('button:Draw sample');
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}?done=drawn`), page.getByRole('button', { name: `Draw sample of ${batch}` }).click()]);
    const drawn = await readRecord(f.config.store, 'DEMO', batch);
    if (!drawn) throw new Error('nothing drawn');
    await expect(page.locator('code.seed').textContent()).resolves.toBe(drawn.seed);
    expect(await axeViolations(page)).toEqual([]);

    // The first sample: image loaded, attributes with their markers, the form reached by Tab.
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}/1`), page.getByRole('link', { name: 'Sample 1', exact: true }).click()]);
    const img = page.locator('#qa-image');
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
    expect(await page.locator('table.attributes tr.look .look-marker').count()).toBeGreaterThan(0);
    const body = (await page.locator('main').textContent()) ?? '';
    for (const id of identifiers) expect(body).not.toContain(id);
    expect(await axeViolations(page)).toEqual([]);
    const order = await tabOrder(page, 40);
    for (const id of ['verdict-clean', 'mark-attribute', 'region-frame', 'region-h', 'mark-note']) expect(order).toContain(id);
    expect(order).toContain('button:Save mark');

    // PHI found on a place-to-look attribute, by keyboard.
    // A description if the output kept one (else any place to look).
    const looks = page.locator('#mark-attribute option', { hasText: '(look)' });
    const described = looks.filter({ hasText: 'Description' });
    const attribute = await ((await described.count()) > 0 ? described : looks).first().getAttribute('value');
    if (!attribute) throw new Error('no highlighted attribute');
    await page.evaluate(() => { (document.activeElement as HTMLElement | null)?.blur(); window.scrollTo(0, 0); });
    await tabTo(page, 'verdict-clean');
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked('#verdict-phi')).toBe(true);
    await page.selectOption('#mark-attribute', attribute);
    await page.fill('#mark-note', 'This project keeps no dates: the attribute should have been removed.');
    await page.setViewportSize({ width: 1100, height: 1500 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'qa-sample.png');
    await page.setViewportSize({ width: 1100, height: 900 });
    await screenshot(page, 'qa-sample-full.png', { fullPage: true });
    await page.focus('#mark-note');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Save mark');
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}/2?saved=1`), page.keyboard.press('Enter')]);
    await expect(page.locator('p.flash').textContent()).resolves.toBe('Sample 1 marked.');

    // The rest clean; then the batch page says every sample is marked.
    await page.check('#verdict-clean');
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}/3?saved=2`), page.getByRole('button', { name: 'Save mark' }).click()]);
    await page.check('#verdict-clean');
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}?done=marked`), page.getByRole('button', { name: 'Save mark' }).click()]);
    await expect(page.locator('#phi').textContent()).resolves.toBe('PHI found');
    await expect(page.locator('pre.rule').textContent()).resolves.toContain(`"tag": "${attribute}"`);
    await expect(page.getByRole('link', { name: 'Download feedback (JSON)' }).getAttribute('href')).resolves.toBe(`/qa/DEMO/feedback.json?batch=${batch}`);
    expect(await axeViolations(page)).toEqual([]);

    // Sign off with a comment (the form reached by Tab).
    const batchOrder = await tabOrder(page, 30);
    expect(batchOrder).toContain('sign-off-comment');
    expect(batchOrder).toContain('button:Sign off the batch');
    await page.fill('#sign-off-comment', 'Three samples inspected; one rule to add to the project.');
    await screenshot(page, 'qa-batch.png', { fullPage: true });
    await Promise.all([page.waitForURL(`${f.url}/qa/DEMO/${batch}?done=signed`), page.getByRole('button', { name: 'Sign off the batch' }).click()]);
    await expect(page.locator('p.signed').textContent()).resolves.toMatch(/^Signed off by console:alice at .* UTC: Three samples inspected/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'qa-batch-signed.png', { fullPage: true });
    await page.goto(`${f.url}/qa`);
    await expect(page.locator('table.qa-batches tbody tr').first().textContent()).resolves.toMatch(/signed off by console:alice[\s\S]*PHI found in 1 sample/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'qa-list-signed.png', { fullPage: true });

    // The dashboard flags the batch, linking to it; the audit page lists the QA actions.
    await page.goto(`${f.url}/`);
    const flag = page.getByRole('link', { name: `QA: PHI found in batch ${batch}` });
    await expect(flag.getAttribute('href')).resolves.toBe(`/qa/DEMO/${batch}`);
    await expect.poll(() => page.evaluate(() => document.body.getAttribute('data-updates'))).not.toBeNull();
    await expect(flag.count()).resolves.toBe(1); // still there after the live update
    await screenshot(page, 'qa-dashboard.png', { fullPage: true });
    await page.goto(`${f.url}/audit`);
    const actions = await page.locator('table.audit tbody tr td:nth-child(4)').allTextContents();
    expect(actions.filter((a) => a.startsWith('qa.')).reverse()).toEqual(['qa.draw', 'qa.mark', 'qa.mark', 'qa.mark', 'qa.sign-off']);
    expect(chromium.problems).toEqual([]);
    expect(chromium.foreign).toEqual([]);
  }, 120_000);
});
