import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RemoteFile, type RemoteInbox, RemoteError } from '../cloud/remote-folder.js';
import { writeAtomically } from '../fs/atomic-write.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay } from '../sinks/backoff.js';
import { COMPLETE_MARKER, remoteTagOf, type WorkArea } from './work-area.js';

export interface CloudInboxOptions {
  /** A full listing at least this often, whatever the change feed says (feeds can miss events). */
  readonly pollIntervalMs: number;
  /** Downloads at once. */
  readonly transfers: number;
  /** How long one change-feed call may wait (Box's long-poll). */
  readonly waitMs?: number;
  /** The least time between change-feed calls (Graph's delta answers at once). */
  readonly changeIntervalMs?: number;
}

const tagOf = (id: string): string => Buffer.from(id, 'utf8').toString('hex');
const idOf = (tag: string): string => Buffer.from(tag, 'hex').toString('utf8');
const why = (e: unknown): Record<string, unknown> => (e instanceof RemoteError
  ? { status: e.status, retryable: e.retryable } : { error: (e as Error).name, code: (e as NodeJS.ErrnoException).code });

/**
 * A cloud folder as a project's source. A file is claimed on the service (moved into the agent's
 * processing folder, only if unchanged), downloaded into `stateDir` and verified, then adopted into
 * the work area as a claim tagged with its remote id; the runner processes it like any other.
 * When the claim settles, a durable ack marker is written first, then the local claim ends, then
 * the remote file is acked (deleted or archived) and the marker removed. After a crash the
 * processing folder is the to-do list: a file there with a local claim is being processed; with
 * a marker, it is acked; with neither, it is downloaded again. Nothing is acked before it settled.
 */
export class CloudInbox {
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** Remote tags with a local claim not yet acked, and those being downloaded. */
  private readonly local = new Set<string>();
  private readonly acking = new Map<string, Promise<void>>();
  private cursor: string | undefined;

  constructor(
    private readonly remote: RemoteInbox, private readonly work: WorkArea, private readonly stateDir: string,
    private readonly deliver: (claimed: string) => void, private readonly log: Logger, private readonly project: string,
    private readonly options: CloudInboxOptions,
  ) {}

  private get acksDir(): string { return join(this.stateDir, 'acks'); }
  /** Remote ids this agent is claiming or has claimed (one empty file each), until acked. */
  private get claimsDir(): string { return join(this.stateDir, 'claims'); }
  private get incomingDir(): string { return join(this.stateDir, 'incoming'); }
  private get cursorFile(): string { return join(this.stateDir, 'cursor.json'); }

  /** The change feed's position, as persisted (for status). */
  static async position(stateDir: string): Promise<string | undefined> {
    return readFile(join(stateDir, 'cursor.json'), 'utf8').then((t) => (JSON.parse(t) as { cursor?: string }).cursor, () => undefined);
  }

  /**
   * Call before the work area's own recovery: a completed archive expansion that recovery is about
   * to release counts as settled, so its remote file gets an ack marker now.
   */
  async start(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await mkdir(this.acksDir, { recursive: true, mode: 0o700 });
    await mkdir(this.claimsDir, { recursive: true, mode: 0o700 });
    await rm(this.incomingDir, { recursive: true, force: true });
    await mkdir(this.incomingDir, { recursive: true, mode: 0o700 });
    this.cursor = await CloudInbox.position(this.stateDir);
    this.pendingAcks = await readdir(this.acksDir);
    for (const name of await readdir(this.work.dir)) {
      const tag = remoteTagOf(name);
      if (!tag) continue;
      const expanded = name.endsWith('.x') && (await stat(join(this.work.dir, name, COMPLETE_MARKER)).then(() => true, () => false));
      // A completed expansion counts as settled (recovery releases it and deletes its archive).
      if (expanded) await this.mark(this.acksDir, tag);
    }
    for (const name of await readdir(this.work.dir)) {
      const tag = remoteTagOf(name);
      if (tag && !name.endsWith('.x') && !(await this.has(this.acksDir, tag))) this.local.add(tag);
    }
  }

