import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studiesMatching } from '../../src/net/dimse-query.js';
import { parseAccessions } from '../../src/sources/pacs-retrieval.js';
import { AgentProcess, filesUnder, waitFor, type ProjectDirs } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { OrthancPacs, freePort } from '../helpers/dicom-peers.js';
import { describe as pydescribe, runCli, type Description } from '../helpers/tools.js';

interface Report {
  totals: Record<string, number>;
  accessions: Array<{ accession: string; found: boolean; studies: number; received: number; delivered: number; quarantined: number; failed: number }>;
}

describe('parseAccessions', () => {
  it('takes the first column, skips headers, blanks, comments and repeats', () => {
    expect(parseAccessions('AccessionNumber,Note\nA1,x\n"A2";y\n\n# c\nA1\r\nA3\t z\n')).toEqual({ accessions: ['A1', 'A2', 'A3'], refused: [] });
  });
  it('refuses wildcards, backslashes, control characters and over-long values, naming the line', () => {
    const { accessions, refused } = parseAccessions('A1\n*\nA?2\nB\\C\nD\x01E\n12345678901234567\nA4\n');
    expect(accessions).toEqual(['A1', 'A4']);
    expect(refused.map((r) => r.line)).toEqual([2, 3, 4, 5, 6]);
    expect(refused[0]?.reason).toMatch(/wildcard/);
    expect(JSON.stringify(refused)).not.toMatch(/A\?2|12345678901234567/); // lines named, values not echoed
  });
  it('moves only studies whose accession number equals the one requested', () => {
    expect(studiesMatching([
      { studyInstanceUid: '1.2.1', accessionNumber: 'A1' }, { studyInstanceUid: '1.2.2', accessionNumber: 'a1' },
      { studyInstanceUid: '1.2.3', accessionNumber: 'A10' }, { studyInstanceUid: '1.2.4', accessionNumber: undefined },
      { studyInstanceUid: '1.2.5', accessionNumber: 'A1 ' }, { studyInstanceUid: '1.2.1', accessionNumber: 'A1' },
    ], 'A1')).toEqual(['1.2.1', '1.2.5']);
  });
});

