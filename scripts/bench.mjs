#!/usr/bin/env node
// The benchmark: generates its corpus (scripts/make-bench-corpus.mjs), then in the same run times
// `deid-agent anonymize` against a plain `cp -r` of the same files, and measures the watch agent's
// latency from a file's arrival in the inbox to its output, and what looking at pixels costs (part
// `pixels`). Results to stdout and a JSON file.
// usage: npm run bench [-- --only small,large,watch,forward,outage,store,streaming,cloud,pixels --agent-node-args '--cpu-prof' --small N --large MB,MB --drops N --rounds N --concurrency N --pixel-series N --pixel-us N --out FILE --corpus DIR]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, linkSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { seedStore } from './seed-store.mjs';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const small = Number(opt('--small', '2000'));
const large = opt('--large', '300,600,1000');
const drops = Number(opt('--drops', '300'));
// Unset: anonymize runs with its defaults, as the targets ask.
const concurrency = opt('--concurrency', undefined);
const forwardMiB = Number(opt('--forward-mib', '2048'));
const queued = Number(opt('--queued', '1000000'));
const dropped = Number(opt('--dropped', '1000'));
const rounds = Number(opt('--rounds', '3'));
// The pixel part's corpus: one CT series of this many slices (phantom and noise), and ultrasound images.
const pixelSeries = Number(opt('--pixel-series', '500'));
const pixelUs = Number(opt('--pixel-us', '100'));
// Parts to run (default all): small,large,watch,forward,outage,store,streaming,cloud,pixels.
const PARTS = ['small', 'large', 'watch', 'forward', 'outage', 'store', 'streaming', 'cloud', 'pixels'];
const only = new Set((opt('--only', PARTS.join(',')) ?? '').split(',').filter(Boolean));
for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only: unknown part ${p} (one of ${PARTS.join(', ')})`);
// Extra node flags for the agent under test (e.g. --cpu-prof), to see where a run's time goes.
const agentNodeArgs = (opt('--agent-node-args', '') ?? '').split(' ').filter(Boolean);
const corpus = resolve(opt('--corpus', join(tmpdir(), `deid-bench-corpus-${small}-${large.replace(/,/g, '_')}`)));
const pixelCorpus = join(tmpdir(), `deid-bench-pixels-${pixelSeries}-${pixelUs}`);
const outFile = resolve(opt('--out', join(root, 'bench-results.json')));
const work = join(tmpdir(), `deid-bench-run-${process.pid}`);

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
const bytesOf = (dir) => files(dir).reduce((n, f) => n + statSync(f).size, 0);
const MiB = 1024 * 1024;

/** Polls a process's peak RSS (VmHWM) every `everyMs`; the returned function stops and gives it in MiB. */
function pollPeakRss(pid, everyMs) {
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch { /* exited */ }
  }, everyMs);
  return () => {
    clearInterval(poll);
    return peakKiB / 1024;
  };
}

/** Runs a command, returning wall time and the child's peak RSS (VmHWM, polled). */
function timed(command, argv) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    const peakRss = pollPeakRss(child.pid, 10);
    child.on('exit', (code) => {
      const peakRssMiB = peakRss();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${command} exited with ${code}`));
      else resolvePromise({ seconds, peakRssMiB });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/**
 * Puts every run on the same footing: the last run's dirty pages flushed, then (as root) the
 * page, dentry and inode caches dropped and the inputs read back in. Without the drop the runs
 * drift by 3x here: each leaves a GiB more of page cache, and ext4 without a journal (this VM's)
 * scans past inodes deleted in the last ~30 s while their table blocks are cached, billing one
 * contender for the deletions of the one before it.
 */
const settle = (inputs) => {
  execFileSync('sync');
  if (canDropCaches) {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    readAll(inputs);
  }
  return new Promise((r) => setTimeout(r, 500));
};
/** Reads every file under `dir` into the page cache (names on stdin: no argument-length limit). */
const readAll = (dir) => execFileSync('xargs', ['-0', 'cat'], { input: files(dir).join('\0'), stdio: ['pipe', 'ignore', 'inherit'] });
const canDropCaches = process.getuid?.() === 0 && existsSync('/proc/sys/vm/drop_caches');

