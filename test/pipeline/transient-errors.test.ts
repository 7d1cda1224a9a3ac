import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inThisThread } from '../../src/pipeline/instance-workers.js';
import { parseOptionNames } from '../../src/config/option-names.js';
import { processingSpec } from '../helpers/processing-spec.js';
import { AgentProcess, filesUnder, settledCount, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { runCli } from '../helpers/tools.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A real full file system: a 1 MiB tmpfs (needs root, as CI has), unmounted by the test. */
function fullFileSystem(at: string): { free: () => void } {
  mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at]);
  cleanup.push(() => spawnSync('umount', ['-l', at]));
  const filler = join(at, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' }); // stops at ENOSPC
  return { free: () => rmSync(filler) };
}
const canMount = process.getuid?.() === 0;

interface Status { deferred?: { count: number; code: string }; pending: number; failed: number; delivered: number }
const status = (config: string): Status | undefined => (JSON.parse(runCli(['status', '--config', config, '--json']).stdout) as Status[])[0];

describe('a transient error (a full outbox) meeting the agent', () => {
  it.skipIf(!canMount)('defers the files with backoff, shows it in status and the log, and delivers them all once space returns', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-enospc-'));
    const dirs = writeProjectConfig(join(root, 'p'), { outbox: join(root, 'full-outbox') });
    const disk = fullFileSystem(join(root, 'full-outbox'));
    const agent = new AgentProcess({ ...dirs, outbox: join(root, 'full-outbox') });
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    // Forty files of three patients: a full disk must not cost a retry and a warning per file.
    const names = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-b-mr-no-patient-id.dcm'];
    mkdirSync(join(root, 'drop'));
    for (let i = 0; i < 40; i++) copyFileSync(join(SAMPLES, names[i % 3] as string), join(root, 'drop', `${i}.dcm`));
    renameSync(join(root, 'drop'), join(dirs.inbox, 'drop'));

    await waitFor(() => (status(dirs.config)?.deferred?.count ?? 0) >= 1, 20_000, 'deferred files in status');
    expect(status(dirs.config)).toMatchObject({ deferred: { code: 'ENOSPC' }, failed: 0, pending: 40 });
    expect(agent.log()).toMatch(/"code":"ENOSPC".*"deferred; will retry"/);
    expect(runCli(['status', '--config', dirs.config]).stdout).toMatch(/HOLD: \d+ deferred since .* \(ENOSPC\)/);
    // Still deferred several retries later: never failed, never lost, and the project paused as a
    // whole (one warning per 10 s, not one per file and retry).
    await new Promise((r) => setTimeout(r, 4000));
    const outbox = join(root, 'full-outbox');
    expect(settledCount({ ...dirs, outbox })).toMatchObject({ failed: 0, quarantine: 0, outbox: 1 /* the filler */ });
    expect(settledCount({ ...dirs, outbox }).work + settledCount({ ...dirs, outbox }).inbox).toBe(40);
    expect((agent.log().match(/"level":40[^\n]*deferred; will retry/g) ?? []).length).toBeLessThanOrEqual(2);

    disk.free();
    // Three patients, one instance each repeated: three outputs (the rest replace them, same names).
    await waitFor(() => settledCount({ ...dirs, outbox }).work + settledCount({ ...dirs, outbox }).inbox === 0, 60_000, 'all forty settled once space returns');
    expect(settledCount({ ...dirs, outbox }).outbox).toBe(3);
    await waitFor(() => status(dirs.config)?.deferred === undefined, 10_000, 'the deferral to clear from status');
    expect(settledCount({ ...dirs, outbox })).toMatchObject({ failed: 0, work: 0, inbox: 0 });
    expect((await agent.stop()).code).toBe(0);
  }, 120_000);

  it('sends a socket and a FIFO dropped in the inbox to failed: they are not the moment\'s fault and are never opened', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-special-'));
    const dirs = writeProjectConfig(join(root, 'p'));
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    execFileSync('mkfifo', [join(dirs.inbox, 'pipe.dcm')]);
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(dirs.inbox, 'sock.dcm'), r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    await waitFor(() => settledCount(dirs).failed === 2, 20_000, 'both in failed');
    expect(agent.log()).not.toContain('deferred');
    expect(agent.log()).toContain('not a regular file');
    expect(settledCount(dirs)).toMatchObject({ work: 0, inbox: 0 });
    expect((await agent.stop()).code).toBe(0);
  });
});

describe('processing an instance when the outbox cannot be written', () => {
  it('throws a transient error naming only the code, and writes nothing', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'deid-notdir-'));
    // The temporaries folder's place taken by a file: every output write fails (EEXIST), deterministically.
    writeFileSync(join(outbox, '.deid-tmp'), '');
    const processor = inThisThread(processingSpec('T', outbox), { pseudonymFor: () => Promise.resolve('T_001') });
    const error = await processor.process(join(SAMPLES, 'study-a-ct-1.dcm')).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.name).toBe('TransientError');
    expect(error?.message).toMatch(/^cannot write the output \(E[A-Z]+\)$/);
  });
});

describe('an instance whose kept SOP Instance UID cannot be queued for forwarding', () => {
  it('goes to failed with the reason before any output is written (it would otherwise wait for ever)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-longuid-'));
    const input = join(root, 'long-uid.dcm');
    // A 70-character UID: invalid DICOM, kept as it is under retain-uids.
    execFileSync('/usr/bin/python3', ['-c', `import pydicom, sys
ds = pydicom.dcmread(sys.argv[1])
ds.SOPInstanceUID = '1.2.826.0.1.3680043.10.1137.' + '1234567890' * 4 + '12'
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.save_as(sys.argv[2], write_like_original=False)`, join(SAMPLES, 'study-a-ct-1.dcm'), input]);
    const outbox = join(root, 'outbox');
    const processor = inThisThread(processingSpec('L', outbox, { options: parseOptionNames(['retain-uids']) }, [join(outbox, '.deid-forward', 'L')]), { pseudonymFor: () => Promise.resolve('L_001') });
    const outcome = await processor.process(input);
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringContaining('not a valid UID') as unknown });
    expect(filesUnder(outbox).filter((f) => f.endsWith('.dcm'))).toEqual([]);
  });
});
