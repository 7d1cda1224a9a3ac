// One contract for every cloud source (RemoteInbox): the same tests against each service's fake,
// through the real SDK. The lifecycle above it (claim, materialize, ack after settlement) is
// the agent's, tested end to end in test/cloud/cloud-e2e.test.ts.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError, type RemoteFile, type RemoteInbox } from '../../src/cloud/remote-folder.js';

export type SourceFault = 'retry-after' | 'unavailable' | 'expired-token' | 'drop';

export interface SourceHarness {
  /** A new RemoteInbox on the same folder: a second worker, or the next run after a crash. */
  inbox(): RemoteInbox;
  /** Drops a file into the inbox folder, at a '/'-separated path below it. */
  add(path: string, content: Buffer): Promise<void>;
  /** Files still in the inbox folder or the processing folder (not acked). */
  remaining(): Promise<number>;
  /** The next `times` requests of this kind fail so: 'list' (a listing), 'download' (content bytes). */
  inject(fault: SourceFault, on: 'list' | 'download', times: number): void;
  /** The faults `inject` can make (default: all of them); the others are skipped, and say so. */
  readonly faults?: readonly SourceFault[];
  close(): Promise<void>;
}

const all = async (it: AsyncIterable<RemoteFile>): Promise<RemoteFile[]> => {
  const out: RemoteFile[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const content = (n: number): Buffer => Buffer.from(Array.from({ length: 3000 + n }, (_, i) => (i * 7 + n) & 0xff));
/** A name full of PHI, as researchers name files: it must appear in no error. */
const PHI_NAME = 'DOE^JOHN_MRN12345.dcm';

export function sourceContract(name: string, harnessOf: () => Promise<SourceHarness>): void {
  describe(`Source contract: ${name}`, () => {
    let h: SourceHarness;
    const dir = mkdtempSync(join(tmpdir(), 'deid-source-contract-'));
    beforeAll(async () => { h = await harnessOf(); });
    afterAll(async () => { await h?.close(); });

    it('lists nested files but not its own folders, and a claimed file leaves the listing', async () => {
      await h.add('study/series/a.dcm', content(1));
      await h.add('b.dcm', content(2));
      const inbox = h.inbox();
      await inbox.prepare();
      await inbox.prepare(); // twice: no second set of folders
      const listed = await all(inbox.list());
      expect(listed.map((f) => f.name).sort()).toEqual(['a.dcm', 'b.dcm']);
      const claimed = await inbox.claim(listed.find((f) => f.name === 'b.dcm') as RemoteFile);
      expect(claimed?.id).toBeDefined();
      expect((await all(inbox.list())).map((f) => f.name)).toEqual(['a.dcm']);
      expect((await all(inbox.claimed())).map((f) => f.id)).toContain(claimed?.id);
    });

    it('lets one of two workers claim a file, never both', async () => {
      await h.add(`race/${PHI_NAME}`, content(3));
      const [x, y] = [h.inbox(), h.inbox()];
      await Promise.all([x.prepare(), y.prepare()]);
      const file = (await all(x.list())).find((f) => f.name === PHI_NAME) as RemoteFile;
      const won = (await Promise.all([x.claim(file), y.claim(file)])).filter((c) => c !== undefined);
      expect(won).toHaveLength(1);
    });

    it('after a crash between claim and ack, the next run finds the claim, downloads it exactly and acks it', async () => {
      const before = await h.remaining();
      await h.add('crash/c.dcm', content(4));
      const first = h.inbox();
      await first.prepare();
      const file = (await all(first.list())).find((f) => f.name === 'c.dcm') as RemoteFile;
      expect(await first.claim(file)).toBeDefined();
      // The first run dies here. The next one:
      const next = h.inbox();
      await next.prepare();
      const mine = (await all(next.claimed())).find((f) => f.id === file.id) as RemoteFile;
      expect(mine).toBeDefined();
      const to = join(dir, 'c.part');
      await next.download(mine, to);
      expect(readFileSync(to).equals(content(4))).toBe(true);
      await next.ack(mine);
      await next.ack(mine); // acked again (a crash after the ack): fine
      expect((await all(next.claimed())).map((f) => f.id)).not.toContain(file.id);
      expect(await h.remaining()).toBe(before);
    });

    for (const fault of ['retry-after', 'unavailable', 'expired-token', 'drop'] as const) {
      it(`lists and downloads through ${fault}, or says to retry, naming no file`, async (ctx) => {
        if (!(h.faults?.includes(fault) ?? true)) return ctx.skip();
        const n = 10 + fault.length;
        await h.add(`faults/${fault}/${PHI_NAME}`, content(n));
        const inbox = h.inbox();
        await inbox.prepare();
        h.inject(fault, 'list', 1);
        const file = (await all(inbox.list())).find((f) => f.name === PHI_NAME && f.size === content(n).length) as RemoteFile;
        expect(file).toBeDefined();
        const claimed = (await inbox.claim(file)) as RemoteFile;
        h.inject(fault, 'download', 1);
        const to = join(dir, `${fault}.part`);
        const first = await inbox.download(claimed, to).then(() => undefined, (e: unknown) => e);
        if (first !== undefined) {
          // Not retried inside: it must say it may be retried, and name no file.
          expect(first).toBeInstanceOf(RemoteError);
          expect((first as RemoteError).retryable).toBe(true);
          expect(`${String(first)} ${(first as Error).stack ?? ''}`).not.toContain('DOE^JOHN');
          await inbox.download(claimed, to);
        }
        expect(readFileSync(to).equals(content(n))).toBe(true);
        await inbox.ack(claimed);
      });
    }

    it('reports a change after a new file, and then none', async () => {
      const inbox = h.inbox();
      await inbox.prepare();
      const start = await inbox.changes(undefined, 1000);
      expect(start.changed).toBe(true);
      await h.add('later/new.dcm', content(30));
      let feed = await inbox.changes(start.cursor, 2000);
      for (let i = 0; i < 5 && !feed.changed; i++) feed = await inbox.changes(feed.cursor, 2000);
      expect(feed.changed).toBe(true);
      expect(feed.cursor).not.toBe(start.cursor);
    });
  });
}
