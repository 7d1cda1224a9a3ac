#!/usr/bin/env node
// Cloud transfer bench (issue 12): the agent with a Box inbox (the Box fake, in this process, on
// loopback) and a local outbox, against a baseline in the same run: a plain streamed download
// of the same files from the fake, `transfers` at a time, to disk. Then one large file both ways
// (Box inbox → local outbox, local inbox → Box outbox) with the agent's peak RSS.
// usage: node scripts/bench-cloud.mjs SMALL_DIR LARGE_FILE [--files N] [--transfers N]  (prints RESULT <json>)
import { spawn } from 'node:child_process';
import { createWriteStream, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const { FakeBox } = await import(pathToFileURL(join(root, 'dist', 'test', 'helpers', 'fake-box.js')).href);
const [smallDir, largeFile] = process.argv.slice(2);
const opt = (name, def) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : def; };
const count = Number(opt('--files', '200'));
const transfers = Number(opt('--transfers', '4'));
const work = join(tmpdir(), `deid-bench-cloud-${process.pid}`);
const MiB = 1024 * 1024;
for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];

const peakRssOf = (pid) => {
  let peak = 0;
  const t = setInterval(() => {
    try { peak = Math.max(peak, Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)); } catch { /* exited */ }
  }, 10);
  return () => { clearInterval(t); return +(peak / 1024).toFixed(1); };
};
const until = async (cond, ms, what) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error(`bench-cloud: timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 20)); }
};
const filesUnder = (d) => { try { return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name.startsWith('.') ? [] : filesUnder(join(d, e.name))) : [join(d, e.name)])); } catch { return []; } };

/** The agent on one project; resolves once it has started. */
async function agent(dir, fake, inbox, outbox) {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ store: join(dir, 'store.json'),
    box: { clientId: fake.clientId, clientSecret: { env: 'BENCH_BOX_SECRET' }, enterpriseId: '42', baseUrls: fake.baseUrls },
    projects: [{ name: 'BENCH', prefix: 'BENCH_', dateShiftDays: -100, inbox, outbox, quarantine: join(dir, 'q'), failed: join(dir, 'f'), work: join(dir, 'work'), watch: { stabilityMs: 200 } }] }));
  const child = spawn(process.execPath, [cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_BOX_SECRET: fake.clientSecret } });
  await new Promise((r, j) => { child.stdout.on('data', (d) => { if (String(d).includes('agent started')) r(); }); child.on('exit', (c) => j(new Error(`agent exited ${c}`))); });
  // BENCH_CLOUD_LOG=DIR keeps each agent's log there, to see where the time goes.
  if (process.env.BENCH_CLOUD_LOG) child.stdout.pipe(createWriteStream(join(process.env.BENCH_CLOUD_LOG, `${dir.split('/').pop()}.log`)));
  else child.stdout.resume();
  return { child, peak: peakRssOf(child.pid), stop: () => new Promise((r) => { child.on('exit', r); child.kill('SIGTERM'); }) };
}

/** Baseline: the same files fetched from the fake's download origin, `transfers` at a time, streamed to disk. */
async function plainDownload(fake, ids, dir) {
  mkdirSync(dir, { recursive: true });
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      await new Promise((r, j) => get(`${fake.dlOrigin}/d/${ids[i]}`, (res) => pipeline(res, createWriteStream(join(dir, `${i}.dcm`))).then(r, j)).on('error', j));
    }
  };
  await Promise.all(Array.from({ length: transfers }, lane));
}

const fake = new FakeBox({ longPollHoldMs: 1000 });
await fake.start();
try {
  // Small files: Box inbox → local outbox, against a plain download of the same files.
  const small = readdirSync(smallDir).sort().slice(0, count).map((f) => join(smallDir, f));
  const bytes = small.reduce((n, f) => n + statSync(f).size, 0);
  const baselineIds = small.map((f, i) => fake.addFile('0', `baseline-${i}.dcm`, readFileSync(f)));
  let t0 = performance.now();
  await plainDownload(fake, baselineIds, join(work, 'baseline'));
  const baselineSeconds = (performance.now() - t0) / 1000;
  const inbox = fake.addFolder('0', 'inbox');
  const outbox = join(work, 'small', 'outbox');
  const a = await agent(join(work, 'small'), fake, { box: { folderId: inbox, transfers, changeIntervalMs: 200, pollIntervalMs: 500 } }, outbox);
  t0 = performance.now();
  const drop = fake.addFolder(inbox, 'drop');
  for (const [i, f] of small.entries()) fake.addFile(drop, `${i}.dcm`, readFileSync(f));
  await until(() => filesUnder(outbox).length >= small.length, 600_000, 'the small files');
  const agentSeconds = (performance.now() - t0) / 1000;
  const smallPeak = a.peak();
  await a.stop();
  const smallResult = { files: small.length, megabytes: +(bytes / MiB).toFixed(1), transfers,
    plainDownload: { seconds: +baselineSeconds.toFixed(2), filesPerSecond: +(small.length / baselineSeconds).toFixed(1), mbPerSecond: +(bytes / MiB / baselineSeconds).toFixed(1) },
    boxToLocal: { seconds: +agentSeconds.toFixed(2), filesPerSecond: +(small.length / agentSeconds).toFixed(1), mbPerSecond: +(bytes / MiB / agentSeconds).toFixed(1), peakRssMiB: smallPeak } };
  rmSync(join(work, 'small'), { recursive: true, force: true });

  // One large file each way.
  const large = { file: largeFile, megabytes: +(statSync(largeFile).size / MiB).toFixed(1) };
  const inbox2 = fake.addFolder('0', 'inbox-large');
  const b = await agent(join(work, 'down'), fake, { box: { folderId: inbox2, transfers, changeIntervalMs: 200, pollIntervalMs: 500 } }, join(work, 'down', 'outbox'));
  t0 = performance.now();
  fake.addFile(inbox2, 'large.dcm', readFileSync(largeFile));
  await until(() => filesUnder(join(work, 'down', 'outbox')).length >= 1, 900_000, 'the large download');
  large.boxToLocal = { seconds: +((performance.now() - t0) / 1000).toFixed(2), peakRssMiB: b.peak() };
  await b.stop();
  rmSync(join(work, 'down'), { recursive: true, force: true });
  const outFolder = fake.addFolder('0', 'outbox-large');
  const upDir = join(work, 'up');
  const c = await agent(upDir, fake, join(upDir, 'inbox'), { box: { folderId: outFolder, transfers } });
  const boxFiles = (id) => fake.children(id).flatMap((n) => (n.type === 'folder' ? boxFiles(n.id) : [n]));
  t0 = performance.now();
  linkSync(largeFile, join(upDir, 'inbox', 'large.dcm'));
  await until(() => boxFiles(outFolder).length >= 1, 900_000, 'the large upload');
  large.localToBox = { seconds: +((performance.now() - t0) / 1000).toFixed(2), peakRssMiB: c.peak() };
  await c.stop();
  console.log(`RESULT ${JSON.stringify({ small: smallResult, large })}`);
} finally {
  await fake.stop();
  rmSync(work, { recursive: true, force: true });
}
