import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, settledCount, waitFor, writeProjectConfig, type ProjectDirs } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, SAMPLES, requireCorpus } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';

const SAMPLE_UID = '1.2.826.0.1.3680043.10.1137.1.1.1';
const SAMPLE_PHI = ['Doe', 'Jane', 'MRN12345', 'Roe^John', 'House', 'Princeton', '19770412', 'ACC20240315001'];

/** `n` distinct instances of one patient: the sample CT with a different SOP Instance UID each (same length). */
function writeInstances(dir: string, n: number, first = 10_000): void {
  const bytes = readFileSync(join(SAMPLES, 'study-a-ct-1.dcm'));
  const needle = Buffer.from(SAMPLE_UID, 'latin1');
  const staging = `${dir}.staging`;
  mkdirSync(staging, { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const uid = Buffer.from(`1.2.826.0.1.3680043.10.1137.${first + i}`, 'latin1');
    const copy = Buffer.from(bytes);
    for (let at = copy.indexOf(needle); at >= 0; at = copy.indexOf(needle, at + 1)) uid.copy(copy, at);
    // Written beside the inbox and renamed in, as a file manager's finished copy appears.
    writeFileSync(join(staging, `Doe_Jane_${i}.dcm`), copy);
    renameSync(join(staging, `Doe_Jane_${i}.dcm`), join(dir, `Doe_Jane_${i}.dcm`));
  }
}

function zipWith(path: string, entries: ReadonlyArray<readonly [string, string | null]>, extra = ''): void {
  // Python's zipfile writes any entry name we ask for, which is how hostile archives are made.
  const script = `import zipfile, json, sys
entries = json.loads(sys.argv[2])
z = zipfile.ZipFile(sys.argv[1], 'w')
for name, src in entries:
    if src is None:
        continue
    z.writestr(zipfile.ZipInfo(name), open(src, 'rb').read())
${extra}
z.close()`;
  execFileSync('/usr/bin/python3', ['-c', script, path, JSON.stringify(entries)]);
}

const agents: AgentProcess[] = [];
const startAgent = async (dirs: ProjectDirs): Promise<AgentProcess> => {
  const a = new AgentProcess(dirs);
  agents.push(a);
  await a.started();
  return a;
};

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop('SIGKILL');
});