/**
 * Times `cp -r` + `sync -f` and `deid-agent anonymize` of the same folder in alternating rounds
 * (the order flips each round) and compares their medians: disk timings on a shared VM vary
 * by 2x from run to run, and a single pair would mostly measure that.
 */
async function compare(name, dir) {
  const n = files(dir).length;
  const mb = bytesOf(dir) / MiB;
  // Warm the page cache for every contender by reading the inputs.
  readAll(dir);
  const done = (path) => rmSync(path, { recursive: true, force: true });
  const contenders = ['copy', 'anonymize', ...(gdcmanonCert ? ['gdcmanon'] : [])];
  const runs = Object.fromEntries(contenders.map((c) => [c, []]));
  let delivered = 0;
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      await settle(dir);
      if (which === 'gdcmanon') {
        // GDCM's anonymizer, Basic Profile (E.1), run the same way: its outputs flushed to disk too.
        const out = join(work, `gdcm-${name}-${round}`);
        runs.gdcmanon.push(await timed('sh', ['-c', 'gdcmanon -e -c "$2" -r --continue -i "$0" -o "$1" && sync -f "$1"', dir, out, gdcmanonCert]));
        done(out);
      } else if (which === 'copy') {
        // The copy is flushed to disk too (sync -f: syncfs of its file system): the agent fsyncs every
        // output before it counts as written, and an unflushed copy would time the page cache, not the disk.
        const out = join(work, `copy-${name}-${round}`);
        runs.copy.push(await timed('sh', ['-c', 'cp -r "$0" "$1" && sync -f "$1"', dir, out]));
        done(out);
      } else {
        const out = join(work, `anon-${name}-${round}`);
        runs.anonymize.push(await timed(process.execPath, [cli, 'anonymize', dir, '--out', join(out, 'out'), '--quarantine', join(out, 'q'),
          '--failed', join(out, 'f'), '--prefix', 'BENCH_', '--store', join(out, 'store.json'), '--shift-days', '-100', ...(concurrency ? ['--concurrency', concurrency] : [])]));
        delivered = files(join(out, 'out')).filter((f) => f.endsWith('.dcm')).length;
        done(out);
        // A run that set files aside would be timing less work than the copy.
        if (delivered !== n) throw new Error(`anonymize delivered ${delivered} of ${n} ${name} files`);
      }
    }
  }
  const summary = (xs) => {
    const seconds = median(xs.map((x) => x.seconds));
    return { seconds: +seconds.toFixed(3), filesPerSecond: +(n / seconds).toFixed(1), mbPerSecond: +(mb / seconds).toFixed(1),
      peakRssMiB: +Math.max(...xs.map((x) => x.peakRssMiB)).toFixed(1), roundsSeconds: xs.map((x) => +x.seconds.toFixed(3)) };
  };
  const copy = summary(runs.copy);
  const anonymize = summary(runs.anonymize);
  const gdcmanon = runs.gdcmanon ? summary(runs.gdcmanon) : undefined;
  const ratio = +(copy.seconds / anonymize.seconds).toFixed(3);
  return { files: n, megabytes: +mb.toFixed(1), delivered, rounds, copy, anonymize, ...(gdcmanon ? { gdcmanon } : {}),
    ratio: { filesPerSecond: ratio, mbPerSecond: ratio }, ...(gdcmanon ? { versusGdcmanon: +(gdcmanon.seconds / anonymize.seconds).toFixed(3) } : {}) };
}


const freePort = () => new Promise((r) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => r(port)); });
});

/**
 * Issue 11's scale probe: `count` files dropped at once into a watched inbox, with a store of
 * 20,000 patients, forwarded by C-STORE to a storescp; the time until the last one arrives,
 * against a one-shot anonymize of the same files with a copy of the same store.
 */
