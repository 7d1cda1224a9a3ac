// A project store holding `count` patients, written as the store writes its snapshot and fsynced
// (so a bench's first fsyncs do not pay for writing the seed back). For the benches only.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeFileSync } from 'node:fs';

/** The identity the store keys patient `id` by (the shape `patientIdentity` gives). */
export const seedIdentity = (id) => ({ key: JSON.stringify(['id', '', id]), patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`, birthDate: '' });

export function seedStore(path, { project, prefix, dateShiftDays, count }) {
  const patients = {};
  for (let i = 1; i <= count; i++) {
    const id = `seed${i}`;
    patients[createHash('sha256').update(seedIdentity(id).key).digest('hex')] = {
      pseudonym: `${prefix}${String(i).padStart(3, '0')}`, patientId: id, issuerOfPatientId: '', patientName: `Name^${id}`,
      birthDate: '', firstSeen: '2025-01-01T00:00:00.000Z',
    };
  }
  const state = {
    prefix, dateShiftDays, uidSecret: 'ab'.repeat(32), nextIndex: count + 1, createdAt: '2025-01-01T00:00:00.000Z',
    patients, stats: { received: 0, delivered: 0, quarantined: 0, failed: 0, forwarded: 0, lastActivity: null }, forwardQueue: {},
  };
  writeFileSync(path, `${JSON.stringify({ formatVersion: 1, journalSeq: 0, projects: { [project]: state } }, null, 1)}\n`, { mode: 0o600 });
  const fd = openSync(path, 'r');
  fsyncSync(fd);
  closeSync(fd);
}
