import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';

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

/** Resolves once something accepts connections on the loopback port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A DICOM peer program listening on a loopback port; stopped by its own PID. */
class PeerProcess {
  readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(command: string, args: readonly string[], readonly port: number) {
    // dcmtk leaves Nagle's algorithm on unless TCP_NODELAY is set: every answer would then wait
    // for a delayed ACK (~40 ms a message).
    this.child = spawn(command, [...args], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
    this.exited = new Promise((r) => this.child.on('exit', () => r()));
  }

  ready(timeoutMs = 20_000): Promise<void> {
    return waitForPort(this.port, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** dcmtk's storescp, writing what it receives to `dir`. */
export class StoreScp extends PeerProcess {
  constructor(port: number, readonly dir: string, aet = 'DEST', extraArgs: readonly string[] = []) {
    mkdirSync(dir, { recursive: true });
    super('storescp', ['-aet', aet, '-od', dir, ...extraArgs, String(port)], port);
  }
}

/** Orthanc (Debian package) as the PACS: a minimal JSON config, storage in a temp folder. */
export class OrthancPacs extends PeerProcess {
  constructor(readonly dir: string, port: number, aet: string, modalities: Record<string, [string, string, number]>) {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'orthanc.json');
    writeFileSync(config, JSON.stringify({
      Name: 'deid-agent-test-pacs', StorageDirectory: join(dir, 'db'), IndexDirectory: join(dir, 'db'),
      DicomAet: aet, DicomPort: port, HttpServerEnabled: false, HttpPort: 0, RemoteAccessAllowed: false,
      AuthenticationEnabled: false, Plugins: [], DicomCheckCalledAet: false, DicomAlwaysAllowEcho: true,
      DicomAlwaysAllowStore: true, DicomCheckModalityHost: false, DicomModalities: modalities,
    }));
    super('Orthanc', [config], port);
  }
}

/**
 * An association profile for storescp (`-xf FILE PROFILE`) that accepts CT and MR storage in
 * explicit VR big endian and nothing else: storescp's command line can only prefer big endian
 * (+xb), and it would then still accept the little-endian syntaxes the agent offers first.
 */
export const BIG_ENDIAN_ONLY_PROFILE = `[[TransferSyntaxes]]
[BigEndianOnly]
TransferSyntax1 = BigEndianExplicit

[[PresentationContexts]]
[BigEndianStorage]
PresentationContext1 = CTImageStorage\\BigEndianOnly
PresentationContext2 = MRImageStorage\\BigEndianOnly

[[Profiles]]
[BigEndianOnly]
PresentationContexts = BigEndianStorage
`;