  /** Starts claiming and acking; call once the runner can take what it delivers. */
  run(): void {
    for (const tag of this.pendingAcks) if (!this.local.has(tag)) this.kickAck(tag);
    this.pendingAcks = [];
    this.loop ??= this.loopRounds();
  }
  private pendingAcks: string[] = [];

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    await Promise.allSettled(this.acking.values());
  }

  /** Before a claim's local settlement: a remote claim's ack marker, durable. */
  async beforeSettle(claimed: string): Promise<void> {
    const tag = remoteTagOf(claimed.slice(claimed.lastIndexOf('/') + 1));
    if (tag) await this.mark(this.acksDir, tag);
  }

  /** After a claim's local settlement: the remote file is acked (retried until it is). */
  afterSettle(claimed: string): void {
    const tag = remoteTagOf(claimed.slice(claimed.lastIndexOf('/') + 1));
    if (!tag) return;
    this.local.delete(tag);
    this.kickAck(tag);
  }

  private async mark(dir: string, tag: string): Promise<void> {
    await writeAtomically(join(dir, tag), [Buffer.alloc(0)], 0o600);
  }

  private has(dir: string, tag: string): Promise<boolean> {
    return stat(join(dir, tag)).then(() => true, () => false);
  }

  /**
   * The service's own folders, made once. Not at start: a service that is down (or a folder not
   * shared yet) must not keep the agent and its other projects from starting; it is retried.
   */
  private prepared = false;
  private async prepare(): Promise<void> {
    if (this.prepared) return;
    await this.remote.prepare(this.abort.signal);
    this.prepared = true;
  }

  private kickAck(tag: string): void {
    if (this.acking.has(tag)) return;
    const run = (async () => {
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.prepare();
          await this.remote.ack({ id: idOf(tag), name: '', size: 0 }, this.abort.signal);
          await rm(join(this.acksDir, tag), { force: true });
          await rm(join(this.claimsDir, tag), { force: true });
          return;
        } catch (e) {
          if (this.stopped) return; // the marker stays: acked at the next start
          this.log.warn({ project: this.project, source: this.remote.label, ...why(e) }, 'cannot ack a settled input; will retry');
          await sleep(backoffDelay(attempt, 1000, 60_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
        }
      }
    })().finally(() => this.acking.delete(tag));
    this.acking.set(tag, run);
  }

  private async loopRounds(): Promise<void> {
    let nextListing = 0;
    for (let failures = 0; !this.stopped;) {
      const began = Date.now();
      try {
        await this.prepare();
        // The processing folder first: claims of a crashed run, and downloads that failed.
        await this.take(this.remote.claimed(this.abort.signal), false);
        const feed = await this.remote.changes(this.cursor, this.options.waitMs ?? 30_000, this.abort.signal);
        if (feed.cursor !== this.cursor) {
          this.cursor = feed.cursor;
          await writeAtomically(this.cursorFile, [Buffer.from(JSON.stringify({ cursor: feed.cursor }))], 0o600);
        }
        if (feed.changed || Date.now() >= nextListing) {
          nextListing = Date.now() + this.options.pollIntervalMs;
          await this.take(this.remote.list(this.abort.signal), true);
        }
        failures = 0;
        const rest = (this.options.changeIntervalMs ?? 5_000) - (Date.now() - began);
        if (rest > 0) await sleep(rest, undefined, { signal: this.abort.signal });
      } catch (e) {
        if (this.stopped) return;
        failures += 1;
        this.log.warn({ project: this.project, source: this.remote.label, ...why(e) }, 'cloud inbox unreachable; will retry');
        await sleep(backoffDelay(failures, 1000, 300_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  /** Claims (when `claim`) and downloads files, `transfers` at a time; each becomes a local claim. */
  private async take(files: AsyncIterable<RemoteFile>, claim: boolean): Promise<void> {
    const lanes = new Set<Promise<void>>();
    try {
      for await (const file of files) {
        if (this.stopped) break;
        const tag = tagOf(file.id);
        if (this.local.has(tag) || this.acking.has(tag) || (this.failing.get(tag)?.nextAt ?? 0) > Date.now()) continue;
        if (!claim) {
          // The processing folder may be shared (another agent, another project on the same
          // folder): only the claims this agent recorded are its own to resume.
          if (!(await this.has(this.claimsDir, tag))) continue;
          if (await this.has(this.acksDir, tag)) {
            this.kickAck(tag);
            continue;
          }
        }
        this.local.add(tag);
        const lane: Promise<void> = this.materialize(file, tag, claim).finally(() => lanes.delete(lane));
        lanes.add(lane);
        if (lanes.size >= this.options.transfers) await Promise.race(lanes);
      }
    } finally {
      // Even when the listing fails midway: a round never leaves transfers running behind it.
      await Promise.all(lanes);
    }
  }

  /** Inputs that could not be taken, by tag: retried with backoff (a bad digest, a refused download). */
  private readonly failing = new Map<string, { attempts: number; nextAt: number }>();

  private async materialize(file: RemoteFile, tag: string, claim: boolean): Promise<void> {
    let adopted = false;
    try {
      let mine: RemoteFile | undefined = file;
      if (claim) {
        // Recorded before the move: a claim this agent made is never left without its record.
        await this.mark(this.claimsDir, tag);
        mine = await this.remote.claim(file, this.abort.signal);
        if (!mine) {
          await rm(join(this.claimsDir, tag), { force: true });
          return; // taken or changed meanwhile: the next listing sees it again
        }
      }
      const part = join(this.incomingDir, `${tag}.part`);
      await this.remote.download(mine, part, this.abort.signal);
      const claimed = await this.work.adopt(part, tag);
      adopted = true;
      this.log.info({ project: this.project, claim: claimed.slice(claimed.lastIndexOf('/') + 1), via: this.remote.label }, 'claimed');
      this.failing.delete(tag);
      this.deliver(claimed);
    } catch (e) {
      // Left in the processing folder (or the inbox): taken again later, backing off per input
      // (5 s doubling to an hour), so one input that always fails costs little and is reported.
      if (!this.stopped) {
        const attempts = (this.failing.get(tag)?.attempts ?? 0) + 1;
        this.failing.set(tag, { attempts, nextAt: Date.now() + backoffDelay(attempts, 5_000, 3_600_000) });
        this.log[attempts >= 5 ? 'error' : 'warn']({ project: this.project, source: this.remote.label, attempts, ...why(e) }, 'cannot take a cloud input now; will retry');
      }
    } finally {
      if (!adopted) this.local.delete(tag);
    }
  }
}