describe('PACS retrieval from Orthanc by accession number', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-pacs-'));
  const project = join(root, 'HOLD');
  const requests = join(root, 'requests');
  let pacs: OrthancPacs;
  let agent: AgentProcess;
  let config: string;

  beforeAll(async () => {
    const [pacsPort, listenerPort] = [await freePort(), await freePort()];
    pacs = new OrthancPacs(join(root, 'orthanc'), pacsPort, 'ORTHANC', {
      deid: ['DEIDAGENT', '127.0.0.1', listenerPort], hold: ['DEID_HOLD', '127.0.0.1', listenerPort],
    });
    await pacs.ready();
    const load = spawnSync('storescu', ['-aec', 'ORTHANC', '127.0.0.1', String(pacsPort), ...['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm',
      'study-b-mr-no-patient-id.dcm', 'study-c-us.dcm'].map((f) => join(SAMPLES, f))], { encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store: join(root, 'store.json'), dicom: { aet: 'DEIDAGENT', port: listenerPort },
      projects: [{
        name: 'HOLD', prefix: 'HOLD_', inbox: join(project, 'inbox'), outbox: join(project, 'outbox'), quarantine: join(project, 'quarantine'),
        failed: join(project, 'failed'), work: join(project, 'work'), dateShiftDays: -30,
        pacs: { host: '127.0.0.1', port: pacsPort, calledAET: 'ORTHANC' },
        retrieve: { schedule: '0 0 1 1 *', requests, moveDestinationAET: 'DEID_HOLD' },
      }],
    }));
    agent = new AgentProcess({ config, log: join(root, 'agent.log') } as ProjectDirs);
    await agent.started();
    pacsPortForGet = pacsPort;
  });
  let pacsPortForGet: number;

  afterAll(async () => {
    await agent?.stop();
    await pacs?.stop();
  });

  it('retrieves, de-identifies and delivers exactly the present studies, and reports the absent one', async () => {
    const list = join(root, 'list.csv');
    writeFileSync(list, 'AccessionNumber\nACC20240315001\nACC20240316002\nACC20240317003\nNOT-THERE-999\n');
    const r = runCli(['retrieve', '--config', config, '--project', 'HOLD', '--accessions', list, '--wait', '90']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const by = Object.fromEntries(report.accessions.map((a) => [a.accession, a]));
    expect(by.ACC20240315001).toMatchObject({ found: true, studies: 1, received: 3, delivered: 3, quarantined: 0, failed: 0 });
    expect(by.ACC20240316002).toMatchObject({ found: true, studies: 1, received: 1, delivered: 1 });
    expect(by.ACC20240317003).toMatchObject({ found: true, received: 1, delivered: 0, quarantined: 1 }); // ultrasound
    expect(by['NOT-THERE-999']).toMatchObject({ found: false, received: 0 });
    expect(report.totals).toMatchObject({ found: 3, notFound: 1, received: 5, delivered: 4, quarantined: 1, failed: 0 });
    // Off a terminal, the wait shows plain progress lines on stderr (counts only, no accession number).
    expect(r.stderr).toMatch(/^progress: 4\/4 \(100%\) [\d.]+ accessions\/s, finished in \d+s; received 5, delivered 4, quarantined 1, failed 0$/m);
    expect(r.stderr.replace(/^progress: .*\n/gm, '')).toBe('');
    expect(r.stderr).not.toMatch(/ACC2024|NOT-THERE/);
    const outputs = filesUnder(join(project, 'outbox'));
    expect(outputs).toHaveLength(4);
    const d = pydescribe(outputs);
    for (const o of outputs) {
      const desc = d[o] as Description;
      expect(desc.elements.find(([p]) => p === '00100010')?.[2]).toMatch(/^HOLD_00[12]$/);
      expect(desc.elements.find(([p]) => p === '00080050')?.[2]).toBe(''); // accession number emptied
    }
    // The request is processed once: renamed .done, its report beside it.
    const now = join(requests, 'now');
    expect(filesUnder(now).some((f) => f.endsWith('.csv.done'))).toBe(true);
    expect(agent.log()).not.toContain('ACC2024');
  });

  it('resumes a request interrupted by a restart, without redoing its finished accessions', async () => {
    mkdirSync(requests, { recursive: true });
    const req = join(requests, 'interrupted.csv');
    writeFileSync(req, 'ACC20240317003\nACC20240316002\n');
    // What a run killed after its first accession leaves behind.
    const done = { accession: 'ACC20240317003', found: true, studies: 1, received: 1, delivered: 0, quarantined: 1, failed: 0 };
    writeFileSync(`${req}.progress.json`, JSON.stringify({ startedAt: '2026-01-01T01:00:00.000Z', done: [done] }));
    const quarantinedBefore = filesUnder(join(project, 'quarantine')).length;
    // Resumed at once (no need to wait for the schedule), since it had started.
    await waitFor(() => existsSync(`${req}.report.json`), 30_000, 'the resumed request');
    const report = JSON.parse(readFileSync(`${req}.report.json`, 'utf8')) as Report & { startedAt: string };
    expect(report.startedAt).toBe('2026-01-01T01:00:00.000Z');
    expect(report.accessions).toEqual([done, expect.objectContaining({ accession: 'ACC20240316002', found: true, received: 1, delivered: 1 })]);
    expect(filesUnder(join(project, 'quarantine')).length).toBe(quarantinedBefore); // the ultrasound was not moved again
  });

  it('runs request files dropped in the requests folder at the scheduled time', async () => {
    // A second agent for the same PACS whose schedule fires every two seconds.
    await agent.stop();
    const cfg = JSON.parse(readFileSync(config, 'utf8')) as { projects: Array<{ retrieve: { schedule: string } }> };
    (cfg.projects[0] as { retrieve: { schedule: string } }).retrieve.schedule = '*/2 * * * * *';
    writeFileSync(config, JSON.stringify(cfg));
    agent = new AgentProcess({ config, log: join(root, 'agent.log') } as ProjectDirs);
    await agent.started();
    mkdirSync(requests, { recursive: true });
    const req = join(requests, 'nightly.txt');
    writeFileSync(req, 'ACC20240316002\n');
    await waitFor(() => existsSync(`${req}.report.json`), 30_000, 'the scheduled run');
    const report = JSON.parse(readFileSync(`${req}.report.json`, 'utf8')) as Report;
    expect(report.totals).toMatchObject({ found: 1, received: 1, delivered: 1 });
    expect(existsSync(`${req}.done`)).toBe(true);
  });

  it('retrieves by C-GET when configured (no listener needed)', async () => {
    const dir = join(root, 'get');
    const cfg = join(dir, 'config.json');
    mkdirSync(dir, { recursive: true });
    writeFileSync(cfg, JSON.stringify({
      store: join(dir, 'store.json'),
      projects: [{
        name: 'GET', prefix: 'GET_', inbox: join(dir, 'inbox'), outbox: join(dir, 'outbox'), quarantine: join(dir, 'quarantine'),
        failed: join(dir, 'failed'), work: join(dir, 'work'), dateShiftDays: -30,
        pacs: { host: '127.0.0.1', port: pacsPortForGet, calledAET: 'ORTHANC' },
        retrieve: { schedule: '0 1 * * *', requests: join(dir, 'requests'), method: 'get' },
      }],
    }));
    const getAgent = new AgentProcess({ config: cfg, log: join(dir, 'agent.log') } as ProjectDirs);
    await getAgent.started();
    try {
      const list = join(dir, 'list.txt');
      writeFileSync(list, 'ACC20240315001\nNOT-THERE-999\n');
      const r = runCli(['retrieve', '--config', cfg, '--project', 'GET', '--accessions', list, '--wait', '90']);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.totals).toMatchObject({ found: 1, notFound: 1, received: 3, delivered: 3 });
      expect(filesUnder(join(dir, 'outbox'))).toHaveLength(3);
    } finally {
      await getAgent.stop();
    }
  });
});
