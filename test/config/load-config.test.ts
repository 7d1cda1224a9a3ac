import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { REPO, SAMPLES } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'deid-config-'));
const write = (name: string, value: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};
const hold = {
  store: join(dir, 'store.json'),
  projects: [{ name: 'HOLD', prefix: 'HOLD_', inbox: join(dir, 'inbox'), outbox: join(dir, 'outbox'), quarantine: join(dir, 'q'), failed: join(dir, 'f'), dateShiftDays: -321 }],
};

describe('loadConfig', () => {
  it('accepts the JSON shape of the issue', async () => {
    const c = await loadConfig(write('hold.json', hold));
    expect(c.projects[0]?.dateShiftDays).toBe(-321);
    expect(c.store).toBe(hold.store);
  });

  it('loads the embedded default (watch.config.ts, built)', async () => {
    const c = await loadConfig(join(REPO, 'dist', 'watch.config.js'));
    expect(c.projects.map((p) => p.name)).toEqual(['DEMO']);
    expect(c.store).toBe(resolve('data/deid-store.json'));
  });

  it('names the key and the problem', async () => {
    const bad = { ...hold, projects: [{ ...hold.projects[0], prefix: 'bad prefix!', dateShiftDays: 0, options: ['clean-everything'] }] };
    const err = await loadConfig(write('bad.json', bad)).catch((e: Error) => e);
    expect(String(err)).toContain('projects.0.prefix');
    expect(String(err)).toContain('projects.0.dateShiftDays: must not be 0');
    expect(String(err)).toContain('projects.0.options.0');
    const unknown = await loadConfig(write('unknown.json', { ...hold, stor: 'x' })).catch((e: Error) => e);
    expect(String(unknown)).toMatch(/Unrecognized key.*stor/);
    const dup = await loadConfig(write('dup.json', { ...hold, projects: [hold.projects[0], hold.projects[0]] })).catch((e: Error) => e);
    expect(String(dup)).toContain("duplicate project name 'HOLD'");
    await expect(loadConfig(write('x.json', '{'))).rejects.toThrow(/not valid JSON/);
    await expect(loadConfig(write('w.json', { ...hold, workers: 1.5 }))).rejects.toThrow(/workers/);
    expect((await loadConfig(write('w0.json', { ...hold, workers: 0 }))).workers).toBe(0);
  });

  it('drives anonymize: the project\'s folders, prefix, store and shift from the file', () => {
    const cfg = write('run.json', hold);
    const r = runCli(['anonymize', join(SAMPLES, 'study-a-ct-1.dcm'), '--config', cfg, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/delivered\s+1/);
    const bad = runCli(['anonymize', join(SAMPLES, 'study-a-ct-1.dcm'), '--config', cfg, '--project', 'NOPE']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("no project 'NOPE'");
  });
});
