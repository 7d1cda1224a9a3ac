import { resolve } from 'node:path';
import { z } from 'zod';
import { isUsableHash } from '../console/password-hash.js';

/** `scrypt$N$r$p$salt_b64$hash_b64`, as `deid-agent console hash-password` prints it. */
export const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

const consoleUserSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ and - only, at most 64 characters'),
  /** reviewer: a project's quarantine and QA; broker: also the crosswalk. */
  role: z.enum(['reviewer', 'broker']),
  // Usable, not only well-formed (bounded parameters, salt and key sizes): checked here so that
  // `start` refuses before it claims any input, not after the projects are running.
  passwordHash: z.string().regex(SCRYPT_HASH, 'a scrypt hash as printed by `deid-agent console hash-password` (never a password)')
    .refine((h) => !SCRYPT_HASH.test(h) || isUsableHash(h), 'not a usable scrypt hash (parameters out of bounds, or a short salt or key): make one with `deid-agent console hash-password`'),
  /** The projects this account sees; default all. */
  projects: z.array(z.string().min(1)).min(1).optional(),
}).strict();

/** Loopback addresses: the only ones where plain HTTP never crosses a network. */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

/** The review console: served by `deid-agent start` when configured. */
export const consoleConfigSchema = z.object({
  port: z.number().int().min(1).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  users: z.array(consoleUserSchema).min(1),
  tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
  /** Behind the hospital's reverse proxy on loopback: take the client address from X-Forwarded-For. */
  trustProxy: z.boolean().optional(),
}).strict().superRefine((c, ctx) => {
  if (!isLoopbackHost(c.host) && !c.tls) {
    ctx.addIssue({ code: 'custom', path: ['host'], message: `'${c.host}' is not loopback: set console.tls { cert, key }, or keep 127.0.0.1 behind a TLS proxy (the console shows PHI; never plain HTTP on the network)` });
  }
  const names = new Set<string>();
  for (const [i, u] of c.users.entries()) {
    if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate account '${u.name}'` });
    names.add(u.name);
  }
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;
export type ConsoleUser = ConsoleConfig['users'][number];
export type ConsoleRole = ConsoleUser['role'];
export type ResolvedConsoleConfig = ConsoleConfig;

/** An account's projects must exist: a typo would silently show nothing. */
export function checkConsoleProjects(c: { readonly console?: ConsoleConfig | undefined; readonly projects: readonly { readonly name: string }[] }, ctx: z.RefinementCtx): void {
  const known = new Set(c.projects.map((p) => p.name));
  for (const [i, u] of (c.console?.users ?? []).entries()) {
    for (const [j, p] of (u.projects ?? []).entries()) {
      if (!known.has(p)) ctx.addIssue({ code: 'custom', path: ['console', 'users', i, 'projects', j], message: `no project '${p}'` });
    }
  }
}

/** Paths resolved against the working directory, as every other path of the config. */
export function resolveConsole(c: ConsoleConfig): ResolvedConsoleConfig {
  return { ...c, ...(c.tls ? { tls: { cert: resolve(c.tls.cert), key: resolve(c.tls.key) } } : {}) };
}
