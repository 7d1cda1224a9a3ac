import { appendAudit, auditPathOf } from '../audit/audit-log.js';
import type { ResolvedConfig } from '../config/schema.js';
import { UsageError } from '../config/usage-error.js';
import { type OpenedCrosswalk, readCrosswalk } from '../store/crosswalk-reader.js';

export interface LookupQuery {
  readonly pseudonym?: string;
  readonly patientId?: string;
}

/**
 * The honest broker's re-identification look-up (CLI and console alike): the crosswalk rows of a
 * pseudonym, or of an original Patient ID (in any issuer). Audited before it answers: who, the
 * project, how it was asked and the pseudonyms returned, never the identifier asked for.
 */
export async function lookUpCrosswalk(config: ResolvedConfig, project: string, query: LookupQuery, who: string): Promise<OpenedCrosswalk> {
  const by = query.pseudonym !== undefined ? 'pseudonym' : 'patient-id';
  if ((query.pseudonym === undefined) === (query.patientId === undefined)) throw new UsageError('give exactly one of a pseudonym and a patient ID');
  const crosswalk = await readCrosswalk(config.store, config.crosswalkKey, project);
  const rows = crosswalk.rows.filter((r) => (query.pseudonym !== undefined ? r.pseudonym === query.pseudonym : r.patientId === query.patientId));
  await appendAudit(auditPathOf(config.store), {
    who, action: 'crosswalk.lookup', project, pseudonyms: rows.map((r) => r.pseudonym), detail: { by, matches: rows.length },
  });
  return { ...crosswalk, rows };
}
