#!/usr/bin/env node
// Crosswalk scale bench (issue 11): 1,000 new patients into a store that holds 0, 20,000 and
// 100,000, in one run, one at a time (each awaited, as a file waits for its pseudonym) and then
// 1,000 more from 8 concurrent callers (as workers are). Prints a JSON summary; the target is a
// ratio (20,000 vs empty, sequential) of at most 1.5.
// Uses the build: `npm run build` first.
// Usage: node scripts/bench-store.mjs [--sizes 0,20000,100000] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProjectStore } from '../dist/src/store/project-store.js';
import { seedIdentity, seedStore } from './seed-store.mjs';

const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : undefined;
const sizes = (sizesArg ?? '0,20000,100000').split(',').map(Number);
const roundsArg = args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : undefined;
// fsync latency on a shared machine is noisy: sizes are run interleaved, several rounds, median kept.
const ROUNDS = Number(roundsArg ?? 3);
const NEW = 1000;
const CONCURRENCY = 8;

const identity = seedIdentity;

const seed = (path, count) => seedStore(path, { project: 'B', prefix: 'B_', dateShiftDays: -15, count });

const ms = (t0) => Math.round(performance.now() - t0);

async function run(count) {
  const dir = mkdtempSync(join(tmpdir(), 'deid-bench-store-'));
  const path = join(dir, 'store.json');
  if (count > 0) seed(path, count);
  let t0 = performance.now();
  const store = await ProjectStore.open(path);
  await store.ensureProject({ name: 'B', prefix: 'B_', dateShiftDays: -15, shiftRange: [-15, -15] });
  const openMs = ms(t0);
  t0 = performance.now();
  for (let i = 0; i < NEW; i++) await store.pseudonymFor('B', identity(`s${i}`));
  const sequentialMs = ms(t0);
  t0 = performance.now();
  for (let i = 0; i < NEW; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => store.pseudonymFor('B', identity(`c${i + j}`))));
  }
  const concurrentMs = ms(t0);
  t0 = performance.now();
  await store.close(); // folds the journal into the snapshot: the one O(n) step, once per run
  const closeMs = ms(t0);
  rmSync(dir, { recursive: true, force: true });
  return { openMs, sequentialMs, concurrentMs, closeAndCompactMs: closeMs };
}

const samples = new Map(sizes.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const n of sizes) {
    samples.get(n).push(await run(n));
    process.stderr.write(`store bench: round ${round + 1}, ${n} patients done\n`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = sizes.map((n) => {
  const rs = samples.get(n);
  const pick = (k) => median(rs.map((r) => r[k]));
  const sequentialMs = pick('sequentialMs');
  return {
    patients: n, openMs: pick('openMs'), sequentialMs, perPatientMs: +(sequentialMs / NEW).toFixed(3),
    concurrentMs: pick('concurrentMs'), closeAndCompactMs: pick('closeAndCompactMs'), sequentialMsAll: rs.map((r) => r.sequentialMs),
  };
});
/**
 * The one-time sealing of a plaintext (format 1) store at its first open after the upgrade: every
 * entry sealed and re-indexed, the snapshot rewritten. Beside it, opening the same store sealed.
 */
async function migration(count) {
  const dir = mkdtempSync(join(tmpdir(), 'deid-bench-migrate-'));
  const plain = join(dir, 'plain.json');
  const sealed = join(dir, 'sealed.json');
  seedStore(plain, { project: 'B', prefix: 'B_', dateShiftDays: -15, count, format: 1 });
  seed(sealed, count);
  let t0 = performance.now();
  await (await ProjectStore.open(plain)).close();
  const migrateMs = ms(t0);
  t0 = performance.now();
  await (await ProjectStore.open(sealed)).close();
  const openSealedMs = ms(t0);
  rmSync(dir, { recursive: true, force: true });
  return { patients: count, migrateMs, openSealedMs };
}
const migrations = [];
for (const n of sizes.filter((x) => x > 0)) migrations.push(await migration(n));

const base = runs.find((r) => r.patients === 0) ?? runs[0];
const ratioOf = (n) => {
  const r = runs.find((x) => x.patients === n);
  return r && base ? +(r.sequentialMs / base.sequentialMs).toFixed(2) : null;
};
const summary = {
  bench: 'store',
  newPatients: NEW,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  runs,
  migrations,
  ratio20k: ratioOf(20000),
  ratio100k: ratioOf(100000),
  target: 'ratio20k <= 1.5',
  pass: (ratioOf(20000) ?? 0) <= 1.5,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
