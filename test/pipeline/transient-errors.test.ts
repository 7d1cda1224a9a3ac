import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inThisThread } from '../../src/pipeline/instance-workers.js';
import { DEFAULT_BURNED_IN_RULES } from '../../src/detect/burned-in-rules.js';
import { AgentProcess, settledCount, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
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
    const names = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-b-mr-no-patient-id.dcm'];
    for (const f of names) copyFileSync(join(SAMPLES, f), join(dirs.inbox, f));

    await waitFor(() => status(dirs.config)?.deferred?.count === 3, 20_000, 'three deferred files in status');
    expect(status(dirs.config)).toMatchObject({ deferred: { count: 3, code: 'ENOSPC' }, failed: 0, pending: 3 });
    expect(agent.log()).toMatch(/"code":"ENOSPC".*"deferred; will retry"/);
    expect(runCli(['status', '--config', dirs.config]).stdout).toMatch(/HOLD: 3 deferred since .* \(ENOSPC\)/);
    // Still deferred a few retries later: never failed, never lost.
    await new Promise((r) => setTimeout(r, 2500));
    expect(settledCount({ ...dirs, outbox: join(root, 'full-outbox') })).toMatchObject({ failed: 0, quarantine: 0, work: 3, outbox: 1 /* the filler */ });

    disk.free();
    await waitFor(() => settledCount({ ...dirs, outbox: join(root, 'full-outbox') }).outbox === 3, 30_000, 'all three delivered once space returns');
    await waitFor(() => status(dirs.config)?.deferred === undefined, 10_000, 'the deferral to clear from status');
    expect(settledCount({ ...dirs, outbox: join(root, 'full-outbox') })).toMatchObject({ failed: 0, work: 0, inbox: 0 });
    expect((await agent.stop()).code).toBe(0);
  }, 90_000);
});

describe('processing an instance when the outbox cannot be written', () => {
  it('throws a transient error naming only the code, and writes nothing', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'deid-notdir-'));
    // The temporaries folder's place taken by a file: every output write fails (EEXIST), deterministically.
    writeFileSync(join(outbox, '.deid-tmp'), '');
    const processor = inThisThread({
      name: 'T', options: [], recipes: [], outbox, burnedInRules: DEFAULT_BURNED_IN_RULES,
      secrets: { dateShiftDays: -1, uidSecret: Buffer.alloc(32, 1) },
    }, { pseudonymFor: () => Promise.resolve('T_001') });
    const error = await processor.process(join(SAMPLES, 'study-a-ct-1.dcm')).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.name).toBe('TransientError');
    expect(error?.message).toMatch(/^cannot write the output \(E[A-Z]+\)$/);
  });
});
