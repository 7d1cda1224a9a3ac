import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CLI } from './tools.js';

export interface ProjectDirs {
  readonly root: string;
  readonly inbox: string;
  readonly outbox: string;
  readonly quarantine: string;
  readonly failed: string;
  readonly work: string;
  readonly store: string;
  readonly config: string;
  readonly log: string;
}

/** A config with one project (HOLD) under `root`, written as JSON as an operator would. */
export function writeProjectConfig(root: string, extra: Record<string, unknown> = {}): ProjectDirs {
  mkdirSync(root, { recursive: true });
  const dirs = {
    root, inbox: join(root, 'inbox'), outbox: join(root, 'outbox'), quarantine: join(root, 'quarantine'),
    failed: join(root, 'failed'), work: join(root, 'work'), store: join(root, 'store.json'), config: join(root, 'config.json'),
    log: join(root, 'agent.log'),
  };
  writeFileSync(dirs.config, JSON.stringify({
    store: dirs.store,
    projects: [{
      name: 'HOLD', prefix: 'HOLD_', inbox: dirs.inbox, outbox: dirs.outbox, quarantine: dirs.quarantine, failed: dirs.failed,
      work: dirs.work, dateShiftDays: -321, watch: { stabilityMs: 400 }, ...extra,
    }],
  }));
  return dirs;
}

/** Files under `dir`, as a researcher sees them: the agent's own `.deid-*` folders (temporaries, the forward ledger) left out. */
export const filesUnder = (dir: string): string[] => {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (!d.isDirectory()) return [join(dir, d.name)];
    return d.name.startsWith('.deid-') ? [] : filesUnder(join(dir, d.name));
  });
};

/** The real agent process (`deid-agent start`), stopped by its own PID. */
export class AgentProcess {
  readonly child: ChildProcess;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly dirs: ProjectDirs) {
    const out = openSync(dirs.log, 'a');
    this.child = spawn(process.execPath, [CLI, 'start', '--config', dirs.config], { stdio: ['ignore', out, out] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  log(): string {
    return readFileSync(this.dirs.log, 'utf8');
  }

  async started(timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.log().includes('"agent started"') || this.child.exitCode !== null, timeoutMs, 'agent start');
    if (this.child.exitCode !== null) throw new Error(`agent exited with ${this.child.exitCode}: ${this.log()}`);
  }

  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) / 1024;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}

/** Polls `condition` every 50 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every inbox and work-area file settled: nothing left to do. */
export function settledCount(d: ProjectDirs): { outbox: number; quarantine: number; failed: number; inbox: number; work: number } {
  return {
    outbox: filesUnder(d.outbox).length,
    quarantine: filesUnder(d.quarantine).filter((f) => f.endsWith('.json')).length,
    failed: filesUnder(d.failed).filter((f) => f.endsWith('.json')).length,
    inbox: filesUnder(d.inbox).length,
    work: filesUnder(d.work).filter((f) => !basename(f).startsWith('.')).length, // hidden: the agent's own notes
  };
}
