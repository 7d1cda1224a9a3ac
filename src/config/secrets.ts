import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { readOwnerOnlyFile } from './owner-only-file.js';
import type { SecretRef } from './schema.js';

/**
 * Reads a secret named in the config: an environment variable, or a file that only its owner
 * may read (mode 0600 or stricter, owned by this user, as ssh insists for keys; see readOwnerOnlyFile). The value never appears in an error.
 */
export async function readSecret(ref: SecretRef, key: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if ('env' in ref) {
    const value = env[ref.env];
    // Named by its key, not its name: a secret pasted as the name would otherwise be printed.
    if (value === undefined || value === '') throw new ConfigError(`${key}: the environment variable named at ${key}.env is not set`);
    return value;
  }
  const path = resolve(ref.file);
  const read = await readOwnerOnlyFile(path);
  if ('problem' in read) {
    const p = read.problem;
    throw new ConfigError(p === 'missing' ? `${key}: cannot read ${path} (ENOENT)`
      : p === 'not-a-file' ? `${key}: ${path} is not a file`
        : p === 'readable-by-others' ? `${key}: ${path} is readable by others (mode ${(read.mode ?? 0).toString(8)}); chmod 600 it`
          : p === 'owned-by-another' ? `${key}: ${path} belongs to another user; it must be this user's own (chown it)`
            : `${key}: cannot read ${path} (${p.code})`);
  }
  const text = read.text;
  return text.replace(/\r?\n$/, '');
}