async function watchAndForward(count) {
  const dir = join(work, 'forward-scale');
  const inbox = join(dir, 'inbox');
  const staging = join(dir, 'staging');
  const received = join(dir, 'received');
  for (const d of [staging, received, join(dir, 'oneshot-in')]) mkdirSync(d, { recursive: true });
  const sources = files(join(corpus, 'small')).slice(0, count);
  for (const [i, src] of sources.entries()) {
    linkSync(src, join(dir, 'oneshot-in', `${i}.dcm`));
    execFileSync('cp', [src, join(staging, `${i}.dcm`)]);
  }
  for (const store of ['store.json', 'oneshot-store.json']) seedStore(join(dir, store), { project: 'BENCH', prefix: 'BENCH_', dateShiftDays: -100, count: 20_000 });
  const port = await freePort();
  // TCP_NODELAY: dcmtk leaves Nagle on unless told, and each C-STORE-RSP then waits for a delayed
  // ACK (~40 ms an instance); a destination tuned for throughput sets it, as PACS do.
  const scp = spawn('storescp', ['-aet', 'DEST', '-od', received, String(port)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ store: join(dir, 'store.json'), projects: [{ name: 'BENCH', prefix: 'BENCH_', inbox, outbox: join(dir, 'outbox'),
    quarantine: join(dir, 'q'), failed: join(dir, 'f'), work: join(dir, 'work'), dateShiftDays: -100, watch: { stabilityMs: 500 },
    forward: { host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 200, maxRetryDelayMs: 2000 } }] }));
  const agent = spawn(process.execPath, [...agentNodeArgs, cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => agent.stdout.on('data', (d) => { if (String(d).includes('agent started')) r(); }));
  agent.stdout.resume();
  const t0 = performance.now();
  renameSync(staging, join(inbox, 'drop')); // the whole drop appears at once, as one study folder
  const arrived = () => readdirSync(received).length;
  const deadline = t0 + 600_000;
  while (arrived() < count && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const watchSeconds = (performance.now() - t0) / 1000;
  const got = arrived();
  agent.kill('SIGTERM');
  await new Promise((r) => agent.on('exit', r));
  scp.kill('SIGTERM');
  const oneShot = await timed(process.execPath, [cli, 'anonymize', join(dir, 'oneshot-in'), '--out', join(dir, 'oneshot-out'), '--quarantine', join(dir, 'oneshot-q'),
    '--failed', join(dir, 'oneshot-f'), '--prefix', 'BENCH_', '--project', 'BENCH', '--store', join(dir, 'oneshot-store.json'), '--shift-days', '-100']);
  rmSync(dir, { recursive: true, force: true });
  return { instances: count, storePatients: 20_000, arrived: got, lost: count - got, watchAndForwardSeconds: +watchSeconds.toFixed(2),
    oneShotAnonymizeSeconds: +oneShot.seconds.toFixed(2), ratio: +(watchSeconds / oneShot.seconds).toFixed(2) };
}

/** A destination down for a week: `count` instances queued in the ledger, drained by a fresh process; its peak RSS. */
async function weekOfOutage(count) {
  const ledger = join(work, 'ledger');
  const perMinute = Math.ceil(count / 10_080);
  let made = 0;
  for (let minute = 0; made < count; minute++) {
    const bucket = join(ledger, 'queue', String(29_000_000 + minute).padStart(13, '0'));
    mkdirSync(bucket, { recursive: true });
    for (let i = 0; i < perMinute && made < count; i++, made++) closeSync(openSync(join(bucket, `1.2.${minute}.${i}.dcm`), 'w'));
  }
  const script = `const { ForwardLedger } = await import(${JSON.stringify(join(root, 'dist', 'src', 'sinks', 'forward-ledger.js'))});
    const l = new ForwardLedger(${JSON.stringify(ledger)});
    const t0 = performance.now(); const due = await l.due(100); const dueMs = performance.now() - t0;
    const t1 = performance.now(); const c = await l.counts(); const countMs = performance.now() - t1;
    process.stdout.write(JSON.stringify({ due: due.length, pending: c.pending, dueMs: Math.round(dueMs), countMs: Math.round(countMs) }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const peakRss = pollPeakRss(child.pid, 5);
  await new Promise((r) => child.on('exit', r));
  const peakRssMiB = peakRss();
  rmSync(ledger, { recursive: true, force: true });
  return { queued: count, ...JSON.parse(out), peakRssMiB: +peakRssMiB.toFixed(1) };
}

/** Runs one of the side benches (scripts/bench-*.mjs) and returns the JSON it prints. */
function sideBench(script, argv, marker) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', script), ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status}`);
  const text = marker ? r.stdout.split('\n').find((l) => l.startsWith(marker))?.slice(marker.length) : r.stdout;
  process.stdout.write(marker ? r.stdout.split('\n').filter((l) => !l.startsWith(marker)).join('\n') : '');
  return JSON.parse(text ?? 'null');
}

