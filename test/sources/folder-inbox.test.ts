// A mounted share as the inbox: what the folder inbox does beyond the source contract
// (test/sources/source-contract.test.ts), where a share differs from a cloud service: files
// visible while still being written, links, a share that is away, acks after a restart; and the
// agent taking a study from a share end to end.
import { appendFileSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError, type RemoteFile, type RemoteInbox } from '../../src/cloud/remote-folder.js';
import { copyRange } from '../../src/fs/file-io.js';
import { createFolderInbox } from '../../src/sources/folder-inbox.js';
import { makeShare } from '../helpers/share.js';
import { configSchema } from '../../src/config/schema.js';
import { AgentProcess, filesUnder, waitFor, writeProjectConfig } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { dcmdump } from '../helpers/tools.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const all = async (it: AsyncIterable<RemoteFile>): Promise<RemoteFile[]> => {
  const out: RemoteFile[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const PHI = 'DOE^JANE_MRN12345';
/** A share: a folder with the share marker. */
const share = (): string => makeShare(mkdtempSync(join(tmpdir(), 'deid-folder-inbox-')));

describe('folder inbox', () => {
  it('lists a file only once it has stayed the same for stabilityMs', async () => {
    const root = share();
    let clock = 1_000_000;
    const inbox = createFolderInbox(root, { ack: 'delete', stabilityMs: 10_000, now: () => clock });
    await inbox.prepare();
    writeFileSync(join(root, `${PHI}.dcm`), 'part one');
    expect(await all(inbox.list())).toEqual([]); // first seen
    clock += 9_000;
    appendFileSync(join(root, `${PHI}.dcm`), ', part two'); // still being written
    expect(await all(inbox.list())).toEqual([]);
    clock += 9_000;
    expect(await all(inbox.list())).toEqual([]); // 9 s unchanged: not yet
    clock += 1_000;
    // The change feed says a held-back file is ripe, without anything else changing.
    const { cursor } = await inbox.changes(undefined, 0);
    expect((await inbox.changes(cursor, 0)).changed).toBe(true);
    expect((await all(inbox.list())).map((f) => f.size)).toEqual([18]);
  });

  it('never follows a link or takes a special file, a dot file or a partial download', async () => {
    const root = share();
    const outside = join(share(), 'secret.dcm');
    writeFileSync(outside, 'not in the share');
    symlinkSync(outside, join(root, 'link.dcm'));
    mkdirSync(join(root, 'study'));
    symlinkSync(join(outside, '..'), join(root, 'study', 'linked-folder'));
    writeFileSync(join(root, '.hidden.dcm'), 'x');
    writeFileSync(join(root, 'upload.dcm.part'), 'x');
    writeFileSync(join(root, 'study', 'real.dcm'), 'a real input');
    const inbox = createFolderInbox(root, { ack: 'delete', stabilityMs: 0 });
    await inbox.prepare();
    expect((await all(inbox.list())).map((f) => f.name)).toEqual(['real.dcm']);
  });

  it('refuses a copy of a file written to while it was copied, as retryable, naming no file', async () => {
    const root = share();
    writeFileSync(join(root, `${PHI}.dcm`), Buffer.alloc(100_000, 1));
    let appendDuringCopy = true;
    const inbox = createFolderInbox(root, {
      ack: 'delete', stabilityMs: 0,
      copy: async (source: FileHandle, out: FileHandle, size: number) => {
        await copyRange(source, out, 0, size);
        // A writer that still held the file open appends after our claim.
        if (appendDuringCopy) appendFileSync(join(root, '.deid-processing', readdirSync(join(root, '.deid-processing'))[0] as string), 'more');
        appendDuringCopy = false;
      },
    });
    await inbox.prepare();
    const [file] = await all(inbox.list());
    const claimed = (await inbox.claim(file as RemoteFile)) as RemoteFile;
    const to = join(share(), 'copy.part');
    const e = await inbox.download(claimed, to).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteError);
    expect((e as RemoteError).retryable).toBe(true);
    expect(String(e)).not.toContain('DOE');
    // The file as it is now, from a fresh look at the processing folder (as the next round does).
    const [again] = await all(inbox.claimed());
    await inbox.download(again as RemoteFile, to);
    expect(readFileSync(to).length).toBe(100_004);
  });

  it('answers retryable while the share is away, never creating it or anything in its mount point', async () => {
    const root = join(share(), 'mount-point');
    const inbox = createFolderInbox(root, { ack: 'delete' });
    const e = await inbox.prepare().then(() => undefined, (x: unknown) => x);
    expect((e as RemoteError).retryable).toBe(true);
    expect(existsSync(root)).toBe(false);
    // The empty mount point of a share that is not mounted: no marker, so nothing made or taken.
    mkdirSync(root);
    for (const call of [() => inbox.prepare(), () => all(inbox.list()), () => inbox.changes(undefined, 0), () => all(inbox.claimed())]) {
      const x = await call().then(() => undefined, (y: unknown) => y);
      expect((x as RemoteError).retryable).toBe(true);
      expect(String(x)).toContain('.deid-share');
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('does not claim through a folder that became a link since it was listed', async () => {
    const root = share();
    mkdirSync(join(root, 'study'));
    writeFileSync(join(root, 'study', `${PHI}.dcm`), 'x');
    const inbox = createFolderInbox(root, { ack: 'delete', stabilityMs: 0 });
    await inbox.prepare();
    const [file] = await all(inbox.list());
    // The folder moves out (same file, same inode) and a link to it takes its place.
    const outside = join(share(), 'moved-away');
    renameSync(join(root, 'study'), outside);
    symlinkSync(outside, join(root, 'study'));
    expect(await inbox.claim(file as RemoteFile)).toBeUndefined();
    expect(readdirSync(outside)).toEqual([`${PHI}.dcm`]);
  });

  it('refuses to claim into, or ack from, a processing folder replaced by a link', async () => {
    const root = share();
    writeFileSync(join(root, `${PHI}.dcm`), 'x');
    const inbox = createFolderInbox(root, { ack: 'delete', stabilityMs: 0 });
    await inbox.prepare();
    const [file] = await all(inbox.list());
    const elsewhere = mkdtempSync(join(tmpdir(), 'deid-elsewhere-'));
    rmSync(join(root, '.deid-processing'), { recursive: true });
    symlinkSync(elsewhere, join(root, '.deid-processing'));
    const e = await inbox.claim(file as RemoteFile).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteError);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(join(root, `${PHI}.dcm`))).toBe(true);
  });

  it('skips a hard-linked file and an unreadable folder, reporting codes only, and takes the rest', async () => {
    const root = share();
    for (const d of ['a', 'locked', 'b']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'a', 'one.dcm'), '1');
    writeFileSync(join(root, 'b', 'two.dcm'), '2');
    writeFileSync(join(root, 'b', `${PHI}.dcm`), '3');
    linkSync(join(root, 'b', `${PHI}.dcm`), join(root, 'a', 'same-content.dcm'));
    const reported: string[] = [];
    const inbox = createFolderInbox(root, {
      ack: 'delete', stabilityMs: 0, onUnreadable: (code) => reported.push(code),
      readdir: async (dir: string): Promise<Dirent[]> => {
        if (dir.endsWith('/locked')) throw Object.assign(new Error('EACCES: injected'), { code: 'EACCES' });
        return readdir(dir, { withFileTypes: true });
      },
    });
    await inbox.prepare();
    expect((await all(inbox.list())).map((f) => f.name).sort()).toEqual(['one.dcm', 'two.dcm']);
    expect(reported.sort()).toEqual(['EACCES', 'hard link', 'hard link']);
  });

  it('resumes a claim left by an earlier run only once it has stayed the same for stabilityMs', async () => {
    const root = share();
    writeFileSync(join(root, `${PHI}.dcm`), 'x');
    let clock = 1_000_000;
    const first = createFolderInbox(root, { ack: 'delete', stabilityMs: 0 });
    await first.prepare();
    const claimed = (await first.claim((await all(first.list()))[0] as RemoteFile)) as RemoteFile;
    const next = createFolderInbox(root, { ack: 'delete', stabilityMs: 10_000, now: () => clock });
    expect(await all(next.claimed())).toEqual([]);
    clock += 10_000;
    expect((await all(next.claimed())).map((f) => f.id)).toEqual([claimed.id]);
  });

  for (const ack of ['delete', 'archive'] as const) {
    it(`acks by id alone after a restart (${ack})`, async () => {
      const root = share();
      writeFileSync(join(root, `${PHI}.zip`), 'a zip');
      const first = createFolderInbox(root, { ack, stabilityMs: 0 });
      await first.prepare();
      const claimed = (await first.claim((await all(first.list()))[0] as RemoteFile)) as RemoteFile;
      expect(claimed.name).toMatch(/^[0-9a-f]+-[0-9a-f]+\.zip$/);
      // The next run knows only the id (its ack marker).
      const next: RemoteInbox = createFolderInbox(root, { ack, stabilityMs: 0 });
      await next.prepare();
      await next.ack({ id: claimed.id, name: '', size: 0 });
      await next.ack({ id: claimed.id, name: '', size: 0 }); // again: fine
      expect(readdirSync(join(root, '.deid-processing'))).toEqual([]);
      if (ack === 'archive') expect(readdirSync(join(root, '.deid-archive'))).toEqual([claimed.name]);
      else expect(existsSync(join(root, '.deid-archive'))).toBe(false);
    });
  }

  it('is refused in a config where the share overlaps another folder, or another share', () => {
    const project = (name: string, inbox: unknown, outbox: unknown) => ({ name, prefix: `${name}_`, inbox, outbox, quarantine: `/srv/${name}/q`, failed: `/srv/${name}/f` });
    const parse = (...projects: unknown[]) => configSchema.safeParse({ store: '/srv/s.json', projects });
    expect(parse(project('A', { folder: { path: '/mnt/in' } }, '/srv/A/out')).success).toBe(true);
    expect(JSON.stringify(parse(project('A', { folder: { path: '/srv/A' } }, '/srv/A/out')).error?.issues)).toContain('contains projects.0.quarantine');
    expect(parse(project('A', { folder: { path: '/mnt/in' } }, { folder: { path: '/mnt/in/out' } })).success).toBe(false);
    expect(parse(project('A', { folder: { path: '/mnt/in' } }, '/srv/A/out'), project('B', { folder: { path: '/mnt/in' } }, '/srv/B/out')).success).toBe(false);
    const withStore = configSchema.safeParse({ store: '/mnt/in/store.json', projects: [project('A', { folder: { path: '/mnt/in' } }, '/srv/A/out')] });
    expect(JSON.stringify(withStore.error?.issues)).toContain('contains the store');
  });
});

