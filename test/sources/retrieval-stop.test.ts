import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, waitFor, type ProjectDirs } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { OrthancPacs, freePort } from '../helpers/dicom-peers.js';

describe('an agent stopped while an accession is being received', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-retrieval-stop-'));
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('does not record the accession as done, and retrieves it whole at the next start', async () => {
    const [pacsPort, listenerPort] = [await freePort(), await freePort()];
    const pacs = new OrthancPacs(join(root, 'orthanc'), pacsPort, 'ORTHANC', {
      deid: ['DEIDAGENT', '127.0.0.1', listenerPort], hold: ['DEID_HOLD', '127.0.0.1', listenerPort],
    });
    cleanup.push(() => pacs.stop());
    await pacs.ready();
    const files = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm'].map((f) => join(SAMPLES, f));
    const load = spawnSync('storescu', ['-aec', 'ORTHANC', '127.0.0.1', String(pacsPort), ...files], { encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    const outbox = join(root, 'outbox');
    const requests = join(root, 'requests');
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store: join(root, 'store.json'), dicom: { aet: 'DEIDAGENT', port: listenerPort },
      projects: [{
        name: 'HOLD', prefix: 'HOLD_', inbox: join(root, 'inbox'), outbox, quarantine: join(root, 'quarantine'),
        failed: join(root, 'failed'), work: join(root, 'work'), dateShiftDays: -30,
        pacs: { host: '127.0.0.1', port: pacsPort, calledAET: 'ORTHANC' },
        retrieve: { schedule: '0 0 1 1 *', requests, moveDestinationAET: 'DEID_HOLD' },
      }],
    }));
    const dirs = { config, log: join(root, 'agent.log') } as ProjectDirs;
    let agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    // Hold the accession mid-way, deterministically: the outbox cannot be written, so the
    // received instances wait (deferred) and the accession cannot finish.
    rmSync(join(outbox, '.deid-tmp'), { recursive: true, force: true });
    writeFileSync(join(outbox, '.deid-tmp'), '');
    mkdirSync(join(requests, 'now'), { recursive: true });
    const req = join(requests, 'now', 'list.txt');
    writeFileSync(req, 'ACC20240315001\n');
    // All three received (claimed in the work area) and held there by the deferral.
    const claims = (): number => filesUnder(join(root, 'work')).filter((f) => !basename(f).startsWith('.')).length;
    await waitFor(() => agent.log().includes('deferred; will retry') && claims() === 3, 30_000, 'the three instances to be received and held');
    expect((await agent.stop('SIGTERM')).code).toBe(0);
    const progress = `${req}.progress.json`;
    const done = existsSync(progress) ? (JSON.parse(readFileSync(progress, 'utf8')) as { done: unknown[] }).done : [];
    expect(done).toEqual([]); // not recorded as done
    expect(existsSync(`${req}.report.json`)).toBe(false);

    // Writable again: the next start retrieves the accession again and finishes it, once.
    rmSync(join(outbox, '.deid-tmp'), { force: true });
    agent = new AgentProcess(dirs);
    await agent.started();
    await waitFor(() => existsSync(`${req}.report.json`), 60_000, 'the request to finish after the restart');
    const report = JSON.parse(readFileSync(`${req}.report.json`, 'utf8')) as { accessions: Array<{ accession: string; delivered: number }> };
    expect(report.accessions).toEqual([expect.objectContaining({ accession: 'ACC20240315001', delivered: 3 })]);
    expect(filesUnder(outbox)).toHaveLength(3); // the held instances and the second copies land on the same names
    expect((await agent.stop()).code).toBe(0);
  }, 120_000);
});