/**
 * What looking at pixels costs (issue 13), each contender in alternating rounds as `compare` runs
 * them, every run from the same settled state:
 *  (a) a CT series without text (one Series Instance UID), anonymized with the default policy
 *      ('series': its first image and the 64th, 128th, 256th looked at) against the same with CT
 *      set to 'header' by a config (no pixels looked at); on a phantom and on small/'s noise
 *      pattern (the OCR's worst case);
 *  (b) ultrasound images without text, Burned In Annotation NO (the header rules pass them, so
 *      every one is looked at): images per second with one worker thread, i.e. per core;
 *  (c) the peak RSS of the process over (a) and (b), with one worker thread.
 */
async function pixelCost() {
  const ready = (sub, n) => existsSync(join(pixelCorpus, sub)) && files(join(pixelCorpus, sub)).length === n;
  if (!ready('series', pixelSeries) || !ready('series-noise', pixelSeries) || !ready('us', pixelUs)) {
    rmSync(pixelCorpus, { recursive: true, force: true });
    execFileSync(process.execPath, [join(root, 'scripts', 'make-bench-corpus.mjs'), pixelCorpus, '--small', '0', '--large', '',
      '--series', String(pixelSeries), '--us', String(pixelUs)], { stdio: 'inherit' });
  }
  const dir = join(work, 'pixels');
  mkdirSync(dir, { recursive: true });
  // The same project with CT left to the header rules: the run the inspection is measured against.
  const headerOnly = join(dir, 'ct-header.json');
  writeFileSync(headerOnly, JSON.stringify({ store: join(dir, 'unused-store.json'), projects: [{ name: 'BENCH', prefix: 'BENCH_', inbox: dir,
    outbox: join(dir, 'unused-out'), quarantine: join(dir, 'unused-q'), failed: join(dir, 'unused-f'), pixels: { inspect: { CT: 'header' } } }] }));
  let runNo = 0;
  const anonymize = async (input, config) => {
    const out = join(dir, `run-${runNo++}`);
    const r = await timed(process.execPath, [...agentNodeArgs, cli, 'anonymize', input, '--out', join(out, 'out'), '--quarantine', join(out, 'q'),
      '--failed', join(out, 'f'), '--prefix', 'BENCH_', '--store', join(out, 'store.json'), '--shift-days', '-100', '--workers', '1',
      ...(config ? ['--config', config] : [])]);
    const count = (d) => (existsSync(d) ? files(d).filter((f) => f.endsWith('.dcm')).length : 0);
    const result = { ...r, delivered: count(join(out, 'out')), held: count(join(out, 'q')) };
    rmSync(out, { recursive: true, force: true });
    return result;
  };
  const summary = (xs, n) => ({
    seconds: +median(xs.map((x) => x.seconds)).toFixed(3), imagesPerSecond: +(n / median(xs.map((x) => x.seconds))).toFixed(2),
    peakRssMiB: +Math.max(...xs.map((x) => x.peakRssMiB)).toFixed(1), roundsSeconds: xs.map((x) => +x.seconds.toFixed(3)),
    delivered: Math.min(...xs.map((x) => x.delivered)), held: Math.max(...xs.map((x) => x.held)),
  });
  const series = async (sub) => {
    const input = join(pixelCorpus, sub);
    const runs = { inspected: [], headerOnly: [] };
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? ['inspected', 'headerOnly'] : ['headerOnly', 'inspected']) {
        await settle(input);
        runs[which].push(await anonymize(input, which === 'headerOnly' ? headerOnly : undefined));
      }
    }
    const inspected = summary(runs.inspected, pixelSeries);
    const off = summary(runs.headerOnly, pixelSeries);
    return { slices: pixelSeries, inspected, headerOnly: off, ratio: +(inspected.seconds / off.seconds).toFixed(2) };
  };
  const phantom = await series('series');
  const noise = await series('series-noise');
  const usRuns = [];
  for (let round = 0; round < rounds; round++) {
    await settle(join(pixelCorpus, 'us'));
    usRuns.push(await anonymize(join(pixelCorpus, 'us')));
  }
  const us = { images: pixelUs, size: '640x480 8-bit grey', workers: 1, ...summary(usRuns, pixelUs) };
  rmSync(dir, { recursive: true, force: true });
  return { method: `anonymize --workers 1, ${rounds} rounds, medians; series inspected with the default policy, header-only with CT 'header' by --config`,
    ctSeries: phantom, ctSeriesNoise: noise, ultrasound: us,
    peakRssMiB: Math.max(phantom.inspected.peakRssMiB, noise.inspected.peakRssMiB, us.peakRssMiB) };
}

