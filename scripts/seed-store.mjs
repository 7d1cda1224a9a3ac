// A project store holding `count` patients, written as the store writes its snapshot and fsynced
// (so a bench's first fsyncs do not pay for writing the seed back). For the benches only.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, writeFileSync } from 'node:fs';
import { deriveKeys, lookupKeyOf, sealIdentity } from '../dist/src/store/crosswalk-key.js';

/** The identity the store keys patient `id` by (the shape `patientIdentity` gives). */
export const seedIdentity = (id) => ({ key: JSON.stringify(['id', '', id]), patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' });

/**
 * Sealed with a key file beside it (`<store>.key`, the default), as the store writes format 2; or,
 * with `format: 1`, in plaintext as stores were before (to time their migration).
 */
export function seedStore(path, { project, prefix, dateShiftDays, count, format = 2 }) {
  const master = Buffer.alloc(32, 9);
  if (format !== 1 && !existsSync(`${path}.key`)) writeFileSync(`${path}.key`, `${master.toString('hex')}\n`, { mode: 0o600 });
  const keys = deriveKeys(master);
  const patients = {};
  for (let i = 1; i <= count; i++) {
    const id = `seed${i}`;
    const identityHash = createHash('sha256').update(seedIdentity(id).key).digest('hex');
    const pseudonym = `${prefix}${String(i).padStart(3, '0')}`;
    const plain = { patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' };
    if (format === 1) patients[identityHash] = { pseudonym, ...plain, firstSeen: '2025-01-01T00:00:00.000Z' };
    else patients[lookupKeyOf(keys, project, identityHash)] = { pseudonym, firstSeen: '2025-01-01T00:00:00.000Z', sealed: sealIdentity(keys, project, pseudonym, { ...plain, identityHash }) };
  }
  const state = {
    prefix, dateShiftDays, uidSecret: 'ab'.repeat(32), nextIndex: count + 1, createdAt: '2025-01-01T00:00:00.000Z',
    patients, stats: { received: 0, delivered: 0, quarantined: 0, failed: 0, forwarded: 0, lastActivity: null }, forwardQueue: {},
  };
  writeFileSync(path, `${JSON.stringify({ formatVersion: format, journalSeq: 0, ...(format === 1 ? {} : { keyCheck: keys.check }), projects: { [project]: state } }, null, 1)}\n`, { mode: 0o600 });
  const fd = openSync(path, 'r');
  fsyncSync(fd);
  closeSync(fd);
}