describe('deid-agent start (the watch agent)', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-agent-'));

  it('settles a drop of nested study folders and a zip into outbox, quarantine and failed, and removes the emptied folders', async () => {
    requireCorpus();
    const d = writeProjectConfig(join(root, 'drop'));
    const agent = await startAgent(d);
    const study = join(d.inbox, 'Doe_Jane_MRN12345', 'CT 2024-03-15', 'series 1');
    mkdirSync(study, { recursive: true });
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-c-us.dcm', 'not-dicom.txt']) copyFileSync(join(SAMPLES, f), join(study, f));
    const zip = join(root, 'Doe_Jane.zip');
    zipWith(zip, [['Doe_Jane/a/CT_small.dcm', join(PYDICOM_TEST_FILES, 'CT_small.dcm')], ['Doe_Jane/b/MR_small.dcm', join(PYDICOM_TEST_FILES, 'MR_small.dcm')],
      ['Doe_Jane/b/mr.dcm', join(SAMPLES, 'study-b-mr-no-patient-id.dcm')], ['__MACOSX/._x', join(SAMPLES, 'not-dicom.txt')]]);
    copyFileSync(zip, join(d.inbox, 'Doe_Jane.zip'));
    await waitFor(() => {
      const c = settledCount(d);
      return c.outbox === 5 && c.quarantine === 1 && c.failed === 1 && c.work === 0;
    }, 20_000, 'the drop to settle');
    // The emptied study folders go once they have been still for the stability time.
    await waitFor(() => filesUnder(d.inbox).length === 0 && !existsSync(join(d.inbox, 'Doe_Jane_MRN12345')), 10_000, 'emptied folders to go');
    const pseudonyms = new Set(filesUnder(d.outbox).map((f) => f.slice(d.outbox.length + 1).split('/')[0]));
    expect([...pseudonyms].sort()).toEqual(['HOLD_001', 'HOLD_002', 'HOLD_003', 'HOLD_004']);
    const status = runCli(['status', '--config', d.config, '--json']);
    const [row] = JSON.parse(status.stdout) as Array<Record<string, unknown>>;
    await waitFor(() => (JSON.parse(runCli(['status', '--config', d.config, '--json']).stdout) as Array<{ received: number }>)[0]?.received === 7, 5000, 'status counts');
    expect(row?.project).toBe('HOLD');
    expect((await agent.stop()).code).toBe(0);
    const final = JSON.parse(runCli(['status', '--config', d.config, '--json']).stdout) as Array<Record<string, unknown>>;
    expect(final[0]).toMatchObject({ received: 7, delivered: 5, quarantined: 1, failed: 1, pending: 0 });
    const log = agent.log();
    for (const phi of [...SAMPLE_PHI, 'CT 2024', 'study-a', 'CT_small', 'MR_small', '.zip', 'not-dicom.txt']) expect(log, phi).not.toContain(phi);
  });

  it('does not claim a file that is still being written', async () => {
    const d = writeProjectConfig(join(root, 'slow'), { watch: { stabilityMs: 1500 } });
    const agent = await startAgent(d);
    const bytes = readFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'));
    const target = join(d.inbox, 'Doe_Jane_slow.dcm');
    const fd = openSync(target, 'w');
    // Written in pieces with pauses shorter than the stability time, like a slow SMB copy.
    const pieces = 6;
    const size = Math.ceil(bytes.length / pieces);
    for (let i = 0; i < pieces; i++) {
      writeSync(fd, bytes.subarray(i * size, (i + 1) * size));
      await new Promise((r) => setTimeout(r, 500));
      expect(existsSync(target), `claimed after piece ${i + 1}`).toBe(true);
    }
    closeSync(fd);
    await waitFor(() => settledCount(d).outbox === 1, 10_000, 'the finished file to be delivered');
    expect(settledCount(d).failed).toBe(0);
    await agent.stop();
  });

  it('works in polling mode (for SMB/NFS shares, where change events do not arrive)', async () => {
    const d = writeProjectConfig(join(root, 'poll'), { watch: { usePolling: true, pollIntervalMs: 100, stabilityMs: 400 } });
    const agent = await startAgent(d);
    mkdirSync(join(d.inbox, 'study'), { recursive: true });
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(d.inbox, 'study', 'a.dcm'));
    copyFileSync(join(SAMPLES, 'study-d-sc-burned-in.dcm'), join(d.inbox, 'b.dcm'));
    await waitFor(() => settledCount(d).outbox === 1 && settledCount(d).quarantine === 1, 15_000, 'polling to settle both');
    await agent.stop();
  });

  it('ignores temporary and hidden names until they are renamed', async () => {
    const d = writeProjectConfig(join(root, 'tmpnames'));
    const agent = await startAgent(d);
    for (const name of ['x.dcm.part', 'y.tmp', '~$z.dcm', '.hidden.dcm', 'download.crdownload']) copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(d.inbox, name));
    await new Promise((r) => setTimeout(r, 1500));
    expect(settledCount(d)).toMatchObject({ outbox: 0, inbox: 5, work: 0 });
    renameSync(join(d.inbox, 'x.dcm.part'), join(d.inbox, 'x.dcm'));
    await waitFor(() => settledCount(d).outbox === 1, 10_000, 'the renamed file');
    await agent.stop();
  });

  it('processes files that arrived while it was down, and settles a burst of 2,000 files with bounded memory', async () => {
    // CT to the header rules: what is measured is the burst's cost (claims, queue, files in flight),
    // not the OCR's fixed ~160 MiB of runtime and models, which the default 'series' policy loads
    // for the series' first image (that is measured by `npm run bench -- --only pixels`).
    const d = writeProjectConfig(join(root, 'burst'), { concurrency: 2, pixels: { inspect: { CT: 'header' } } });
    writeInstances(join(d.inbox, 'early'), 50);
    const agent = await startAgent(d);
    writeInstances(join(d.inbox, 'burst'), 1950, 20_000);
    await waitFor(() => settledCount(d).outbox === 2000, 240_000, '2,000 outputs');
    const peak = agent.peakRssMiB();
    expect(await agent.stop()).toMatchObject({ code: 0 });
    expect(settledCount(d)).toMatchObject({ quarantine: 0, failed: 0, work: 0 });
    // The whole agent (Node, chokidar, 2,000 claims) stays far below what holding the files would need.
    expect(peak).toBeLessThan(300);
  });

  it('loses and duplicates nothing when killed (SIGKILL) mid-burst, and keeps pseudonyms across the restart', async () => {
    const d = writeProjectConfig(join(root, 'kill'), { concurrency: 2 });
    const first = await startAgent(d);
    writeInstances(join(d.inbox, 'x'), 600);
    await waitFor(() => settledCount(d).outbox >= 100, 60_000, 'some outputs');
    await first.stop('SIGKILL');
    const midway = settledCount(d);
    expect(midway.outbox).toBeLessThan(600);
    const second = await startAgent(d);
    await waitFor(() => {
      const c = settledCount(d);
      return c.outbox === 600 && c.work === 0 && c.inbox === 0;
    }, 120_000, 'all 600 after the restart');
    expect(await second.stop()).toMatchObject({ code: 0 });
    const c = settledCount(d);
    expect(c).toMatchObject({ outbox: 600, quarantine: 0, failed: 0 });
    // One patient: one pseudonym, and no temporary files left anywhere.
    const names = filesUnder(d.outbox).map((f) => f.slice(d.outbox.length + 1));
    expect(new Set(names.map((n) => n.split('/')[0]))).toEqual(new Set(['HOLD_001']));
    expect(names.every((n) => n.endsWith('.dcm') && !basename(n).startsWith('.'))).toBe(true);
    const store = JSON.parse(readFileSync(d.store, 'utf8')) as { projects: { HOLD: { patients: Record<string, unknown>; nextIndex: number } } };
    expect(Object.keys(store.projects.HOLD.patients)).toHaveLength(1);
    expect(store.projects.HOLD.nextIndex).toBe(2);
  });

  it('exits 0 within seconds on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const d = writeProjectConfig(join(root, `sig-${signal}`));
      const agent = await startAgent(d);
      const t0 = Date.now();
      expect(await agent.stop(signal)).toMatchObject({ code: 0 });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(agent.log()).toContain('"stopped"');
      expect(existsSync(`${d.store}.lock`)).toBe(false);
    }
  });

  it('refuses to start on a corrupt store and names the problem', async () => {
    const d = writeProjectConfig(join(root, 'corrupt'));
    writeFileSync(d.store, '{"formatVersion":1,"projects":{"HOLD":');
    const agent = new AgentProcess(d);
    agents.push(agent);
    const { code } = await agent.exit();
    expect(code).toBe(3);
    expect(agent.log()).toContain('corrupt');
    expect(readFileSync(d.store, 'utf8')).toBe('{"formatVersion":1,"projects":{"HOLD":');
  });

  it('refuses a bad config naming the key', async () => {
    const d = writeProjectConfig(join(root, 'badcfg'), { prefix: 'no spaces' });
    const agent = new AgentProcess(d);
    agents.push(agent);
    expect((await agent.exit()).code).toBe(2);
    expect(agent.log()).toContain('projects.0.prefix');
  });

  it('retries a claim that failed instead of forgetting the file', async () => {
    const d = writeProjectConfig(join(root, 'claimfault'));
    const agent = await startAgent(d);
    // The work area is taken away (a file in its place): every claim fails until it is back.
    rmSync(d.work, { recursive: true, force: true });
    writeFileSync(d.work, 'not a folder');
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(d.inbox, 'ct.dcm'));
    await waitFor(() => agent.log().includes('cannot claim'), 15_000, 'a failed claim');
    rmSync(d.work);
    mkdirSync(d.work, { mode: 0o700 });
    await waitFor(() => settledCount(d).outbox === 1, 20_000, 'the file to be claimed and delivered after all');
    expect(settledCount(d).inbox).toBe(0);
  });

  it('refuses to start when a work area is on another file system than its inbox', async () => {
    // /dev/shm is a tmpfs: another file system than the test folder (checked, so this cannot pass vacuously).
    expect(statSync('/dev/shm').dev).not.toBe(statSync(root).dev);
    const d = writeProjectConfig(join(root, 'otherfs'), { work: mkdtempSync(join('/dev/shm', 'deid-work-')) });
    const agent = new AgentProcess(d);
    agents.push(agent);
    expect((await agent.exit()).code).toBe(2);
    expect(agent.log()).toMatch(/another file system than the inbox/);
  });

  it('refuses zip-slip archives, archives with links, and symbolic links in the inbox', async () => {
    const d = writeProjectConfig(join(root, 'hostile'));
    const outside = join(root, 'hostile', 'outside-target.dcm');
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), outside);
    const agent = await startAgent(d);
    zipWith(join(root, 'slip.zip'), [['ok.dcm', join(SAMPLES, 'study-a-ct-1.dcm')], ['../../evil.dcm', join(SAMPLES, 'study-a-ct-1.dcm')]]);
    zipWith(join(root, 'abs.zip'), [['/tmp/evil-abs.dcm', join(SAMPLES, 'study-a-ct-1.dcm')]]);
    zipWith(join(root, 'link.zip'), [['ok.dcm', join(SAMPLES, 'study-a-ct-1.dcm')]],
      "i = zipfile.ZipInfo('link.dcm'); i.create_system = 3; i.external_attr = 0o120777 << 16; z.writestr(i, '/etc/passwd')");
    for (const z of ['slip.zip', 'abs.zip', 'link.zip']) copyFileSync(join(root, z), join(d.inbox, z));
    symlinkSync(outside, join(d.inbox, 'Doe_Jane_link.dcm'));
    await waitFor(() => settledCount(d).failed === 4 && settledCount(d).work === 0, 20_000, 'four refusals');
    const reasons = filesUnder(d.failed).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { reason: string }).reason).sort();
    expect(reasons.filter((r) => r.includes('escapes the archive'))).toHaveLength(2);
    expect(reasons.filter((r) => r.includes('symbolic link'))).toHaveLength(2);
    expect(settledCount(d).outbox).toBe(0); // nothing of a refused archive is delivered
    expect(existsSync(join(root, 'evil.dcm')) || existsSync('/tmp/evil-abs.dcm')).toBe(false);
    expect(readFileSync(outside).equals(readFileSync(join(SAMPLES, 'study-a-ct-1.dcm')))).toBe(true); // the link's target untouched
    await agent.stop();
  });
});
