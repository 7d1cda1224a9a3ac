import type { ProjectRecord } from '../config/project-record.js';
import type { InstanceProcessor } from './instance-workers.js';
import type { Outcome } from './outcome.js';

/** The time now; injected so tests can cross an expiry date. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** The machine's local calendar date, YYYY-MM-DD: an agreement is valid through its last day where the agent runs. */
export function localDate(t: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

/**
 * Why the project may not deliver now, or undefined while its data use agreement holds. The reason
 * is config data only (the expiry date), never anything of an input.
 */
export function duaExpired(record: ProjectRecord | undefined, now: Date): string | undefined {
  if (!record || localDate(now) <= record.duaExpires) return undefined;
  return `the project's data use agreement expired on ${record.duaExpires}; renew the record in the config`;
}

/** A check the project's drainers ask before each attempt: a reason to hold, or undefined to send. */
export const duaHold = (record: ProjectRecord | undefined, clock: Clock = systemClock): (() => string | undefined) | undefined =>
  record ? () => duaExpired(record, clock()) : undefined;

/**
 * Processing that holds every input while the project's agreement has expired: quarantined with the
 * reason, never read or de-identified, so nothing is written to the outbox or queued for a sink.
 * Asked at each input, so an agent running across midnight of the last day starts holding then.
 */
export function holdWhenExpired(processor: InstanceProcessor, record: ProjectRecord | undefined, clock: Clock = systemClock): InstanceProcessor {
  if (!record) return processor;
  return {
    process: async (path): Promise<Outcome> => {
      const reason = duaExpired(record, clock());
      if (reason === undefined) return processor.process(path);
      return { kind: 'quarantined', reason, findings: [{ detector: 'project-record', rule: 'dua-expired', reason }] };
    },
  };
}
