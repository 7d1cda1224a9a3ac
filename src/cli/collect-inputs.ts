import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * Regular files under the given paths, recursing into folders, in a stable order (so pseudonym
 * indexes are assigned the same way on every run). Symbolic links are not followed. A file named
 * twice (a folder and a file in it) is one input, at its first place. `onFound` hears the count
 * so far (a progress display while a large tree is listed).
 */
export async function collectInputs(paths: readonly string[], onFound?: (count: number) => void): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const name of entries) await visit(join(p, name));
    } else if (st.isFile() && !seen.has(resolve(p))) {
      seen.add(resolve(p));
      files.push(p);
      onFound?.(files.length);
    }
  };
  for (const p of paths) await visit(p);
  return files;
}
