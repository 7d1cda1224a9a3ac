import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeAtomically } from '../fs/atomic-write.js';
import { type StoreData, storeSchema } from './store-schema.js';

/** Why the store cannot be used. Never reset silently: the crosswalk cannot be rebuilt. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[store] ${message}`, options);
    this.name = 'StoreError';
  }
}

/**
 * lowdb adapter for the project store: validated on read, and written durably (temp file with
 * mode 0600, fsync, rename, fsync of the directory), because a pseudonym must be on disk before
 * any output that carries it exists. lowdb's own JSONFile renames but neither syncs nor sets a mode.
 */
export class SecureJsonFile implements Adapter<StoreData> {
  constructor(readonly path: string) {}

  async read(): Promise<StoreData | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreError(`cannot read ${this.path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new StoreError(`${this.path} is corrupt: not valid JSON. Restore it from backup; it is never reset automatically.`, { cause: e });
    }
    const parsed = storeSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? issue.path.join('.') || '(root)' : '(root)';
      throw new StoreError(`${this.path} is corrupt or of an unknown format at '${where}': ${issue?.message ?? 'invalid'}. Restore it from backup.`);
    }
    return parsed.data;
  }

  async write(data: StoreData): Promise<void> {
    await writeAtomically(this.path, [Buffer.from(`${JSON.stringify(data, null, 1)}\n`, 'utf8')], 0o600);
  }
}
