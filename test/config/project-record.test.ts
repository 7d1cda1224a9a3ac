// The project record in the config: what is accepted, and errors that name the key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { projectOf } from '../../src/pipeline/project.js';

const dir = mkdtempSync(join(tmpdir(), 'deid-record-config-'));
let n = 0;
const configWith = (record: unknown): string => {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, JSON.stringify({
    store: join(dir, 'store.json'),
    projects: [{ name: 'REC', prefix: 'REC_', inbox: join(dir, 'in'), outbox: join(dir, 'out'), quarantine: join(dir, 'q'), failed: join(dir, 'f'), record }],
  }));
  return p;
};
const errorOf = async (record: unknown): Promise<string> => String(await loadConfig(configWith(record)).then(() => 'accepted', (e: Error) => e.message));

const good = { protocolId: 'IRB-2025-0142', principalInvestigator: 'Dr. Ana Müller', duaExpires: '2027-01-31' };

describe('project record in the config', () => {
  it('is carried to the resolved project, optional keys absent', async () => {
    const c = await loadConfig(configWith({ ...good, siteId: 'S01', sponsorName: 'Iliac Consortium' }));
    expect(projectOf(c.projects[0]!).record).toEqual({ ...good, siteId: 'S01', sponsorName: 'Iliac Consortium' });
    const none = await loadConfig(configWith(undefined));
    expect(projectOf(none.projects[0]!).record).toBeUndefined();
  });

  it('needs the protocol, the principal investigator and the expiry', async () => {
    const e = await errorOf({ protocolName: 'x' });
    expect(e).toContain('projects.0.record.protocolId');
    expect(e).toContain('projects.0.record.principalInvestigator');
    expect(e).toContain('projects.0.record.duaExpires');
    expect(await errorOf({ ...good, principalInvestigator: '   ' })).toContain('projects.0.record.principalInvestigator: must not be blank');
  });

  it('takes only real calendar dates written YYYY-MM-DD', async () => {
    expect(await errorOf({ ...good, duaExpires: '2027-02-30' })).toContain('projects.0.record.duaExpires: not a calendar date');
    expect(await errorOf({ ...good, duaExpires: '2027-13-01' })).toContain('projects.0.record.duaExpires: not a calendar date');
    expect(await errorOf({ ...good, duaExpires: '31/01/2027' })).toContain('projects.0.record.duaExpires: a date written YYYY-MM-DD');
    expect(await errorOf({ ...good, duaExpires: '2027-1-31' })).toContain('YYYY-MM-DD');
    expect(await errorOf({ ...good, duaExpires: '2028-02-29' })).toBe('accepted'); // a leap day
  });

  it('refuses values that do not fit a DICOM LO, naming the key', async () => {
    expect(await errorOf({ ...good, protocolName: 'x'.repeat(65) })).toContain('projects.0.record.protocolName: at most 64 characters');
    // Readers count LO lengths in bytes: 64 characters of é are 128 bytes in UTF-8.
    expect(await errorOf({ ...good, protocolName: 'é'.repeat(64) })).toContain('projects.0.record.protocolName: at most 64 bytes in UTF-8');
    expect(await errorOf({ ...good, protocolName: 'é'.repeat(32) })).toBe('accepted');
    expect(await errorOf({ ...good, siteName: 'North\\South' })).toContain('projects.0.record.siteName: must not contain a backslash');
    expect(await errorOf({ ...good, sponsorName: 'a\nb' })).toContain('projects.0.record.sponsorName: must not contain control characters');
    expect(await errorOf({ ...good, siteId: 'y'.repeat(65) })).toContain('projects.0.record.siteId');
  });

  it('refuses unknown keys (a misspelt expiry must not go unnoticed)', async () => {
    expect(await errorOf({ ...good, duaExpiry: '2027-01-01' })).toMatch(/projects\.0\.record: Unrecognized key.*duaExpiry/);
  });
});
