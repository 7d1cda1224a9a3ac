import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import dimse from 'dcmjs-dimse';
import type { DimseMessageChannel } from 'dcmjs-dimse';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/corpus.js';
import { StoreScp, freePort } from '../helpers/dicom-peers.js';
import { events, runAssociation } from '../../src/net/dimse-association.js';

/**
 * patches/dcmjs-dimse+<version>.patch (applied by patch-package at `npm ci`) adds the
 * `dimseMessageSender` option of `Client#send` that our streaming C-STORE sends through, the
 * `storeStreams` option a C-GET receives through, and the client's reaction to a peer's A-ABORT. A patch is
 * made against one version's minified bundle: these fail as soon as the installed dcmjs-dimse is
 * another, or the option is not wired, before a forward sends whole data sets from memory.
 */

dimse.log.setLevel('silent');

const PATCHED_FOR = '0.3.3';
const require = createRequire(import.meta.url);
const installedRoot = dirname(require.resolve('dcmjs-dimse/package.json'));
const installed = JSON.parse(readFileSync(join(installedRoot, 'package.json'), 'utf8')) as { version: string };
const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };

describe('the dcmjs-dimse patch', () => {
  it('is made for the installed version, pinned exactly, and applied at install', () => {
    expect(installed.version).toBe(PATCHED_FOR);
    expect(ours.dependencies['dcmjs-dimse']).toBe(PATCHED_FOR);
    expect(readdirSync(join(REPO, 'patches')).filter((f) => f.endsWith('.patch'))).toEqual([`dcmjs-dimse+${PATCHED_FOR}.patch`]);
    expect(ours.dependencies['patch-package']).toBeDefined();
    expect(ours.scripts['postinstall']).toMatch(/^patch-package --error-on-fail\b/);
  });

  it('is in the installed bundle', () => {
    const bundle = readFileSync(join(installedRoot, 'build', 'dcmjs-dimse.min.js'), 'utf8');
    expect(bundle).toContain('this.dimseMessageSender=t.dimseMessageSender');
    expect(bundle).toContain('_sendPDataTF(e,t,s,libraryOnly){if(!libraryOnly&&"function"==typeof this.dimseMessageSender');
    // C-GET's stores go to our files (test/sources/pacs-retrieval.test.ts receives through it).
    expect(bundle).toContain('(this.createStoreWritableStream=t.storeStreams.createStoreWritableStream,');
    // A peer's A-ABORT ends the client's association at once (test/sinks/streaming-forward.test.ts meets one).
    expect(bundle).toContain('p.on("abort",e=>{this.emit("associationAborted",e),l.end()})');
  });

  describe('against dcmtk storescp', () => {
    const cleanup: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    it('asks the sender for each DIMSE message, with its context, the peer\'s PDU size and the channel; the library sends it when asked', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'deid-dimse-patch-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const port = await freePort();
      const scp = new StoreScp(port, join(dir, 'received'));
      cleanup.push(() => scp.stop());
      await scp.ready();

      const client = new dimse.Client();
      const echo = new dimse.requests.CEchoRequest();
      let status: number | undefined;
      events(echo).on('response', (r: { getStatus(): number }) => {
        status = r.getStatus();
      });
      client.addRequest(echo);
      const calls: Array<{ command: unknown; pcId: number; maxPdu: number; channel: DimseMessageChannel }> = [];
      const outcome = await runAssociation(client, { host: '127.0.0.1', port, callingAET: 'DEIDAGENT', calledAET: 'DEST' }, {
        connectTimeout: 10_000,
        dimseMessageSender: (command, pcId, maxPdu, channel) => {
          calls.push({ command, pcId, maxPdu, channel });
          channel.sendWithLibrary();
          return true;
        },
      } satisfies NonNullable<Parameters<dimse.Client['send']>[4]>);

      expect(outcome).toEqual({ accepted: true, released: true, failure: undefined });
      expect(status).toBe(0);
      expect(calls).toHaveLength(1);
      const [call] = calls;
      expect(call?.command).toBe(echo);
      expect(call?.pcId).toBe(1);
      expect(call?.maxPdu).toBeGreaterThan(0); // storescp's maximum (16 KiB by default)
      expect(typeof call?.channel.socket.write).toBe('function');
      for (const m of ['refresh', 'abort', 'fail', 'sendWithLibrary'] as const) expect(typeof call?.channel[m]).toBe('function');
    });

    it('a sender that declines leaves the message to the library', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'deid-dimse-patch-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const port = await freePort();
      const scp = new StoreScp(port, join(dir, 'received'));
      cleanup.push(() => scp.stop());
      await scp.ready();

      const client = new dimse.Client();
      const echo = new dimse.requests.CEchoRequest();
      let status: number | undefined;
      events(echo).on('response', (r: { getStatus(): number }) => {
        status = r.getStatus();
      });
      client.addRequest(echo);
      let asked = 0;
      const outcome = await runAssociation(client, { host: '127.0.0.1', port, callingAET: 'DEIDAGENT', calledAET: 'DEST' }, {
        dimseMessageSender: () => {
          asked += 1;
          return false;
        },
      });
      expect(outcome.released).toBe(true);
      expect(asked).toBe(1);
      expect(status).toBe(0);
    });
  });
});
