import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expandZip, ZipRefused } from '../../src/sources/zip-archive.js';
import { filesUnder, settledCount, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES } from '../helpers/corpus.js';
import { CLI } from '../helpers/tools.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function zipOf(path: string, files: readonly string[]): void {
  execFileSync('/usr/bin/python3', ['-c', `import zipfile, sys
z = zipfile.ZipFile(sys.argv[1], 'w')
for i, f in enumerate(sys.argv[2:]):
    z.write(f, 'study/%d.dcm' % i)
z.close()`, path, ...files]);
}

const SOURCES = ['CT_small.dcm', 'MR_small.dcm', 'JPEG2000.dcm'].map((f) => join(PYDICOM_TEST_FILES, f));
const hasStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
const isRoot = process.getuid?.() === 0;

describe('zip expansion', () => {
  it.skipIf(!hasStrace)('fsyncs every entry, the staging folder and the completion marker before the archive is deleted (traced)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-zipsync-'));
    const dirs = writeProjectConfig(join(root, 'p'));
    const trace = join(root, 'trace.txt');
    // The real agent under strace: every fsync and unlink, with the paths of their descriptors.
    const agent = spawn('strace', ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync,unlink,unlinkat,rename,renameat,renameat2', '-o', trace, process.execPath, CLI, 'start', '--config', dirs.config], { stdio: ['ignore', openSync(dirs.log, 'a'), openSync(dirs.log, 'a')] });
    // The agent is strace's child: stopped by its parent's PID, then strace itself.
    const stop = async (): Promise<void> => {
      spawnSync('pkill', ['-TERM', '-P', String(agent.pid)]);
      await new Promise((r) => setTimeout(r, 500));
      if (agent.exitCode === null) agent.kill('SIGKILL');
    };
    cleanup.push(stop);
    await waitFor(() => existsSync(dirs.log) && readFileSync(dirs.log, 'utf8').includes('agent started'), 60_000, 'the agent to start under strace');
    mkdirSync(join(root, 'staging'));
    zipOf(join(root, 'staging', 'drop.zip'), SOURCES);
    renameSync(join(root, 'staging', 'drop.zip'), join(dirs.inbox, 'drop.zip'));
    await waitFor(() => { const c = settledCount(dirs); return c.outbox + c.quarantine === SOURCES.length; }, 60_000, 'the archive\'s entries to settle');
    await new Promise((r) => setTimeout(r, 300)); // strace writes a line as a call returns

    const lines = readFileSync(trace, 'utf8').split('\n');
    // The archive's claim is deleted by unlink of a work-area file whose staging folder is `<claim>.x`.
    const stagingSync = lines.findIndex((l) => /fsync\(\d+<[^>]*\/work\/[^/>]+\.x>/.test(l));
    expect(stagingSync, 'the staging folder fsynced').toBeGreaterThan(-1);
    const claim = /<([^>]*\/work\/[^/>]+)\.x>/.exec(lines[stagingSync] ?? '')?.[1] as string;
    const archiveDeleted = lines.findIndex((l) => /unlink(at)?\(/.test(l) && l.includes(`"${claim}"`));
    expect(archiveDeleted, 'the archive deleted').toBeGreaterThan(stagingSync);
    const entrySyncs = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes(`${claim}.x/0000000`) && /fsync\(/.test(l));
    expect(entrySyncs).toHaveLength(SOURCES.length);
    for (const [, i] of entrySyncs) expect(i).toBeLessThan(archiveDeleted);
    // The marker is written atomically (temporary, fsync, rename) before the archive goes.
    const marker = lines.findIndex((l) => /rename/.test(l) && l.includes(`${claim}.x/.complete"`));
    expect(marker).toBeGreaterThan(-1);
    expect(marker).toBeLessThan(archiveDeleted);
    expect(filesUnder(dirs.failed)).toEqual([]);
  }, 90_000);

  it.skipIf(!isRoot)('gives a full disk back as the system error (the archive waits), not as a refused archive, and leaves no staging', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-zipfull-'));
    const zip = join(root, 'drop.zip');
    zipOf(zip, SOURCES);
    const full = join(root, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]);
    cleanup.push(() => spawnSync('umount', ['-l', full]));
    mkdirSync(join(full, 'staging'));
    spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4k'], { stdio: 'ignore' }); // stops at ENOSPC
    const error = await expandZip(zip, join(full, 'staging')).then(() => undefined, (e: unknown) => e as NodeJS.ErrnoException);
    expect(error).toBeDefined();
    expect(error).not.toBeInstanceOf(ZipRefused);
    expect(error?.code).toBe('ENOSPC');
    expect(existsSync(join(full, 'staging'))).toBe(false);
  });
});