async function watchLatency(count, stabilityMs) {
  const dir = join(work, 'watch');
  const inbox = join(dir, 'inbox');
  const outbox = join(dir, 'outbox');
  const staging = join(dir, 'staging');
  mkdirSync(staging, { recursive: true });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ store: join(dir, 'store.json'), projects: [{ name: 'BENCH', prefix: 'BENCH_', inbox, outbox,
    quarantine: join(dir, 'q'), failed: join(dir, 'f'), work: join(dir, 'work'), dateShiftDays: -100, watch: { stabilityMs } }] }));
  const agent = spawn(process.execPath, [...agentNodeArgs, cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => agent.stdout.on('data', (d) => { if (String(d).includes('agent started')) r(); }));
  agent.stdout.resume();
  const sources = files(join(corpus, 'small')).slice(0, count);
  const latencies = [];
  const outputs = () => (existsSync(outbox) ? files(outbox).filter((f) => f.endsWith('.dcm')).length : 0);
  for (const [i, src] of sources.entries()) {
    const staged = join(staging, `${i}.dcm`);
    execFileSync('cp', [src, staged]);
    const before = outputs();
    const t0 = performance.now();
    renameSync(staged, join(inbox, `${i}.dcm`)); // the copy finishes: the file appears complete
    while (outputs() === before) await new Promise((r) => setTimeout(r, 2));
    latencies.push(performance.now() - t0 - stabilityMs);
  }
  agent.kill('SIGTERM');
  await new Promise((r) => agent.on('exit', r));
  latencies.sort((a, b) => a - b);
  const pct = (p) => +latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  return { drops: latencies.length, stabilityMs, beyondStabilityMs: { p50: pct(50), p99: pct(99), max: +latencies.at(-1).toFixed(1) } };
}