describe('folder inbox in the agent (a real process)', () => {
  it('takes a study folder from the share, settles each input once, and empties the share only after', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-folder-inbox-e2e-'));
    const mount = makeShare(join(root, 'share'));
    const dirs = writeProjectConfig(root, { inbox: { folder: { path: mount, stabilityMs: 300, changeIntervalMs: 200, pollIntervalMs: 1000 } } });
    const agent = new AgentProcess(dirs);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.started();
    const study = join(mount, 'Doe^Jane MRN12345', 'CT');
    mkdirSync(study, { recursive: true });
    for (const f of ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-d-sc-burned-in.dcm', 'not-dicom.txt']) copyFileSync(join(SAMPLES, f), join(study, f));
    await waitFor(() => filesUnder(dirs.outbox).length === 3 && filesUnder(dirs.failed).filter((f) => f.endsWith('.json')).length === 1
      && filesUnder(dirs.quarantine).filter((f) => f.endsWith('.json')).length === 1, 60_000, 'every input settled');
    await waitFor(() => filesUnder(mount).length === 1 && readdirSync(join(mount, '.deid-processing')).length === 0, 30_000, 'the share to empty');
    for (const out of filesUnder(dirs.outbox)) expect(dcmdump(out)).toMatch(/\(0010,0010\) PN \[HOLD_00\d\]/);
    expect((await agent.stop()).code).toBe(0);
    for (const phi of ['Doe', 'MRN12345', 'study-a', 'not-dicom.txt']) expect(agent.log(), phi).not.toContain(phi);
  });
});
