import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anonymizeRequest } from '../../src/cli/anonymize-request.js';
import { loadConfig } from '../../src/config/load-config.js';
import { DEFAULT_BURNED_IN_RULES } from '../../src/detect/burned-in-rules.js';
import { projectOf } from '../../src/pipeline/project.js';
import { settleInput } from '../../src/pipeline/settle-aside.js';

describe('one description of a project', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-project-'));
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    store: join(root, 'store.json'),
    projects: [{
      name: 'ILIAC', prefix: 'ILIAC_CT_', inbox: join(root, 'in'), outbox: join(root, 'out'), quarantine: join(root, 'q'), failed: join(root, 'f'),
      options: ['retain-uids'], rules: [{ tag: '(0008,103E)', action: 'keep' }], maxInflatedMiB: 3, dateShiftDays: -7,
    }],
  }));

  it('is what the agent and anonymize --config both resolve a config project to', async () => {
    const config = await loadConfig(configFile, { secrets: false });
    const agent = projectOf(config.projects[0] as (typeof config.projects)[number]);
    expect(agent).toMatchObject({ name: 'ILIAC', prefix: 'ILIAC_CT_', maxInflatedBytes: 3 * 1024 * 1024, dateShiftDays: -7, burnedInRules: DEFAULT_BURNED_IN_RULES });
    expect(agent.options).toHaveLength(1);
    expect(agent.recipes).toHaveLength(1);
    const req = await anonymizeRequest(['x'], { config: configFile, option: [] });
    expect(req.project).toEqual(agent);
    expect(req.storePath).toBe(join(root, 'store.json'));
    // Flags override the config's project, field by field.
    const over = await anonymizeRequest(['x'], { config: configFile, option: [], out: join(root, 'elsewhere'), shiftDays: 3 });
    expect(over.project).toEqual({ ...agent, outbox: join(root, 'elsewhere'), dateShiftDays: 3 });
  });

  it('names every missing flag at once when there is no config', async () => {
    await expect(anonymizeRequest(['x'], { option: [], prefix: 'P_' })).rejects.toThrow('missing --out, --quarantine, --failed, --store');
  });
});

describe('one settle path', () => {
  const project = (root: string) => ({ name: 'P', quarantine: join(root, 'q'), failed: join(root, 'f') });
  const input = (root: string): string => {
    const path = join(root, 'input.dcm');
    writeFileSync(path, 'bytes');
    return path;
  };

  it('moves a claimed input: consumed when delivered, put aside with its reason otherwise', async () => {
    for (const outcome of [
      { kind: 'delivered', outputPath: '/x', pseudonym: 'P_001' },
      { kind: 'quarantined', reason: 'r', findings: [] },
      { kind: 'failed', reason: 'r' },
    ] as const) {
      const root = mkdtempSync(join(tmpdir(), 'deid-settle-'));
      const path = input(root);
      await settleInput(path, outcome, project(root), 'move');
      expect(existsSync(path), outcome.kind).toBe(false);
      const aside = outcome.kind === 'quarantined' ? 'q' : outcome.kind === 'failed' ? 'f' : undefined;
      for (const dir of ['q', 'f']) {
        const files = existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((n) => !n.startsWith('.')) : [];
        expect(files.length, `${outcome.kind} in ${dir}`).toBe(dir === aside ? 2 : 0); // the input and its sidecar
      }
    }
  });

  it('copies an input read in place: never consumed, whatever its outcome', async () => {
    for (const outcome of [{ kind: 'delivered', outputPath: '/x', pseudonym: 'P_001' }, { kind: 'failed', reason: 'r' }] as const) {
      const root = mkdtempSync(join(tmpdir(), 'deid-settle-'));
      const path = input(root);
      await settleInput(path, outcome, project(root), 'copy');
      expect(existsSync(path), outcome.kind).toBe(true);
    }
  });
});
