import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, filesUnder, waitFor, type ProjectDirs } from '../helpers/agent-process.js';
import { PYDICOM_TEST_FILES, SAMPLES } from '../helpers/corpus.js';
import { freePort } from '../helpers/dicom-peers.js';
import { describe as pydescribe, type Description } from '../helpers/tools.js';

describe('the Storage SCP as an inbox (pushed to by dcmtk storescu)', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-scp-'));
  const project = (name: string, listen: Record<string, unknown>) => ({
    name, prefix: `${name}_`, inbox: join(root, name, 'inbox'), outbox: join(root, name, 'outbox'), quarantine: join(root, name, 'quarantine'),
    failed: join(root, name, 'failed'), work: join(root, name, 'work'), dateShiftDays: -7, listen,
  });
  let port: number;
  let agent: AgentProcess;

  beforeAll(async () => {
    port = await freePort();
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      store: join(root, 'store.json'), dicom: { aet: 'DEIDAGENT', port },
      projects: [project('A', { calledAET: 'PROJ_A' }), project('B', { callingAETs: ['MODALITY_B'] })],
    }));
    const dirs = { config, log: join(root, 'agent.log') } as ProjectDirs;
    agent = new AgentProcess(dirs);
    await agent.started();
  });

  afterAll(async () => {
    await agent.stop();
  });

  // -R: propose only the SOP classes the files need; -xw: offer JPEG 2000 as it is (no conversion).
  const storescu = (called: string, calling: string, ...files: string[]) =>
    spawnSync('storescu', ['-R', '-xw', '-aec', called, '-aet', calling, '127.0.0.1', String(port), ...files], { encoding: 'utf8' });

  it('answers C-ECHO', () => {
    const r = spawnSync('echoscu', ['-aec', 'DEIDAGENT', '-aet', 'ECHO', '127.0.0.1', String(port)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('routes by called AE title and by calling AE title, and the pushed files go through the pipeline', async () => {
    const a = storescu('PROJ_A', 'ANYONE', join(SAMPLES, 'study-a-ct-1.dcm'), join(PYDICOM_TEST_FILES, '693_J2KI.dcm'));
    expect(a.status, a.stderr).toBe(0);
    const b = storescu('DEIDAGENT', 'MODALITY_B', join(SAMPLES, 'study-b-mr-no-patient-id.dcm'), join(SAMPLES, 'study-c-us.dcm'));
    expect(b.status, b.stderr).toBe(0);
    await waitFor(() => filesUnder(join(root, 'A', 'outbox')).length === 2 && filesUnder(join(root, 'B', 'outbox')).length === 1
      && filesUnder(join(root, 'B', 'quarantine')).some((f) => f.endsWith('.json')), 20_000, 'pushed files to settle');
    const outputs = [...filesUnder(join(root, 'A', 'outbox')), ...filesUnder(join(root, 'B', 'outbox'))];
    const d = pydescribe(outputs);
    const names = outputs.map((o) => (d[o] as Description).elements.find(([p]) => p === '00100010')?.[2]).sort();
    expect(names).toEqual(['A_001', 'A_002', 'B_001']);
    // The compressed instance arrived and left in its own syntax.
    expect(outputs.map((o) => (d[o] as Description).transferSyntax)).toContain('1.2.840.10008.1.2.4.91');
  });

  it('rejects an association no project takes, and refuses storage from an unknown caller to its own AE title', () => {
    const r = storescu('NOBODY', 'STRANGER', join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Called AE Title Not Recognized|Association Rejected/i);
    const unknownCaller = storescu('DEIDAGENT', 'STRANGER', join(SAMPLES, 'study-a-ct-1.dcm'));
    expect(`${unknownCaller.stdout}${unknownCaller.stderr}`).toMatch(/no presentation context|No Acceptable Presentation Contexts|not supported/i);
    expect(filesUnder(join(root, 'B', 'outbox')).length + filesUnder(join(root, 'A', 'outbox')).length).toBe(3);
  });

  it('answers a C-STORE it cannot write with out-of-resources, keeps running, and takes the next one', async () => {
    const work = join(root, 'A', 'work');
    rmSync(work, { recursive: true, force: true }); // writing into it fails (ENOENT) until it is back
    const refused = spawnSync('storescu', ['-v', '-R', '-aec', 'PROJ_A', '-aet', 'ANYONE', '127.0.0.1', String(port), join(SAMPLES, 'study-a-ct-2-implicit.dcm')], { encoding: 'utf8' });
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/OutOfResources|Out of Resources|0xa700/i);
    const echo = spawnSync('echoscu', ['-aec', 'DEIDAGENT', '-aet', 'ECHO', '127.0.0.1', String(port)], { encoding: 'utf8' });
    expect(echo.status).toBe(0); // the agent is still there
    mkdirSync(work, { mode: 0o700 });
    const again = storescu('PROJ_A', 'ANYONE', join(SAMPLES, 'study-a-ct-2-implicit.dcm'));
    expect(again.status, again.stderr).toBe(0);
    await waitFor(() => filesUnder(join(root, 'A', 'outbox')).length === 3, 20_000, 'the resent file to settle');
  });

  it('leaves no partial file and no open descriptor when an association is cut mid-transfer', async () => {
    // A 4 MB instance, sent through a proxy that cuts the connection after 1 MB.
    mkdirSync(join(root, 'A', 'work'), { recursive: true, mode: 0o700 });
    const big = join(root, 'big.dcm');
    const { SOP, body } = bigInstance();
    writeFileSync(big, body);
    const proxyPort = await freePort();
    let upstreamClosed!: () => void;
    const agentSideClosed = new Promise<void>((r) => { upstreamClosed = r; });
    const proxy = createServer((client) => {
      const up = connect(port, '127.0.0.1');
      let sent = 0;
      up.on('close', () => upstreamClosed());
      client.on('data', (d: Buffer) => {
        sent += d.length;
        if (sent > 1 << 20) {
          client.destroy();
          up.destroy();
        } else {
          up.write(d);
        }
      });
      up.on('data', (d: Buffer) => client.write(d));
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
    // Asynchronously: the proxy runs in this process and must keep forwarding while storescu sends.
    const sender = spawn('storescu', ['-R', '-aec', 'PROJ_A', '-aet', 'ANYONE', '127.0.0.1', String(proxyPort), big], { stdio: 'ignore' });
    const status = await new Promise<number | null>((r) => sender.on('exit', (code) => r(code)));
    proxy.close();
    expect(status).not.toBe(0);
    // The agent has had the bytes and the end of the connection; give it a moment to act on them.
    await agentSideClosed;
    await new Promise((r) => setTimeout(r, 500));
    const work = join(root, 'A', 'work');
    const partial = (): string[] => readdirSync(work).filter((f) => f.startsWith('.incoming-'));
    const openFds = (): string[] => readdirSync(`/proc/${agent.pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${agent.pid}/fd/${fd}`); } catch { return ''; } }).filter((l) => l.includes('.incoming-'));
    await waitFor(() => partial().length === 0 && openFds().length === 0, 10_000, 'the partial file to be removed and closed');
    expect(SOP).toBeTruthy();
  });
});

