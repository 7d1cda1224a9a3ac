import type { PatientIdentity } from '../deid/patient-identity.js';
import type { Outcome } from './outcome.js';
import type { ProcessingSpec } from './project-context.js';

/** An error as it crosses threads: its name and system code only (messages might quote inputs). */
export interface ThreadError {
  readonly name: string;
  readonly code?: string;
}

/** Main thread to instance worker. */
export type ToWorker =
  | { readonly type: 'project'; readonly spec: ProcessingSpec }
  | { readonly type: 'process'; readonly id: number; readonly project: string; readonly path: string }
  | { readonly type: 'answer'; readonly id: number; readonly pseudonym?: string; readonly error?: ThreadError };

/** Instance worker to main thread: outcomes, and the store calls only the main thread may make. */
export type FromWorker =
  | { readonly type: 'outcome'; readonly id: number; readonly outcome: Outcome }
  | { readonly type: 'error'; readonly id: number; readonly error: ThreadError }
  | { readonly type: 'pseudonymFor'; readonly id: number; readonly project: string; readonly identity: PatientIdentity; readonly input: string };

export function toThreadError(e: unknown): ThreadError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return { name: e instanceof Error ? e.name : 'Error', ...(typeof code === 'string' ? { code } : {}) };
}

export function fromThreadError(t: ThreadError, what: string): Error {
  const e = new Error(`${what} (${t.code ?? t.name})`) as NodeJS.ErrnoException;
  e.name = t.name;
  if (t.code !== undefined) e.code = t.code;
  return e;
}
