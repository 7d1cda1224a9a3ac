#!/usr/bin/env node
// The benchmark: generates its corpus (scripts/make-bench-corpus.mjs), then in the same run times
// `deid-agent anonymize` against a plain `cp -r` of the same files, and measures the watch agent's
// latency from a file's arrival in the inbox to its output. Results to stdout and a JSON file.
// usage: npm run bench [-- --small N --large MB,MB --drops N --rounds N --concurrency N --out FILE --corpus DIR]
import { execFileSync, spawn } from 'node:child_process';
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
const concurrency = Number(opt('--concurrency', '8'));
const rounds = Number(opt('--rounds', '3'));
const corpus = resolve(opt('--corpus', join(tmpdir(), `deid-bench-corpus-${small}-${large.replace(/,/g, '_')}`)));
const outFile = resolve(opt('--out', join(root, 'bench-results.json')));
const work = join(tmpdir(), `deid-bench-run-${process.pid}`);

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
const bytesOf = (dir) => files(dir).reduce((n, f) => n + statSync(f).size, 0);
const MiB = 1024 * 1024;

/** Runs a command, returning wall time and the child's peak RSS (VmHWM, polled). */
function timed(command, argv) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    let peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch { /* exited */ }
    }, 10);
    child.on('exit', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${command} exited with ${code}`));
      else resolvePromise({ seconds, peakRssMiB: peakKiB / 1024 });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const settle = () => {
  execFileSync('sync'); // the last run's dirty pages are not billed to the next one
  return new Promise((r) => setTimeout(r, 500));
};

/**
 * Times `cp -r` + `sync -f` and `deid-agent anonymize` of the same folder in alternating rounds
 * (the order flips each round) and compares their medians: disk timings on a shared VM vary
 * by 2x from run to run, and a single pair would mostly measure that.
 */
async function compare(name, dir) {
  const n = files(dir).length;
  const mb = bytesOf(dir) / MiB;
  execFileSync('cp', ['-r', dir, join(work, `warm-${name}`)]); // warm the page cache for both runs
  rmSync(join(work, `warm-${name}`), { recursive: true, force: true });
  const runs = { copy: [], anonymize: [] };
  let delivered = 0;
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 === 0 ? ['copy', 'anonymize'] : ['anonymize', 'copy']) {
      await settle();
      if (which === 'copy') {
        // The copy is flushed to disk too (sync -f: syncfs of its file system): the agent fsyncs every
        // output before it counts as written, and an unflushed copy would time the page cache, not the disk.
        runs.copy.push(await timed('sh', ['-c', 'cp -r "$0" "$1" && sync -f "$1"', dir, join(work, `copy-${name}`)]));
        rmSync(join(work, `copy-${name}`), { recursive: true, force: true });
      } else {
        const out = join(work, `anon-${name}`);
        runs.anonymize.push(await timed(process.execPath, [cli, 'anonymize', dir, '--out', join(out, 'out'), '--quarantine', join(out, 'q'),
          '--failed', join(out, 'f'), '--prefix', 'BENCH_', '--store', join(out, 'store.json'), '--shift-days', '-100', '--concurrency', String(concurrency)]));
        delivered = files(join(out, 'out')).filter((f) => f.endsWith('.dcm')).length;
        rmSync(out, { recursive: true, force: true });
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
  const ratio = +(copy.seconds / anonymize.seconds).toFixed(3);
  return { files: n, megabytes: +mb.toFixed(1), delivered, rounds, copy, anonymize, ratio: { filesPerSecond: ratio, mbPerSecond: ratio } };
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
  const agent = spawn(process.execPath, [cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
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
if (!existsSync(join(corpus, 'small')) || files(join(corpus, 'small')).length !== small) {
  rmSync(corpus, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'scripts', 'make-bench-corpus.mjs'), corpus, '--small', String(small), '--large', large], { stdio: 'inherit' });
}
try {
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1), freeGiB: +(freemem() / 1024 ** 3).toFixed(1), node: process.version };
  const smallResult = await compare('small', join(corpus, 'small'));
  const largeResult = await compare('large', join(corpus, 'large'));
  const latency = await watchLatency(Math.min(drops, small), 500);
  const targets = {
    largeMbRatioAtLeast50pct: largeResult.ratio.mbPerSecond >= 0.5,
    largePeakRssUnder300MiB: largeResult.anonymize.peakRssMiB < 300,
    smallFilesRatioAtLeast25pct: smallResult.ratio.filesPerSecond >= 0.25,
    watchP50Under1s: latency.beyondStabilityMs.p50 < 1000,
    watchP99Under3s: latency.beyondStabilityMs.p99 < 3000,
  };
  const result = { date: new Date().toISOString(), machine, method: { copy: 'cp -r, then sync -f of the copy (the agent fsyncs every output)', concurrency, workers: availableParallelism(), rounds, compared: 'median seconds over alternating rounds' }, small: smallResult, large: largeResult, watch: latency, targets };
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  const line = (label, r) => `${label.padEnd(6)} ${String(r.files).padStart(5)} files ${String(r.megabytes).padStart(8)} MB | cp -r ${r.copy.filesPerSecond} files/s ${r.copy.mbPerSecond} MB/s | anonymize ${r.anonymize.filesPerSecond} files/s ${r.anonymize.mbPerSecond} MB/s, peak RSS ${r.anonymize.peakRssMiB} MiB | ratio ${(r.ratio.mbPerSecond * 100).toFixed(0)}% (medians of ${r.rounds} rounds; cp ${r.copy.roundsSeconds.join('/')} s, anonymize ${r.anonymize.roundsSeconds.join('/')} s)`;
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`);
  console.log(line('small', smallResult));
  console.log(line('large', largeResult));
  console.log(`watch  ${latency.drops} drops, beyond the ${latency.stabilityMs} ms stability wait: p50 ${latency.beyondStabilityMs.p50} ms, p99 ${latency.beyondStabilityMs.p99} ms`);
  for (const [k, v] of Object.entries(targets)) console.log(`${v ? 'PASS' : 'FAIL'} ${k}`);
  console.log(`results: ${outFile}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
