#!/usr/bin/env node
// Forwarding a large instance by C-STORE: deid-agent's streaming send (dist/ build) side by side
// with dcmtk's storescu sending the same file to the same storescp, one run after the other.
// Reports wall time, MB/s and peak RSS (the child's ru_maxrss) of each sender.
//
//   npm run build && node scripts/bench-forward.mjs [--mib 2048] [--rounds 2] [--store] [--pdu 16384]
//
// storescp runs with --ignore (receives every PDU, writes nothing) so the figures are the
// senders', not the receiver's disk; --store makes it write the files (+B) instead. Everything
// goes to 127.0.0.1; the generated instance lives under the system temp folder and is deleted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeLargeCt } from './large-ct.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const sizeMiB = Number(arg('mib', '2048'));
const rounds = Number(arg('rounds', '2'));
const pdu = Number(arg('pdu', '16384'));
const store = process.argv.includes('--store');

/** The instance sent: an explicit VR little endian CT of `mib` MiB of pixels; returns the file's size. */
function writeInstance(path, mib) {
  writeLargeCt(path, mib, '1.2.826.0.1.3680043.10.1137.88.1');
  return statSync(path).size;
}

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((r) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`storescp did not listen on ${port}`);
}

/** Runs a command; its peak RSS comes from GNU time (the child's ru_maxrss), its wall time from here. */
function timed(command, args) {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KIB=%M', command, ...args], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status}: ${r.stderr}`);
  return { seconds, rssKiB: Number(/MAXRSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) };
}

const work = mkdtempSync(join(tmpdir(), 'deid-bench-forward-'));
const scpDir = join(work, 'received');
let scp;
try {
  const file = join(work, 'big.dcm');
  const bytes = writeInstance(file, sizeMiB);
  const port = await freePort();
  mkdirSync(scpDir);
  scp = spawn('storescp', ['-aet', 'DEST', '-pdu', String(pdu), ...(store ? ['+B', '-od', scpDir] : ['--ignore']), String(port)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  await waitForPort(port);

  const sender = join(work, 'send.mjs');
  writeFileSync(sender, `
import { storeFiles } from ${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'src', 'net', 'dimse-store.js')).href)};
const r = await storeFiles({ host: '127.0.0.1', port: ${port}, calledAET: 'DEST', callingAET: 'DEIDAGENT', associationTimeoutMs: 600000 }, [process.argv[2]]);
const [[, result]] = [...r];
if (result.kind !== 'stored') { console.error(JSON.stringify(result)); process.exit(1); }
`);
  const peers = {
    'deid-agent': () => timed(process.execPath, [sender, file]),
    storescu: () => timed('storescu', ['-aet', 'DEIDAGENT', '-aec', 'DEST', '-pdu', String(pdu), '127.0.0.1', String(port), file]),
  };
  const runs = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(peers)) {
      try {
        runs[name].push(run());
      } catch (e) {
        console.error(`${name} failed: ${e.message}`);
        process.exitCode = 1;
      }
      if (store) {
        rmSync(scpDir, { recursive: true, force: true });
        mkdirSync(scpDir);
      }
    }
  }
  const summary = {};
  console.log(`forwarding one ${(bytes / MiB).toFixed(0)} MiB instance (explicit VR little endian) to storescp (${store ? 'storing, +B' : '--ignore'}, max PDU ${pdu}); ${rounds} round(s), best shown`);
  console.log(['sender'.padEnd(12), 'seconds'.padStart(8), 'MB/s'.padStart(8), 'peak RSS MB'.padStart(12)].join(' '));
  for (const [name, rs] of Object.entries(runs)) {
    if (rs.length === 0) continue;
    const best = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const peak = Math.max(...rs.map((x) => x.rssKiB));
    console.log([name.padEnd(12), best.seconds.toFixed(2).padStart(8), (bytes / 1e6 / best.seconds).toFixed(0).padStart(8), (peak * 1024 / 1e6).toFixed(0).padStart(12)].join(' '));
    summary[name] = { seconds: +best.seconds.toFixed(2), mbPerSecond: +(bytes / 1e6 / best.seconds).toFixed(0), peakRssMB: +(peak * 1024 / 1e6).toFixed(0) };
  }
  // For npm run bench, which runs this script and keeps its figures.
  if (process.argv.includes('--json')) console.log(`BENCH-JSON ${JSON.stringify({ mib: +(bytes / MiB).toFixed(0), ...summary })}`);
} finally {
  if (scp && scp.exitCode === null) scp.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
