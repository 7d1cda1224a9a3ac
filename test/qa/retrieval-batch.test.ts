import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOutputs, listBatches } from '../../src/qa/batches.js';
import { localDay } from '../../src/qa/qa-paths.js';
import { AgentProcess, filesUnder, type ProjectDirs } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { OrthancPacs, freePort } from '../helpers/dicom-peers.js';
import { runCli } from '../helpers/tools.js';

// A retrieval request is a QA batch of its own: the agent retrieves a study from Orthanc by
// accession number, and each delivered instance's ledger line names the request's id (a hash of
// its file's name, never the accession numbers), in the day's ledger and in the request's.

describe('a PACS retrieval request as a QA batch', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-qa-retrieval-'));
  const project = join(root, 'R');
  const store = join(root, 'store.json');
  let pacs: OrthancPacs;
  let agent: AgentProcess;
  let config: string;

  beforeAll(async () => {
    const [pacsPort, listenerPort] = [await freePort(), await freePort()];
    pacs = new OrthancPacs(join(root, 'orthanc'), pacsPort, 'ORTHANC', { deid: ['DEIDAGENT', '127.0.0.1', listenerPort], r: ['DEID_R', '127.0.0.1', listenerPort] });
    await pacs.ready();
    const load = spawnSync('storescu', ['-aec', 'ORTHANC', '127.0.0.1', String(pacsPort), ...['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm'].map((f) => join(SAMPLES, f))], { encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store, dicom: { aet: 'DEIDAGENT', port: listenerPort },
      projects: [{
        name: 'R', prefix: 'R_', inbox: join(project, 'inbox'), outbox: join(project, 'outbox'), quarantine: join(project, 'quarantine'),
        failed: join(project, 'failed'), work: join(project, 'work'), dateShiftDays: -30,
        pacs: { host: '127.0.0.1', port: pacsPort, calledAET: 'ORTHANC' },
        retrieve: { schedule: '0 0 1 1 *', requests: join(root, 'requests'), moveDestinationAET: 'DEID_R' },
      }],
    }));
    agent = new AgentProcess({ config, log: join(root, 'agent.log') } as ProjectDirs);
    await agent.started();
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await pacs?.stop();
  });

  it('names the request in each delivered instance\'s ledger line, and lists the request as a batch', async () => {
    const list = join(root, 'list.csv');
    writeFileSync(list, 'ACC20240315001\n');
    const r = runCli(['retrieve', '--config', config, '--project', 'R', '--accessions', list, '--wait', '90', '--no-progress']);
    expect(r.status, r.stderr).toBe(0);
    const outputs = filesUnder(join(project, 'outbox')).map((f) => relative(join(project, 'outbox'), f)).sort();
    expect(outputs).toHaveLength(3);
    const batches = await listBatches(store, 'R');
    const request = batches.find((b) => b.kind === 'request');
    expect(request?.id).toMatch(/^request-[0-9a-f]{12}$/);
    if (!request) throw new Error('no request batch');
    const inRequest = await batchOutputs(store, 'R', request.id);
    expect(inRequest.map((l) => l.path).sort()).toEqual(outputs);
    const inDay = await batchOutputs(store, 'R', `day-${localDay(new Date())}`);
    expect(inDay.map((l) => l.request)).toEqual([request.id, request.id, request.id]);
    const text = readFileSync(join(`${store}.qa`, 'R', 'requests', `${request.id}.jsonl`), 'utf8');
    expect(text).not.toContain('ACC2024');
  }, 120_000);
});