mkdirSync(work, { recursive: true });
/** gdcmanon de-identifies with a certificate (it encrypts what it removes): a throwaway one, made here. */
const gdcmanonCert = (() => {
  if (spawnSync('sh', ['-c', 'command -v gdcmanon && command -v openssl']).status !== 0) {
    console.error('gdcmanon not found (apt-get install libgdcm-tools): compared with cp only');
    return undefined;
  }
  const cert = join(work, 'gdcmanon-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'gdcmanon-key.pem'), '-out', cert, '-days', '1', '-subj', '/CN=bench'], { stdio: 'ignore' });
  return cert;
})();
// The pixel part makes its own corpus; the others share this one.
const needsCorpus = ['small', 'large', 'watch', 'forward', 'cloud'].some((p) => only.has(p));
if (needsCorpus && (!existsSync(join(corpus, 'small')) || files(join(corpus, 'small')).length !== small)) {
  rmSync(corpus, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'scripts', 'make-bench-corpus.mjs'), corpus, '--small', String(small), '--large', large], { stdio: 'inherit' });
}
try {
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1), freeGiB: +(freemem() / 1024 ** 3).toFixed(1), node: process.version };
  const smallResult = only.has('small') ? await compare('small', join(corpus, 'small')) : undefined;
  const largeResult = only.has('large') ? await compare('large', join(corpus, 'large')) : undefined;
  const latency = only.has('watch') ? await watchLatency(Math.min(drops, small), 500) : undefined;
  const forwardScale = only.has('forward') ? await watchAndForward(Math.min(dropped, small)) : undefined;
  const outage = only.has('outage') ? await weekOfOutage(queued) : undefined;
  const store = only.has('store') ? sideBench('bench-store.mjs', ['--rounds', '1']) : undefined;
  const streaming = only.has('streaming') ? sideBench('bench-forward.mjs', ['--mib', String(forwardMiB), '--rounds', '1', '--json'], 'BENCH-JSON ') : undefined;
  // Box fake → local outbox against a plain download of the same files; the largest file both ways.
  const largest = only.has('cloud') ? files(join(corpus, 'large')).sort((a, b) => statSync(b).size - statSync(a).size)[0] : undefined;
  const cloud = largest ? sideBench('bench-cloud.mjs', [join(corpus, 'small'), largest, '--files', '200'], 'RESULT ') : undefined;
  const pixels = only.has('pixels') ? await pixelCost() : undefined;
  // A series run that set slices aside did less work than the run it is compared with: not judged as met.
  const seriesTarget = (r) => r.inspected.delivered === r.slices && r.headerOnly.delivered === r.slices && r.ratio <= 1.3;
  // Each target is judged only when its part ran.
  const targets = Object.fromEntries(Object.entries({
    smallFilesAtLeast60pctOfCopy: smallResult && smallResult.ratio.filesPerSecond >= 0.6,
    smallAheadOfGdcmanon: smallResult && (smallResult.versusGdcmanon ?? 0) >= 1,
    largeAheadOfGdcmanon: largeResult && (largeResult.versusGdcmanon ?? 0) >= 1,
    largePeakRssUnder300MiB: largeResult && largeResult.anonymize.peakRssMiB < 300,
    crosswalk20kAtMost1_5x: store && (store.ratio20k ?? Infinity) <= 1.5,
    watchAndForwardWithin3xOfOneShot: forwardScale && forwardScale.ratio <= 3,
    watchAndForwardLostNone: forwardScale && forwardScale.lost === 0,
    weekOutageQueuePeakRssUnder150MiB: outage && outage.peakRssMiB < 150,
    forward2GiBPeakRssUnder300MB: streaming && (streaming['deid-agent']?.peakRssMB ?? Infinity) < 300,
    watchP50Under1s: latency && latency.beyondStabilityMs.p50 < 1000,
    watchP99Under3s: latency && latency.beyondStabilityMs.p99 < 3000,
    cloudLargeBothWaysUnder300MiB: cloud && cloud.large.boxToLocal.peakRssMiB < 300 && cloud.large.localToBox.peakRssMiB < 300,
    pixelsCtSeriesAtMost1_3xOfHeaderOnly: pixels && seriesTarget(pixels.ctSeries),
    pixelsCtNoiseSeriesAtMost1_3xOfHeaderOnly: pixels && seriesTarget(pixels.ctSeriesNoise),
    pixelsUltrasoundAtLeast1ImagePerSecondPerCore: pixels && pixels.ultrasound.delivered === pixels.ultrasound.images && pixels.ultrasound.imagesPerSecond >= 1,
    pixelsPeakRssUnder1GiBPerWorker: pixels && pixels.peakRssMiB < 1024,
  }).filter(([, v]) => v !== undefined));
  const result = { date: new Date().toISOString(), machine, method: { copy: 'cp -r, then sync -f of the copy (the agent fsyncs every output)', gdcmanon: 'gdcmanon -e (Basic Profile) -r, then sync -f', anonymize: concurrency ? `--concurrency ${concurrency}` : 'defaults', rounds, compared: 'median seconds over rounds in alternating order' }, small: smallResult, large: largeResult, watch: latency, forwardScale, outage, store, streaming, cloud, pixels, targets };
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  const line = (label, r) => `${label.padEnd(6)} ${String(r.files).padStart(5)} files ${String(r.megabytes).padStart(8)} MB | cp -r ${r.copy.filesPerSecond} files/s ${r.copy.mbPerSecond} MB/s | anonymize ${r.anonymize.filesPerSecond} files/s ${r.anonymize.mbPerSecond} MB/s, peak RSS ${r.anonymize.peakRssMiB} MiB | ratio ${(r.ratio.mbPerSecond * 100).toFixed(0)}% (medians of ${r.rounds} rounds; cp ${r.copy.roundsSeconds.join('/')} s, anonymize ${r.anonymize.roundsSeconds.join('/')} s)`;
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`);
  if (smallResult) console.log(line('small', smallResult));
  if (largeResult) console.log(line('large', largeResult));
  for (const [label, r] of [['small', smallResult], ['large', largeResult]]) if (r?.gdcmanon) console.log(`${label.padEnd(6)} gdcmanon ${r.gdcmanon.filesPerSecond} files/s ${r.gdcmanon.mbPerSecond} MB/s, peak RSS ${r.gdcmanon.peakRssMiB} MiB | anonymize at ${(r.versusGdcmanon * 100).toFixed(0)}% of its time's inverse`);
  if (forwardScale) console.log(`forward ${forwardScale.instances} dropped with a 20,000-patient store: all at storescp in ${forwardScale.watchAndForwardSeconds} s, one-shot anonymize ${forwardScale.oneShotAnonymizeSeconds} s (x${forwardScale.ratio}), lost ${forwardScale.lost}`);
  if (outage) console.log(`outage ${outage.queued} queued: due(100) ${outage.dueMs} ms, count ${outage.countMs} ms, peak RSS ${outage.peakRssMiB} MiB`);
  if (store) console.log(`store  1,000 new patients: x${store?.ratio20k} at 20,000, x${store?.ratio100k} at 100,000 (vs empty)`);
  if (latency) console.log(`watch  ${latency.drops} drops, beyond the ${latency.stabilityMs} ms stability wait: p50 ${latency.beyondStabilityMs.p50} ms, p99 ${latency.beyondStabilityMs.p99} ms`);
  if (cloud) {
    const c = cloud.small;
    console.log(`cloud  ${c.files} files ${c.megabytes} MB from the Box fake: plain download ${c.plainDownload.filesPerSecond} files/s ${c.plainDownload.mbPerSecond} MB/s | agent to a local outbox ${c.boxToLocal.filesPerSecond} files/s ${c.boxToLocal.mbPerSecond} MB/s, peak RSS ${c.boxToLocal.peakRssMiB} MiB (transfers ${c.transfers})`);
    console.log(`cloud  ${cloud.large.megabytes} MB: Box → local ${cloud.large.boxToLocal.seconds} s, peak RSS ${cloud.large.boxToLocal.peakRssMiB} MiB | local → Box ${cloud.large.localToBox.seconds} s, peak RSS ${cloud.large.localToBox.peakRssMiB} MiB`);
  }
  if (pixels) {
    for (const [label, r] of [['phantom', pixels.ctSeries], ['noise', pixels.ctSeriesNoise]]) {
      console.log(`pixels CT series of ${r.slices} (${label}): inspected ${r.inspected.seconds} s (delivered ${r.inspected.delivered}, held ${r.inspected.held}, peak RSS ${r.inspected.peakRssMiB} MiB) vs header only ${r.headerOnly.seconds} s (peak RSS ${r.headerOnly.peakRssMiB} MiB): x${r.ratio} (rounds ${r.inspected.roundsSeconds.join('/')} vs ${r.headerOnly.roundsSeconds.join('/')} s)`);
    }
    const u = pixels.ultrasound;
    console.log(`pixels ${u.images} ultrasound ${u.size}, 1 worker: ${u.imagesPerSecond} images/s (${u.seconds} s; delivered ${u.delivered}, held ${u.held}), peak RSS ${u.peakRssMiB} MiB`);
  }
  for (const [k, v] of Object.entries(targets)) console.log(`${v ? 'PASS' : 'FAIL'} ${k}`);
  console.log(`results: ${outFile}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
