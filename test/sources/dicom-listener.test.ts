import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, waitFor, type ProjectDirs } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, SAMPLES } from '../helpers/corpus.js';
import { freePort } from '../helpers/dicom-peers.js';
import { describe as pydescribe, type Description } from '../helpers/tools.js';

describe('the Storage SCP as an inbox (pushed to by dcmtk storescu)', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-scp-'));
  const project = (name: string, listen: Record<string, unknown>) => ({
    name, prefix: `${name}_`, inbox: join(root, name, 'inbox'), outbox: join(root, name, 'outbox'), quarantine: join(root, name, 'quarantine'),
    failed: join(root, name, 'failed'), work: join(root, name, 'work'), dateShiftDays: -7, listen,
  });
  let port: number;
  let agent: AgentProcess;

  beforeAll(async () => {
    port = await freePort();
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store: join(root, 'store.json'), dicom: { aet: 'DEIDAGENT', port },
      projects: [project('A', { calledAET: 'PROJ_A' }), project('B', { callingAETs: ['MODALITY_B'] })],
    }));
    const dirs = { config, log: join(root, 'agent.log') } as ProjectDirs;
    agent = new AgentProcess(dirs);
    await agent.started();
  });

  afterAll(async () => {
    await agent.stop();
  });

  // -R: propose only the SOP classes the files need; -xw: offer JPEG 2000 as it is (no conversion).
  const storescu = (called: string, calling: string, ...files: string[]) =>
    spawnSync('storescu', ['-R', '-xw', '-aec', called, '-aet', calling, '127.0.0.1', String(port), ...files], { encoding: 'utf8' });

  it('answers C-ECHO', () => {
    const r = spawnSync('echoscu', ['-aec', 'DEIDAGENT', '-aet', 'ECHO', '127.0.0.1', String(port)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('routes by called AE title and by calling AE title, and the pushed files go through the pipeline', async () => {
    const a = storescu('PROJ_A', 'ANYONE', join(SAMPLES, 'study-a-ct-1.dcm'), join(PYDICOM_TEST_FILES, '693_J2KI.dcm'));
    expect(a.status, a.stderr).toBe(0);
    const b = storescu('DEIDAGENT', 'MODALITY_B', join(SAMPLES, 'study-b-mr-no-patient-id.dcm'), join(SAMPLES, 'study-c-us.dcm'));
    expect(b.status, b.stderr).toBe(0);
    await waitFor(() => filesUnder(join(root, 'A', 'outbox')).length === 2 && filesUnder(join(root, 'B', 'outbox')).length === 1
      && filesUnder(join(root, 'B', 'quarantine')).some((f) => f.endsWith('.json')), 20_000, 'pushed files to settle');
    const outputs = [...filesUnder(join(root, 'A', 'outbox')), ...filesUnder(join(root, 'B', 'outbox'))];
    const d = pydescribe(outputs);
    const names = outputs.map((o) => (d[o] as Description).elements.find(([p]) => p === '00100010')?.[2]).sort();
    expect(names).toEqual(['A_001', 'A_002', 'B_001']);
    // The compressed instance arrived and left in its own syntax.
    expect(outputs.map((o) => (d[o] as Description).transferSyntax)).toContain('1.2.840.10008.1.2.4.91');
  });

  it('rejects an association no project takes, and refuses storage from an unknown caller to its own AE title', () => {
    const r = storescu('NOBODY', 'STRANGER', join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Called AE Title Not Recognized|Association Rejected/i);
    const unknownCaller = storescu('DEIDAGENT', 'STRANGER', join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(`${unknownCaller.stdout}${unknownCaller.stderr}`).toMatch(/no presentation context|No Acceptable Presentation Contexts|not supported/i);
    expect(filesUnder(join(root, 'B', 'outbox')).length + filesUnder(join(root, 'A', 'outbox')).length).toBe(3);
  });
});
