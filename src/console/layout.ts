import { html, type SafeHtml } from './html.js';
import type { ConsoleUser } from './context.js';

export interface PageOptions {
  readonly title: string;
  /** The logged-in account (a navigation bar and a logout button); none on the login page. */
  readonly user?: ConsoleUser;
  /** The session's CSRF token, for the logout form (and read by served scripts from the meta tag). */
  readonly csrf?: string;
  readonly body: SafeHtml;
  /** Served script paths (under /static/); inline scripts are forbidden by the CSP. */
  readonly scripts?: readonly string[];
}

/** Navigation entries; other console areas add theirs with `addNavItem` when they register. */
const nav: Array<{ readonly href: string; readonly label: string }> = [{ href: '/', label: 'Dashboard' }];

export function addNavItem(href: string, label: string): void {
  if (!nav.some((n) => n.href === href)) nav.push({ href, label });
}

/** The one page shell: landmarks, a skip link, the served stylesheet, no inline script or style. */
export function page(o: PageOptions): string {
  const header = o.user ? html`
  <header class="top">
    <nav aria-label="Console">
      <ul>${nav.map((n) => html`<li><a href="${n.href}">${n.label}</a></li>`)}</ul>
    </nav>
    <form method="post" action="/logout" class="logout">
      <span class="account">${o.user.name} (${o.user.role})</span>
      <input type="hidden" name="_csrf" value="${o.csrf ?? ''}">
      <button type="submit">Log out</button>
    </form>
  </header>` : html``;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  ${o.csrf ? html`<meta name="csrf-token" content="${o.csrf}">` : ''}
  <title>${o.title} · deid-agent console</title>
  <link rel="stylesheet" href="/static/console.css">
  ${(o.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>${header}
  <main id="main">
${o.body}
  </main>
</body>
</html>
`.text;
}
