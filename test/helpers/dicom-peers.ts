import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on loopback (bound, then released for the peer to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** dcmtk's storescp on loopback, writing what it receives to `dir`; stopped by its own PID. */
export class StoreScp {
  readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(readonly port: number, readonly dir: string, readonly aet = 'DEST', extraArgs: readonly string[] = []) {
    mkdirSync(dir, { recursive: true });
    this.child = spawn('storescp', ['-aet', aet, '-od', dir, ...extraArgs, String(port)], { stdio: 'ignore' });
    this.exited = new Promise((r) => this.child.on('exit', () => r()));
  }

  /** Resolves once the port accepts connections. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const { connect } = await import('node:net');
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect(this.port, '127.0.0.1', () => { s.destroy(); r(true); });
        s.on('error', () => r(false));
      });
      if (ok) return;
      if (Date.now() > end) throw new Error(`storescp did not listen on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
