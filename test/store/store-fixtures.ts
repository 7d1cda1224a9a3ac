import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { deriveKeys, lookupKeyOf, openIdentity, sealIdentity } from '../../src/store/crosswalk-key.js';
import { JournalFile } from '../../src/store/journal-file.js';
import { SecureJsonFile } from '../../src/store/secure-json-file.js';
import { type StoreData, isSealed } from '../../src/store/store-schema.js';

export const identity = (id: string) => ({ key: JSON.stringify(['id', '', id]), patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' });
export const setup = { name: 'P', prefix: 'P_', shiftRange: [-20, -10] as const };

const enospc = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

/** The journal's file with appends and replacements that can be counted, paused or failed on demand. */
export class FaultyJournal extends JournalFile {
  appends = 0;
  appendedBytes = 0;
  replacedBytes = 0;
  gate: Promise<void> | undefined;
  failures = 0;
  /** A failing append first puts its bytes in the file, as a write whose fdatasync then fails. */
  writeBeforeFailing = false;
  replaceFailures = 0;

  override async append(bytes: Buffer): Promise<void> {
    this.appends++;
    this.appendedBytes += bytes.length;
    await this.gate;
    if (this.failures > 0) {
      this.failures--;
      if (this.writeBeforeFailing) await appendFile(this.path, bytes);
      throw enospc();
    }
    await super.append(bytes);
  }

  override async replace(bytes: Buffer): Promise<void> {
    if (this.replaceFailures > 0) {
      this.replaceFailures--;
      throw enospc();
    }
    this.replacedBytes += bytes.length;
    await super.replace(bytes);
  }
}

/** The snapshot's durable adapter, counting the bytes of each snapshot written. */
export class CountingFile extends SecureJsonFile {
  writes = 0;
  bytes = 0;
  override async write(data: StoreData): Promise<void> {
    await super.write(data);
    this.writes++;
    this.bytes += statSync(this.path).size;
  }
}

/** The identity's plain SHA-256: a format-1 store's index, and the identity hash sealed in format 2. */
export const identityHashOf = (id: string): string => createHash('sha256').update(identity(id).key).digest('hex');

/** The crosswalk keys of the store at `path` (its default key file beside it). */
export const keysOf = (path: string) => deriveKeys(Buffer.from(readFileSync(`${path}.key`, 'utf8').trim(), 'hex'));

/** The index of patient `id` of project P in the store at `path`: the keyed hash. */
export const keyOf = (path: string, id: string): string => lookupKeyOf(keysOf(path), 'P', identityHashOf(id));

/** The patient IDs of project P, opened with the store's key. */
export const patientIdsOf = (path: string, data: Readonly<StoreData>): string[] =>
  Object.values(data.projects.P?.patients ?? {}).map((e) => (isSealed(e) ? openIdentity(keysOf(path), 'P', e.pseudonym, e.sealed).patientId : e.patientId));

/**
 * Writes a snapshot holding `count` patients of project P (as the store would have written it),
 * fast: sealed with a key file beside it (format 2), or plaintext as format 1 stores were.
 */
export function writeSeededStore(path: string, count: number, format: 1 | 2 = 2): void {
  const master = Buffer.alloc(32, 7);
  if (format === 2 && !existsSync(`${path}.key`)) writeFileSync(`${path}.key`, `${master.toString('hex')}\n`, { mode: 0o600 });
  const keys = deriveKeys(master);
  const patients: Record<string, unknown> = {};
  for (let i = 1; i <= count; i++) {
    const id = `seed${i}`;
    const pseudonym = `P_${String(i).padStart(3, '0')}`;
    const plain = { patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' };
    const firstSeen = '2025-01-01T00:00:00.000Z';
    if (format === 1) patients[identityHashOf(id)] = { pseudonym, ...plain, firstSeen };
    else patients[lookupKeyOf(keys, 'P', identityHashOf(id))] = { pseudonym, firstSeen, sealed: sealIdentity(keys, 'P', pseudonym, { ...plain, identityHash: identityHashOf(id) }) };
  }
  const data = {
    formatVersion: format, journalSeq: 0, ...(format === 2 ? { keyCheck: keys.check } : {}),
    projects: {
      P: {
        prefix: 'P_', dateShiftDays: -15, uidSecret: 'ab'.repeat(32), nextIndex: count + 1, createdAt: '2025-01-01T00:00:00.000Z',
        patients, stats: { received: 0, delivered: 0, quarantined: 0, failed: 0, forwarded: 0, lastActivity: null }, forwardQueue: {},
      },
    },
  };
  writeFileSync(path, `${JSON.stringify(data, null, 1)}\n`, { mode: 0o600 });
}
