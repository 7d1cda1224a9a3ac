import { open } from 'node:fs/promises';

/** Why an owner-only file cannot be used; the caller words the error (config or store). */
export type OwnerOnlyProblem = 'missing' | 'not-a-file' | 'readable-by-others' | 'owned-by-another' | { readonly code: string };

/**
 * Reads a file that must be its owner's alone (a key, a passphrase, a client secret), as ssh
 * insists for keys. The checks are made on the file actually opened (fstat of the handle), not
 * on a path looked up before: a link swapped in between cannot pass another file off. A link
 * to an owner-only file is followed (secret mounts are often links); the file it reaches must
 * be a regular file of mode 0600 or stricter, owned by the user this process runs as.
 */
export async function readOwnerOnlyFile(path: string): Promise<{ text: string } | { problem: OwnerOnlyProblem; mode?: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { problem: code === 'ENOENT' ? 'missing' : { code } };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { problem: 'not-a-file' };
    if ((st.mode & 0o077) !== 0) return { problem: 'readable-by-others', mode: st.mode & 0o777 };
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) return { problem: 'owned-by-another' };
    return { text: await fh.readFile('utf8') };
  } finally {
    await fh.close();
  }
}
