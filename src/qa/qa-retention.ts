import { link, mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { copyFileAtomically } from '../fs/atomic-write.js';

/**
 * A cloud outbox's spool is emptied once every sink has an output, so the sample of a day's
 * deliveries would be gone before anyone looked. Before the spool copy goes, the output is kept
 * for QA under `retained/` at the same relative path: a hard link (no bytes copied; the spool
 * and the store usually share a disk), or a durable copy across file systems. These are
 * de-identified outputs only, what the researcher receives; they are pruned after `retainDays`.
 */
export async function retainForQa(outputPath: string, outbox: string, retained: string): Promise<void> {
  const target = join(retained, relative(outbox, outputPath));
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  // A redone input writes the same output again: the newer bytes stand.
  await rm(target, { force: true });
  try {
    await link(outputPath, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFileAtomically(outputPath, target, 0o600, join(retained, '.tmp'));
  }
}

/**
 * Removes retained outputs older than `retainDays` (by their write time) and the folders left
 * empty; returns how many went. Run at the agent's start and every few hours: its cost is one
 * stat per retained file, bounded by what `retainDays` keeps.
 */
export async function pruneRetained(retained: string, retainDays: number, now: Date = new Date()): Promise<number> {
  const cutoff = now.getTime() - retainDays * 86_400_000;
  let removed = 0;
  const visit = async (dir: string): Promise<boolean> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    let empty = true;
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (await visit(path)) continue;
        empty = false;
      } else {
        const st = await stat(path).catch(() => undefined);
        if (st && st.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed += 1;
        } else {
          empty = false;
        }
      }
    }
    return empty && dir !== retained && (await rmdir(dir).then(() => true, () => false));
  };
  await visit(retained);
  return removed;
}
