// A mounted share as the outbox: what the folder outbox does at its edges (a share that is away, a
// path taken by a folder, replace, hostile paths), and the agent delivering through its ledger
// while the share goes away and comes back. The sink contract (test/sinks/sink-contract.test.ts)
// runs against it too.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFolderOutbox } from '../../src/sinks/folder-outbox.js';
import { SHARE_MARKER } from '../../src/fs/share-folder.js';
import { makeShare } from '../helpers/share.js';
import { sha1Of } from '../../src/sinks/cloud-outbox-sink.js';
import { configSchema } from '../../src/config/schema.js';
import { AgentProcess, filesUnder, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { dcmdump, runCli } from '../helpers/tools.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const fresh = (): { root: string; share: string; file: string } => {
  const root = mkdtempSync(join(tmpdir(), 'deid-folder-outbox-'));
  const share = makeShare(join(root, 'share'));
  const file = join(root, 'x.dcm');
  writeFileSync(file, Buffer.alloc(5000, 7));
  return { root, share, file };
};
const PATH = 'P_001/1.2.3/1.2.3.4/1.2.3.4.5.dcm';
/** Files on the share other than its marker. */
/** Published outputs: not the share's marker, and not a publish in progress (the sink writes `.<name>.<hex>.tmp` beside its target, then links it). */
const outputsIn = (share: string): string[] => filesUnder(share).filter((f) => !f.endsWith(`/${SHARE_MARKER}`) && !basename(f).startsWith('.'));

