import { type FileHandle, open, readFile } from 'node:fs/promises';
import { writeAtomically } from '../fs/atomic-write.js';
import { writeAll } from '../fs/file-io.js';
import { StoreError } from './secure-json-file.js';

const code = (e: unknown): string => (e as NodeJS.ErrnoException | undefined)?.code ?? 'error';

/**
 * The journal's file: `<store>.journal`, mode 0600 (it holds names and IDs, like the store). All
 * its I/O goes through this class, so that tests can subclass it to count, pause or fail appends
 * and replacements, as they do with the snapshot's lowdb adapter.
 */
export class JournalFile {
  private handle: FileHandle | undefined;

  constructor(readonly path: string) {}

  /** The journal's bytes, or null when there is none. */
  async read(): Promise<Buffer | null> {
    try {
      return await readFile(this.path);
    } catch (e) {
      if (code(e) === 'ENOENT') return null;
      throw new StoreError(`cannot read ${this.path} (${code(e)})`, { cause: e });
    }
  }

  /**
   * Opens the journal for appending. Bytes past `length` are a torn append that was never
   * acknowledged: they are cut off (durably) so that the next append starts on a line of its own.
   */
  async openForAppend(length: number): Promise<void> {
    await this.close();
    const fh = await open(this.path, 'a', 0o600);
    try {
      const { size } = await fh.stat();
      if (size > length) {
        await fh.truncate(length);
        await fh.sync();
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    this.handle = fh;
  }

  /** Appends whole lines and makes them durable: one write, one fdatasync (the group commit's unit). */
  async append(bytes: Buffer): Promise<void> {
    if (!this.handle) throw new StoreError(`${this.path} is not open`);
    await writeAll(this.handle, [bytes]);
    await this.handle.datasync();
  }

  /**
   * Replaces the journal by `bytes` (a new header) atomically: temporary file, fsync, rename,
   * directory fsync. A crash leaves either the old journal or the new one, never a mix.
   */
  async replace(bytes: Buffer): Promise<void> {
    await writeAtomically(this.path, [bytes], 0o600);
    await this.openForAppend(bytes.length);
  }

  async close(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    await fh?.close();
  }
}
