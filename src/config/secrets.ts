import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { SecretRef } from './schema.js';

/**
 * Reads a secret named in the config: an environment variable, or a file that only its owner
 * may read (mode 0600 or stricter, as ssh insists for keys). The value never appears in an error.
 */
export async function readSecret(ref: SecretRef, key: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if ('env' in ref) {
    const value = env[ref.env];
    // Named by its key, not its name: a secret pasted as the name would otherwise be printed.
    if (value === undefined || value === '') throw new ConfigError(`${key}: the environment variable named at ${key}.env is not set`);
    return value;
  }
  const path = resolve(ref.file);
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new ConfigError(`${key}: cannot read ${path} (${e.code ?? 'error'})`, { cause: e });
  });
  if (!st.isFile()) throw new ConfigError(`${key}: ${path} is not a file`);
  if ((st.mode & 0o077) !== 0) {
    throw new ConfigError(`${key}: ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const text = await readFile(path, 'utf8');
  return text.replace(/\r?\n$/, '');
}
