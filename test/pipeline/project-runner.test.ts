import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { InstanceWorkers } from '../../src/pipeline/instance-workers.js';
import type { Outcome } from '../../src/pipeline/outcome.js';
import { ProjectRunner } from '../../src/pipeline/project-runner.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Instance processing held at a gate: every call waits until the test opens it. */
function heldProcessing(): { workers: InstanceWorkers; started: () => number; open: () => void } {
  let started = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  const processor = {
    process: async (): Promise<Outcome> => {
      started += 1;
      await gate;
      return { kind: 'failed', reason: 'held by the test' };
    },
  };
  // Only register() is used by the runner: the real pool of threads is not what is tested here.
  const workers = { register: () => processor } as unknown as InstanceWorkers;
  return { workers, started: () => started, open };
}

describe('a project runner meeting a large drop', () => {
  it('claims the whole drop at once, ahead of processing, so the inbox empties and is not re-read file by file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-runner-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const project = {
      name: 'P', prefix: 'P_', inbox: join(root, 'inbox'), outbox: join(root, 'outbox'), quarantine: join(root, 'q'), failed: join(root, 'failed'),
      work: join(root, 'work'), dateShiftDays: -10, concurrency: 2, watch: { stabilityMs: 100 },
    };
    const store = await ProjectStore.open(join(root, 'store.json'));
    const held = heldProcessing();
    const runner = new ProjectRunner(project, store, pino({ level: 'silent' }), 1, held.workers);
    await runner.start();
    cleanup.push(() => runner.stop());
    cleanup.push(() => held.open()); // stop() waits for the files in flight

    mkdirSync(join(root, 'drop'));
    for (let i = 0; i < 30; i++) {
      copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), join(root, 'drop', `${i}.dcm`));
      appendFileSync(join(root, 'drop', `${i}.dcm`), String(i)); // distinct content: failed/ names files by hash
    }
    renameSync(join(root, 'drop'), join(project.inbox, 'drop'));

    const claims = (): number => readdirSync(project.work).filter((n) => !n.startsWith('.')).length;
    await waitFor(() => claims() === 30, 10_000, 'every file of the drop claimed');
    expect(readdirSync(join(project.inbox, 'drop'))).toEqual([]);
    await waitFor(() => held.started() === 2, 10_000, 'processing started');
    await new Promise((r) => setTimeout(r, 300));
    expect(held.started()).toBe(2); // processing keeps its own limit

    held.open();
    await waitFor(() => readdirSync(project.failed).filter((n) => n.endsWith('.bin')).length === 30, 10_000, 'all settled');
    expect(claims()).toBe(0);
  });
});