describe('folder outbox', () => {
  it('answers retry while the share is away, and never creates its root (an empty mount point is the local disk)', async () => {
    const { root, file } = fresh();
    const away = join(root, 'not-mounted');
    const r = await createFolderOutbox(away).put(PATH, file, await sha1Of(file));
    expect(r.kind).toBe('retry');
    expect(existsSync(away)).toBe(false);
    // A file where the folder should be: also not there.
    writeFileSync(away, 'x');
    expect((await createFolderOutbox(away).put(PATH, file, await sha1Of(file))).kind).toBe('retry');
    // The mount point of a share that is not mounted: a folder, but without the share's marker.
    const mountPoint = join(root, 'mount-point');
    mkdirSync(mountPoint);
    const r2 = await createFolderOutbox(mountPoint).put(PATH, file, await sha1Of(file));
    expect(r2.kind).toBe('retry');
    expect(r2.kind === 'retry' ? r2.reason : '').toContain('.deid-share');
    expect(readdirSync(mountPoint)).toEqual([]);
  });

  it('never writes through a link on the way to a target (someone with write access to the share put it there)', async () => {
    const { root, share, file } = fresh();
    const elsewhere = join(root, 'another-projects-inbox');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(share, 'P_001'));
    const r = await createFolderOutbox(share, { onConflict: 'replace' }).put(PATH, file, await sha1Of(file));
    expect(r.kind).toBe('failed');
    expect(readdirSync(elsewhere)).toEqual([]);
    // Deeper too: a series folder that links out.
    const study = join(share, 'P_002', '1.2.3');
    mkdirSync(study, { recursive: true });
    symlinkSync(elsewhere, join(study, '1.2.3.4'));
    expect((await createFolderOutbox(share).put('P_002/1.2.3/1.2.3.4/5.dcm', file, await sha1Of(file))).kind).toBe('failed');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('stores under the layout, once; a folder at the target path fails it without writing through', async () => {
    const { share, file } = fresh();
    const outbox = createFolderOutbox(share);
    expect(await outbox.put(PATH, file, await sha1Of(file))).toEqual({ kind: 'stored' });
    expect(await outbox.put(PATH, file, await sha1Of(file))).toEqual({ kind: 'stored' });
    expect(readFileSync(join(share, ...PATH.split('/'))).equals(readFileSync(file))).toBe(true);
    mkdirSync(join(share, 'P_001/1.2.3/1.2.3.4/9.9.dcm'), { recursive: true });
    const r = await outbox.put('P_001/1.2.3/1.2.3.4/9.9.dcm', file, await sha1Of(file));
    expect(r.kind).toBe('failed');
    expect(outputsIn(share)).toHaveLength(1);
  });

  it('replaces a different file with onConflict "replace", atomically', async () => {
    const { share, file } = fresh();
    const target = join(share, ...PATH.split('/'));
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileSync(target, 'an older, different file');
    expect((await createFolderOutbox(share).put(PATH, file, await sha1Of(file))).kind).toBe('failed');
    expect(readFileSync(target, 'utf8')).toBe('an older, different file');
    expect(await createFolderOutbox(share, { onConflict: 'replace' }).put(PATH, file, await sha1Of(file))).toEqual({ kind: 'stored' });
    expect(readFileSync(target).equals(readFileSync(file))).toBe(true);
    expect(outputsIn(share)).toHaveLength(1);
  });

  it('refuses paths that would leave the share or hide in it', async () => {
    const { root, share, file } = fresh();
    for (const bad of ['../escape.dcm', 'P/../../escape.dcm', '.hidden/x.dcm', 'P//x.dcm', '', 'P/./x.dcm']) {
      expect((await createFolderOutbox(share).put(bad, file, await sha1Of(file))).kind, bad).toBe('failed');
    }
    expect(filesUnder(root).map((f) => f.slice(root.length)).sort()).toEqual([`/share/${SHARE_MARKER}`, '/x.dcm']);
  });

  it('is refused in a config where the share holds, or is inside, a quarantine, an inbox or another project\'s folders', () => {
    const base = { store: '/srv/s.json', projects: [{ name: 'A', prefix: 'A_', inbox: '/srv/a/in', quarantine: '/srv/a/q', failed: '/srv/a/f', outbox: { folder: { path: '/srv/a' } } }] };
    const r = configSchema.safeParse(base);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('contains projects.0.inbox');
    expect(configSchema.safeParse({ ...base, projects: [{ ...base.projects[0], outbox: { folder: { path: '/mnt/share/A' } } }] }).success).toBe(true);
    expect(configSchema.safeParse({ ...base, projects: [{ ...base.projects[0], outbox: { folder: { path: 'relative/share' } } }] }).success).toBe(false);
  });
});

describe('folder outbox in the agent (a real process)', () => {
  it('delivers de-identified outputs to the share; while the share is away they wait in the ledger, and go when it is back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-folder-e2e-'));
    const share = makeShare(join(root, 'share'));
    const dirs = writeProjectConfig(root, { outbox: { folder: { path: share } } });
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    mkdirSync(dirs.inbox, { recursive: true });
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(dirs.inbox, 'a1.dcm'));
    await waitFor(() => outputsIn(share).length === 1, 60_000, 'the first output on the share');
    expect(dcmdump(outputsIn(share)[0] as string)).toMatch(/\(0010,0010\) PN \[HOLD_00\d\]/);

    // The share goes away (unmounted: its mount point gone); two more inputs settle meanwhile.
    renameSync(share, `${share}.away`);
    copyFileSync(join(SAMPLES, 'study-a-ct-2-implicit.dcm'), join(dirs.inbox, 'a2.dcm'));
    copyFileSync(join(SAMPLES, 'study-a-ct-3-bigendian.dcm'), join(dirs.inbox, 'a3.dcm'));
    type Upload = { forwarded: number; pending: number; failed: number; lastError?: string };
    const status = (): { upload?: Upload } => (JSON.parse(runCli(['status', '--config', dirs.config, '--json']).stdout) as Array<{ upload?: Upload }>)[0] ?? {};
    // Queued, and tried while the share is away: the destination's last error says so.
    await waitFor(() => { const u = status().upload; return u?.pending === 2 && /is it mounted/.test(u.lastError ?? ''); }, 60_000, 'two outputs waiting in the ledger after a refused try');
    expect(existsSync(share)).toBe(false); // never recreated
    expect(filesUnder(dirs.inbox)).toEqual([]);

    renameSync(`${share}.away`, share);
    await waitFor(() => outputsIn(share).length === 3, 60_000, 'all three outputs on the share once it is back');
    await waitFor(() => status().upload?.forwarded === 3, 30_000, 'the ledger to count three delivered');
    expect(status().upload).toMatchObject({ forwarded: 3, pending: 0, failed: 0 });
    expect(outputsIn(share).filter((f) => f.split('/').pop()?.startsWith('.'))).toEqual([]);
    expect((await agent.stop()).code).toBe(0);
    for (const phi of ['Doe', 'MRN12345', 'a1.dcm']) expect(agent.log(), phi).not.toContain(phi);
  });
});
