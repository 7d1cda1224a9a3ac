import { type CrosswalkKeyRef, deriveKeys } from './crosswalk-key.js';
import { keysForStore } from './crosswalk-unlock.js';
import { identifiersOf } from './crosswalk-sealing.js';
import { ProjectStore } from './project-store.js';
import { StoreError } from './secure-json-file.js';
import { isSealed } from './store-schema.js';

/** One patient of a project's crosswalk, opened: what the honest broker sees, and only they. */
export interface CrosswalkRow {
  readonly pseudonym: string;
  readonly patientId: string;
  readonly issuerOfPatientId: string;
  readonly patientName: string;
  readonly birthDate: string;
  readonly firstSeen: string;
}

export interface OpenedCrosswalk {
  readonly project: string;
  readonly dateShiftDays: number;
  /** In pseudonym order. */
  readonly rows: readonly CrosswalkRow[];
}

/**
 * Opens one project's crosswalk for the honest broker: reads the store without the writer's lock
 * (so it works while the agent runs) and opens each entry with the key. A store not yet sealed
 * (format 1, before the agent's first start after the upgrade) is read as it is.
 */
export async function readCrosswalk(storePath: string, ref: CrosswalkKeyRef, project: string, env?: NodeJS.ProcessEnv): Promise<OpenedCrosswalk> {
  const data = await ProjectStore.readSnapshot(storePath);
  const state = data.projects[project];
  if (!state) throw new StoreError(`project '${project}' is not in the store`);
  const entries = Object.entries(state.patients);
  const sealed = entries.some(([, e]) => isSealed(e));
  const keys = sealed || data.keyCheck !== undefined
    ? deriveKeys(await keysForStore(data, ref, { promote: false, ...(env ? { env } : {}) }))
    : undefined;
  const rows = entries.map(([key, entry]): CrosswalkRow => {
    const id = identifiersOf(keys, project, key, entry);
    return {
      pseudonym: entry.pseudonym, patientId: id.patientId, issuerOfPatientId: id.issuerOfPatientId,
      patientName: id.patientName, birthDate: id.birthDate, firstSeen: entry.firstSeen,
    };
  });
  rows.sort((a, b) => (a.pseudonym < b.pseudonym ? -1 : a.pseudonym > b.pseudonym ? 1 : 0));
  return { project, dateShiftDays: state.dateShiftDays, rows };
}
