import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiValue } from '../../src/dicom/dataset.js';
import { type StoreDestination, startStoreScp } from '../../src/net/dimse-listener.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags } from '../../src/dicom/tag.js';
import { createLogger } from '../../src/log/logger.js';
import type { Outcome } from '../../src/pipeline/outcome.js';
import { admitRequestedStudies, PacsRetrieval, type RefusalReason } from '../../src/sources/pacs-retrieval.js';
import { AgentProcess, filesUnder, waitFor, type ProjectDirs } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { OrthancPacs, freePort } from '../helpers/dicom-peers.js';
import { describe as pydescribe, valueAt, type Description } from '../helpers/tools.js';

interface Report {
  totals: Record<string, number>;
}

/** storescu run asynchronously, so that a listener in this process can answer it meanwhile. */
function storescu(port: number, called: string, calling: string, file: string): Promise<{ status: number | null; output: string }> {
  const child = spawn('storescu', ['-v', '-aec', called, '-aet', calling, '127.0.0.1', String(port), file]);
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((r) => child.on('close', (status) => r({ status, output })));
}

const studyOf = async (path: string): Promise<string | undefined> => asciiValue((await readDicomFile(path)).dataset, Tags.StudyInstanceUID);

describe('two projects retrieving by C-MOVE from one PACS', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-routing-'));
  const dirOf = (name: string, sub: string): string => join(root, name, sub);
  let pacsPort: number;
  let listenerPort: number;
  let ownPort: number;
  let pacs: OrthancPacs;
  let agent: AgentProcess;

  beforeAll(async () => {
    [pacsPort, listenerPort, ownPort] = [await freePort(), await freePort(), await freePort()];
    // The PACS knows the agent's own AE title (it queries and moves as DEIDAGENT) and each
    // project's move destination, all at the agent's one host and port (and DEID_C at a listener
    // this test runs in its own process).
    pacs = new OrthancPacs(join(root, 'orthanc'), pacsPort, 'ORTHANC', {
      agent: ['DEIDAGENT', '127.0.0.1', listenerPort], a: ['DEID_A', '127.0.0.1', listenerPort], b: ['DEID_B', '127.0.0.1', listenerPort], c: ['DEID_C', '127.0.0.1', ownPort],
    });
    await pacs.ready();
    const load = spawnSync('storescu', ['-aec', 'ORTHANC', '127.0.0.1', String(pacsPort), ...['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm',
      'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm', 'study-c-us.dcm'].map((f) => join(SAMPLES, f))], { encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    const project = (name: string) => ({
      name, prefix: `${name}_`, inbox: dirOf(name, 'inbox'), outbox: dirOf(name, 'outbox'), quarantine: dirOf(name, 'quarantine'),
      failed: dirOf(name, 'failed'), work: dirOf(name, 'work'), dateShiftDays: -30,
      pacs: { host: '127.0.0.1', port: pacsPort, calledAET: 'ORTHANC' },
      retrieve: { schedule: '0 0 1 1 *', requests: dirOf(name, 'requests'), moveDestinationAET: `DEID_${name}` },
    });
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({ store: join(root, 'store.json'), dicom: { aet: 'DEIDAGENT', port: listenerPort }, projects: [project('A'), project('B')] }));
    agent = new AgentProcess({ config, log: join(root, 'agent.log') } as ProjectDirs);
    await agent.started();
  });

  afterAll(async () => {
    await agent?.stop();
    await pacs?.stop();
  });

  const settledFiles = (name: string): string[] => ['outbox', 'quarantine', 'failed'].flatMap((s) => filesUnder(dirOf(name, s)));

  it('each project gets exactly its own studies when both retrieve at once', async () => {
    // Both requests are waiting before either project's next poll: the two retrievals overlap.
    for (const [name, list] of [['A', 'ACC20240315001\nACC20240317003\n'], ['B', 'ACC20240316002\n']] as const) {
      mkdirSync(join(dirOf(name, 'requests'), 'now'), { recursive: true });
      writeFileSync(join(dirOf(name, 'requests'), 'now', 'list.txt.part'), list);
    }
    for (const name of ['A', 'B']) {
      const now = join(dirOf(name, 'requests'), 'now');
      await rename(join(now, 'list.txt.part'), join(now, 'list.txt'));
    }
    const reportOf = (name: string): string => join(dirOf(name, 'requests'), 'now', 'list.txt.report.json');
    await waitFor(() => existsSync(reportOf('A')) && existsSync(reportOf('B')), 60_000, 'both reports');
    const a = JSON.parse(readFileSync(reportOf('A'), 'utf8')) as Report;
    const b = JSON.parse(readFileSync(reportOf('B'), 'utf8')) as Report;
    expect(a.totals).toMatchObject({ found: 2, received: 4, delivered: 3, quarantined: 1, failed: 0 });
    expect(b.totals).toMatchObject({ found: 1, received: 1, delivered: 1, quarantined: 0, failed: 0 });
    // A: the three CT images and the ultrasound (quarantined as it came); B: the MR alone.
    const outA = filesUnder(dirOf('A', 'outbox'));
    const outB = filesUnder(dirOf('B', 'outbox'));
    const d = pydescribe([...outA, ...outB]);
    expect(outA.map((o) => valueAt(d[o] as Description, '00080060'))).toEqual(['CT', 'CT', 'CT']);
    expect(outB.map((o) => valueAt(d[o] as Description, '00080060'))).toEqual(['MR']);
    expect(new Set(outA.map((o) => valueAt(d[o] as Description, '00100010')))).toEqual(new Set(['A_001']));
    expect(outB.map((o) => valueAt(d[o] as Description, '00100010'))).toEqual(['B_001']);
    const quarantinedA = filesUnder(dirOf('A', 'quarantine')).filter((f) => f.endsWith('.dcm'));
    // Kept as received (original UIDs): the ultrasound study A asked for.
    expect(await Promise.all(quarantinedA.map(studyOf))).toEqual([await studyOf(join(SAMPLES, 'study-c-us.dcm'))]);
    expect(filesUnder(dirOf('B', 'quarantine'))).toEqual([]);
    expect([...filesUnder(dirOf('A', 'failed')), ...filesUnder(dirOf('B', 'failed'))]).toEqual([]);
    expect(agent.log()).not.toContain('retrieved instance refused');
  });

  it('refuses an instance sent to a project\'s move destination while it retrieves nothing, and keeps no trace of it', async () => {
    const before = [...settledFiles('A'), ...settledFiles('B')].sort();
    const r = await storescu(listenerPort, 'DEID_A', 'ORTHANC', join(SAMPLES, 'study-b-mr-no-patient-id.dcm'));
    expect(r.output).toMatch(/0x0?124|Not ?Authori[sz]ed/i);
    await waitFor(() => agent.log().includes('"reason":"no retrieval running"'), 5_000, 'the refusal to be logged');
    expect([...settledFiles('A'), ...settledFiles('B')].sort()).toEqual(before);
    expect([...readdirSync(dirOf('A', 'work')), ...readdirSync(dirOf('B', 'work'))].filter((f) => f.startsWith('.incoming-'))).toEqual([]);
  });

  it('refuses an instance of a study not asked for that arrives while the retrieval runs', async () => {
    // The admission of the agent's listener, in this process: while the first C-STORE of the
    // retrieval waits for its answer (so the retrieval is certainly running), another study is
    // sent to the same move destination.
    const work = join(root, 'C', 'work');
    const kept = join(root, 'C', 'kept');
    mkdirSync(work, { recursive: true });
    mkdirSync(kept, { recursive: true });
    const settled: Array<(o: Outcome) => void> = [];
    const refusals: RefusalReason[] = [];
    let stray: Promise<{ status: number | null; output: string }> | undefined;
    const keptStudies: Array<string | undefined> = [];
    const inner: StoreDestination = {
      dir: work,
      async accept(path) {
        stray ??= storescu(ownPort, 'DEID_C', 'ORTHANC', join(SAMPLES, 'study-b-mr-no-patient-id.dcm'));
        await stray;
        const study = await studyOf(path);
        keptStudies.push(study);
        const to = join(kept, basename(path).slice(1));
        await rename(path, to);
        for (const l of settled) l({ kind: 'delivered', outputPath: to, pseudonym: 'C_001', ...(study ? { sourceStudyUid: study } : {}) });
      },
    };
    let retrieval: PacsRetrieval | undefined;
    const scp = await startStoreScp({
      port: ownPort,
      route: (a) => (a.calledAET === 'DEID_C' ? admitRequestedStudies(inner, () => retrieval, (reason) => refusals.push(reason)) : undefined),
    });
    const requests = join(root, 'C', 'requests');
    retrieval = new PacsRetrieval({
      project: 'C', pacs: { host: '127.0.0.1', port: pacsPort, calledAET: 'ORTHANC', callingAET: 'DEIDAGENT' }, method: 'move', moveDestination: 'DEID_C',
      getDestination: inner, requestsDir: requests, schedule: '0 0 1 1 *',
    }, (l) => settled.push(l), createLogger('silent'));
    try {
      mkdirSync(join(requests, 'now'), { recursive: true });
      writeFileSync(join(requests, 'now', 'one.txt'), 'ACC20240315001\n');
      await retrieval.start();
      await waitFor(() => existsSync(join(requests, 'now', 'one.txt.report.json')), 30_000, 'the report');
    } finally {
      await retrieval.stop();
      await scp.close();
    }
    const strayResult = await (stray as Promise<{ status: number | null; output: string }>);
    expect(strayResult.output).toMatch(/0x0?124|Not ?Authori[sz]ed/i);
    expect(refusals).toEqual(['study not requested by the running retrieval']);
    const studyA = await studyOf(join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(keptStudies).toEqual([studyA, studyA, studyA]);
    const report = JSON.parse(readFileSync(join(requests, 'now', 'one.txt.report.json'), 'utf8')) as Report;
    expect(report.totals).toMatchObject({ found: 1, received: 3, delivered: 3 });
    expect(readdirSync(work)).toEqual([]); // the refused instance's file is gone
  });
});
