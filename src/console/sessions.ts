import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Sessions in memory (a restart logs everyone out, by design: nothing to steal from disk). An id
 * is 32 random bytes; an anonymous session exists only to carry the login form's CSRF token and
 * is replaced by a new id at login (fixation). Idle 30 min, absolute 8 h.
 */
export interface Session {
  readonly id: string;
  readonly csrf: string;
  /** Undefined until login. */
  readonly account: string | undefined;
  readonly createdAt: number;
  lastSeen: number;
}

export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 8 * 60 * 60_000;
/** Anonymous sessions cost memory for anyone who asks for the login page: bounded. */
const MAX_ANONYMOUS = 5_000;

const token = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now, private readonly limits = { idleMs: IDLE_MS, absoluteMs: ABSOLUTE_MS }) {}

  create(account?: string): Session {
    this.sweep();
    if (account === undefined) {
      const anonymous = [...this.sessions.values()].filter((s) => s.account === undefined);
      for (const s of anonymous.slice(0, Math.max(0, anonymous.length - MAX_ANONYMOUS + 1))) this.sessions.delete(s.id);
    }
    const t = this.now();
    const s: Session = { id: token(), csrf: token(), account, createdAt: t, lastSeen: t };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id (touching it), or undefined when unknown or expired. */
  get(id: string | undefined, touch = true): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > this.limits.idleMs || t - s.createdAt > this.limits.absoluteMs) {
      this.sessions.delete(id);
      return undefined;
    }
    if (touch) s.lastSeen = t;
    return s;
  }

  /** Logs in: the old (anonymous) id is dropped and a new id and CSRF token are issued. */
  rotate(oldId: string | undefined, account: string): Session {
    if (oldId) this.sessions.delete(oldId);
    return this.create(account);
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Every session of an account ends (an account removed or its password changed, later work). */
  destroyAccount(account: string): void {
    for (const s of this.sessions.values()) if (s.account === account) this.sessions.delete(s.id);
  }

  private sweep(): void {
    const t = this.now();
    for (const s of this.sessions.values()) {
      if (t - s.lastSeen > this.limits.idleMs || t - s.createdAt > this.limits.absoluteMs) this.sessions.delete(s.id);
    }
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(expected: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
