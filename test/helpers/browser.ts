// Headless Chromium for the tests that look at pages: Debian's /usr/bin/chromium driven by
// playwright-core, on a fresh profile, with the flags that keep it from making any traffic of its
// own; a guard that records what the page fetched from elsewhere and what it logged as a problem;
// logging in to the console; the axe-core scan; screenshots kept as test artifacts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { REPO } from './corpus.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Whether the browser tests can run here (they are skipped, not failed, without Debian's Chromium). */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const CONSOLE_ARTIFACTS = join(REPO, 'test-artifacts', 'console');

/** No GPU, QUIC, sync, component updates or background traffic: nothing leaves the machine on the browser's own account. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Chromium {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Chromium on a fresh --user-data-dir (a profile per run: no state carried between runs). */
export async function launchChromium(viewport: { width: number; height: number } = { width: 1100, height: 900 }): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'deid-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport, args: FLAGS });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

export interface PageGuard {
  /** Every request to a URL that starts with none of the allowed prefixes. */
  readonly foreign: string[];
  /** Every console error or warning: CSP violations and script errors show there. */
  readonly problems: string[];
}

/** Records, for every page of the context, requests outside `allowed` (URL prefixes) and console errors and warnings. */
export function guardPages(context: BrowserContext, allowed: readonly string[]): PageGuard {
  const guard: PageGuard = { foreign: [], problems: [] };
  context.on('request', (r) => { if (!allowed.some((prefix) => r.url().startsWith(prefix))) guard.foreign.push(r.url()); });
  context.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') guard.problems.push(m.text()); });
  return guard;
}

type Account = { readonly name: string; readonly password: string };

export interface ConsoleInChromium extends PageGuard {
  readonly context: BrowserContext;
  /** A new page, logged in as `account` through the form. */
  loggedInPage(account: Account, submit?: 'enter' | 'click'): Promise<Page>;
}

/**
 * For a describe block: beforeAll starts the console (`start`) and opens Chromium on it with its
 * pages guarded (only the console's own URL may be fetched); afterAll closes both.
 */
export function consoleInChromium(start: () => Promise<{ readonly url: string; close(): Promise<void> }>, options: { viewport?: { width: number; height: number }; timeoutMs?: number } = {}): ConsoleInChromium {
  let running: { readonly url: string; close(): Promise<void> } | undefined;
  let browser: Chromium | undefined;
  let guard: PageGuard | undefined;
  beforeAll(async () => {
    running = await start();
    browser = await launchChromium(options.viewport);
    guard = guardPages(browser.context, [running.url]);
  }, options.timeoutMs);
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the console or Chromium did not start');
    return value;
  };
  return {
    get context() { return started(browser).context; },
    get foreign() { return started(guard).foreign; },
    get problems() { return started(guard).problems; },
    async loggedInPage(account, submit = 'enter') {
      const page = await started(browser).context.newPage();
      await logIn(page, started(running).url, account, submit);
      return page;
    },
  };
}

/** Logs in through the console's form; submits with Enter from the password field, or by clicking the button. */
async function logIn(page: Page, url: string, account: Account, submit: 'enter' | 'click' = 'enter'): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill('#name', account.name);
  await page.fill('#password', account.password);
  await Promise.all([page.waitForURL(`${url}/`), submit === 'enter' ? page.keyboard.press('Enter') : page.click('button[type="submit"]')]);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; html: string }> }

/** axe-core's violations for the page; evaluated through the debugger, as the console's CSP allows no script from elsewhere. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run({ resultTypes: ['violations'] });
  });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html })) }));
}

/** Saves a screenshot as a test artifact, by default in test-artifacts/console/. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean; dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? CONSOLE_ARTIFACTS;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: options.fullPage ?? false });
}

/** The ids (or tag:text) focused by pressing Tab from the top of the page, `max` times. */
export async function tabOrder(page: Page, max: number): Promise<string[]> {
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

/** Presses Tab until the element with `id` has the focus. */
export async function tabTo(page: Page, id: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((want) => document.activeElement?.id === want, id)) return;
  }
  throw new Error(`#${id} not reached by Tab`);
}
