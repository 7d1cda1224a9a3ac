import { type CrosswalkKeys, lookupKeyOf, openIdentity, sealIdentity } from './crosswalk-key.js';
import type { ParsedJournal } from './journal-records.js';
import { StoreError } from './secure-json-file.js';
import { type PatientEntry, type SealedPatientEntry, type StoreData, STORE_FORMAT_VERSION, isSealed } from './store-schema.js';

/**
 * Whether a store read at open must be rewritten sealed: a format-1 store, or any plaintext entry
 * in the snapshot or in its journal (even one the snapshot already includes: the journal file
 * would still hold it).
 */
export function needsSealing(data: StoreData, journal: ParsedJournal | null): boolean {
  if (data.formatVersion !== STORE_FORMAT_VERSION) return true;
  if (Object.values(data.projects).some((p) => Object.values(p.patients).some((e) => !isSealed(e)))) return true;
  return journal?.records.some((r) => r.t === 'patient' && !isSealed(r.entry)) ?? false;
}

/** The identifiers of an entry, whether sealed (opened with `keys`) or a format-1 plaintext one. */
export function identifiersOf(keys: CrosswalkKeys | undefined, project: string, key: string, entry: PatientEntry): {
  patientId: string; issuerOfPatientId: string; patientName: string; birthDate: string; identityHash: string;
} {
  if (isSealed(entry)) {
    if (!keys) throw new StoreError('the crosswalk is sealed, and no key was given to open it');
    return openIdentity(keys, project, entry.pseudonym, entry.sealed);
  }
  // Format 1 keyed its entries by the identity's SHA-256: exactly the identity hash.
  return { patientId: entry.patientId, issuerOfPatientId: entry.issuerOfPatientId, patientName: entry.patientName, birthDate: entry.birthDate, identityHash: key };
}

/**
 * Rewrites every project's crosswalk sealed with `to`, indexed by its keyed hash: plaintext
 * entries are sealed, sealed ones are opened with `from` and sealed again (a key rotation). The
 * store is marked with `to`'s check value. Changes `data` in place only once every entry opened.
 */
export function sealAll(data: StoreData, from: CrosswalkKeys, to: CrosswalkKeys): void {
  const rewritten = new Map<string, Record<string, SealedPatientEntry>>();
  for (const [name, project] of Object.entries(data.projects)) {
    const patients: Record<string, SealedPatientEntry> = {};
    for (const [key, entry] of Object.entries(project.patients)) {
      const identity = identifiersOf(from, name, key, entry);
      const index = lookupKeyOf(to, name, identity.identityHash);
      if (patients[index]) throw new StoreError(`project '${name}' holds two crosswalk entries for one patient (${patients[index].pseudonym} and ${entry.pseudonym})`);
      patients[index] = { pseudonym: entry.pseudonym, firstSeen: entry.firstSeen, sealed: sealIdentity(to, name, entry.pseudonym, identity) };
    }
    rewritten.set(name, patients);
  }
  for (const [name, patients] of rewritten) {
    const project = data.projects[name];
    if (project) project.patients = patients;
  }
  data.formatVersion = STORE_FORMAT_VERSION;
  data.keyCheck = to.check;
}

/**
 * A store that records no check value yet may still hold sealed entries (a new store's journal
 * written before its first snapshot): they must open with the key, or it is not theirs.
 */
export function assertEntriesOpen(data: StoreData, keys: CrosswalkKeys): void {
  for (const [name, project] of Object.entries(data.projects)) {
    const first = Object.values(project.patients).find(isSealed);
    if (first) openIdentity(keys, name, first.pseudonym, first.sealed);
  }
}
