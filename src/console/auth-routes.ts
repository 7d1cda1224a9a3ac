import type { FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../audit/audit-log.js';
import type { ConsoleArea, ConsoleContext } from './context.js';
import { html } from './html.js';
import { page } from './layout.js';
import { LoginLimiter, MAX_VERIFYING } from './login-limiter.js';
import { decoyHash, verifyPassword } from './password-hash.js';
import { SESSION_COOKIE } from './server.js';
import type { Session } from './sessions.js';

const MAX_FIELD = 1024;

function loginPage(csrf: string, message?: string): string {
  return page({
    title: 'Log in',
    body: html`
    <div class="login">
      <h1>deid-agent console</h1>
      ${message ? html`<p class="error" role="alert" id="login-error">${message}</p>` : ''}
      <form method="post" action="/login"${message ? html` aria-describedby="login-error"` : ''}>
        <input type="hidden" name="_csrf" value="${csrf}">
        <label for="name">Account</label>
        <input id="name" name="name" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="submit">Log in</button>
      </form>
    </div>`,
  });
}

function setSessionCookie(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply, session: Session): void {
  // Secure whenever the browser speaks HTTPS: our own TLS, or the proxy in front saying so.
  const secure = ctx.console.tls !== undefined || (ctx.console.trustProxy === true && request.protocol === 'https');
  void reply.setCookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}

/** The session the login form belongs to (an anonymous one carrying its CSRF token). */
function formSession(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply): Session {
  const existing = ctx.sessions.get(request.console.sessionId);
  if (existing) return existing;
  const s = ctx.sessions.create();
  setSessionCookie(ctx, request, reply, s);
  return s;
}

const field = (body: unknown, key: string): string => {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v.slice(0, MAX_FIELD) : '';
};

export const registerAuthRoutes: ConsoleArea = (app, ctx) => {
  // Per account: 5 failures in 15 min. Per address: 20, since a ward's workstations may share
  // one address (or the proxy's, without trustProxy) and one person's typos must not lock out all.
  const byAccount = new LoginLimiter(ctx.now, 5);
  const byAddress = new LoginLimiter(ctx.now, 20);
  const accounts = new Map(ctx.console.users.map((u) => [u.name, u]));
  const verify = ctx.verifyPassword ?? verifyPassword;
  let verifying = 0;
  void decoyHash(); // made now, so that the first unknown name does not cost two scrypts

  app.get('/login', async (request, reply) => {
    if (request.console.user) return reply.redirect('/', 303);
    return reply.type('text/html; charset=utf-8').send(loginPage(formSession(ctx, request, reply).csrf));
  });

  app.post('/login', async (request, reply) => {
    const name = field(request.body, 'name');
    const password = field(request.body, 'password');
    const address = request.ip;
    // The typed name is only a key in memory: never logged nor audited unless it is an account
    // (a password typed into the wrong field, or a patient's name, must not land in a log).
    const accountKey = name.toLowerCase();
    const form = formSession(ctx, request, reply);
    const wait = Math.max(byAccount.retryAfter([accountKey]), byAddress.retryAfter([address]));
    if (wait > 0) {
      ctx.log.warn({ route: '/login' }, 'console: login throttled');
      return reply.code(429).header('retry-after', String(wait)).type('text/html; charset=utf-8')
        .send(loginPage(form.csrf, `Too many failed attempts. Try again in ${Math.ceil(wait / 60)} minute(s).`));
    }
    // scrypt runs on libuv's 4-thread pool, which the agent's file I/O shares: a burst of logins
    // must not queue there. Beyond the cap, refuse at once, without counting nor hashing.
    if (verifying >= MAX_VERIFYING) {
      ctx.log.warn({ route: '/login' }, 'console: login refused, too many at once');
      return reply.code(429).header('retry-after', '1').type('text/html; charset=utf-8')
        .send(loginPage(form.csrf, 'Too many logins at once. Try again in a moment.'));
    }
    // Counted as failed before the (asynchronous) check, in the same tick as the limit's check, so
    // that parallel requests cannot all pass it; taken back when the password is right.
    const reservedAccount = byAccount.reserve([accountKey]);
    const reservedAddress = byAddress.reserve([address]);
    const account = accounts.get(name);
    let matches: boolean;
    verifying++;
    try {
      // An unknown name costs one scrypt as well, so timing does not tell which names exist.
      matches = await verify(password, account?.passwordHash ?? (await decoyHash()));
    } finally {
      verifying--;
    }
    if (!account || !matches) {
      await appendAudit(ctx.auditPath, { who: account ? `console:${account.name}` : 'console:(unknown account)', action: 'console.login-failed', detail: { address } })
        .catch((e: unknown) => ctx.log.warn({ code: (e as NodeJS.ErrnoException).code }, 'console: audit write failed'));
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage(form.csrf, 'Wrong account name or password.'));
    }
    byAccount.takeBack([accountKey], reservedAccount);
    byAddress.takeBack([address], reservedAddress);
    byAccount.succeed(accountKey);
    // Recorded before the session exists: a login the audit log cannot hold does not happen.
    await appendAudit(ctx.auditPath, { who: `console:${account.name}`, action: 'console.login', detail: { address } });
    setSessionCookie(ctx, request, reply, ctx.sessions.rotate(form.id, account.name));
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    const user = request.console.user;
    ctx.sessions.destroy(request.console.sessionId);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (user) {
      await appendAudit(ctx.auditPath, { who: `console:${user.name}`, action: 'console.logout' })
        .catch((e: unknown) => ctx.log.warn({ code: (e as NodeJS.ErrnoException).code }, 'console: audit write failed'));
    }
    return reply.redirect('/login', 303);
  });
};