/** A valid instance with a 4 MB pixel data element (explicit VR little endian), written by hand. */
function bigInstance(): { SOP: string; body: Buffer } {
  const SOP = '1.2.826.0.1.3680043.10.1137.99.1';
  const el = (g: number, e: number, vr: string, v: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(g, 0); head.writeUInt16LE(e, 2); head.write(vr, 4, 'latin1'); head.writeUInt16LE(v.length, 6);
    return Buffer.concat([head, v]);
  };
  const text = (s: string): Buffer => Buffer.from(s.length % 2 ? `${s}\0` : s, 'latin1');
  const meta = Buffer.concat([
    el(0x0002, 0x0002, 'UI', text('1.2.840.10008.5.1.4.1.1.7')), el(0x0002, 0x0003, 'UI', text(SOP)), el(0x0002, 0x0010, 'UI', text('1.2.840.10008.1.2.1')),
  ]);
  const groupLength = Buffer.concat([Buffer.from([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]), Buffer.alloc(4)]);
  groupLength.writeUInt32LE(meta.length, 8);
  const pixelsHead = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0x00, 0x00, 0, 0, 0, 0]);
  pixelsHead.writeUInt32LE(4 << 20, 8);
  const dataset = Buffer.concat([
    el(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.7')), el(0x0008, 0x0018, 'UI', text(SOP)),
    el(0x0010, 0x0010, 'PN', text('Doe^Jane')), el(0x0020, 0x000d, 'UI', text('1.2.826.0.1.3680043.10.1137.99')),
    el(0x0020, 0x000e, 'UI', text('1.2.826.0.1.3680043.10.1137.99.2')),
    el(0x0028, 0x0010, 'US', Buffer.from([0x00, 0x04])), el(0x0028, 0x0011, 'US', Buffer.from([0x00, 0x04])),
    el(0x0028, 0x0100, 'US', Buffer.from([16, 0])), pixelsHead, Buffer.alloc(4 << 20),
  ]);
  return { SOP, body: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, dataset]) };
}
