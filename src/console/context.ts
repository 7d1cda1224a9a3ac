import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConsoleRole } from '../config/console-schema.js';
import type { ResolvedConsoleConfig } from '../config/console-schema.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { StoreCalls } from '../pipeline/process-instance.js';
import type { ProcessingSpec } from '../pipeline/project-context.js';
import type { SessionStore } from './sessions.js';

/** The logged-in account as a request sees it: its projects resolved (all when the config lists none). */
export interface ConsoleUser {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly projects: readonly string[];
}

/**
 * What the running agent hands the console: a feed of settled inputs, so that the dashboard
 * refreshes at once rather than at its next poll. Absent when the console runs without an agent
 * (tests, a read-only console); everything then comes from the store and the folders.
 */
export interface ConsoleLive {
  onSettled(listener: (project: string, kind: Outcome['kind']) => void): () => void;
  /** A started project's processing spec and store calls: the quarantine review's preview and actions deliver with them. */
  reviewProcessing?(project: string): { readonly spec: ProcessingSpec; readonly calls: StoreCalls } | undefined;
}

/** Everything a console area needs, built once per server. */
export interface ConsoleContext {
  readonly config: ResolvedConfig;
  readonly console: ResolvedConsoleConfig;
  /** The audit log beside the store (appendAudit / readAudit). */
  readonly auditPath: string;
  readonly log: Logger;
  readonly live: ConsoleLive | undefined;
  readonly sessions: SessionStore;
  /** Clock (tests move it). */
  readonly now: () => number;
  /** The login's password check (tests count it); password-hash.ts's verifyPassword otherwise. */
  readonly verifyPassword?: (password: string, stored: string) => Promise<boolean>;
}

/**
 * A console area: registers its routes (and nav entries). Every route is behind the login gate,
 * and every POST behind the CSRF check, unless listed in server.ts's public routes.
 */
export type ConsoleArea = (app: FastifyInstance, ctx: ConsoleContext) => void | Promise<void>;

/** Per-request state set by the login gate. */
export interface ConsoleRequestState {
  user: ConsoleUser | undefined;
  csrf: string | undefined;
  sessionId: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    console: ConsoleRequestState;
  }
}

/** The logged-in account; the gate guarantees one on every non-public route. */
export function userOf(request: FastifyRequest): ConsoleUser {
  const u = request.console.user;
  if (!u) throw new Error('console route reached without a session');
  return u;
}

/** The session's CSRF token, for forms (hidden `_csrf` field) and the page's meta tag. */
export function csrfOf(request: FastifyRequest): string {
  return request.console.csrf ?? '';
}

/** Whether an account may see a project (reviewers see only theirs). */
export const canSee = (user: ConsoleUser, project: string): boolean => user.projects.includes(project);
