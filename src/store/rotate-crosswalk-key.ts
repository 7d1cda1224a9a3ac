import { resolve } from 'node:path';
import { type CrosswalkKeyRef, newMasterKey, nextKeyPathOf, promoteNextKey, writeKeyFile } from './crosswalk-key.js';
import { ProjectStore } from './project-store.js';
import { StoreError } from './secure-json-file.js';

export interface RotationOptions {
  /** For a key given by environment variable: the variable that holds the new key. */
  readonly newKeyEnv?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Replaces the crosswalk key. With a key file: a new key is written beside it (`<key>.next`, mode
 * 0600, durable), the store is re-sealed and re-indexed with it (snapshot written, journal
 * emptied), and only then is the new key moved over the old. A crash before the store is
 * rewritten leaves the old key in use; after, the next open finds the store's key in `.next` and
 * finishes the move. With an environment key, the new key comes from another variable and the
 * operator swaps the variables afterwards. Takes the store's writer lock: the agent must be stopped.
 */
export async function rotateCrosswalkKey(storePath: string, ref: CrosswalkKeyRef, options: RotationOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  if ('env' in ref && !options.newKeyEnv) throw new StoreError('the crosswalk key comes from an environment variable: name the one holding the new key with --new-key-env');
  if ('file' in ref && options.newKeyEnv) throw new StoreError('the crosswalk key is a file: the new key is drawn and written beside it (no --new-key-env)');
  let newMaster: Buffer;
  if (options.newKeyEnv) {
    const value = env[options.newKeyEnv];
    if (!value || !/^[0-9a-fA-F]{64}$/.test(value.trim())) throw new StoreError('the variable named by --new-key-env does not hold a crosswalk key (64 hex digits)');
    newMaster = Buffer.from(value.trim(), 'hex');
  } else {
    newMaster = newMasterKey();
  }
  const store = await ProjectStore.open(storePath, { key: ref, env });
  try {
    if ('file' in ref) await writeKeyFile(nextKeyPathOf(resolve(ref.file)), newMaster, true);
    await store.rotateKey(newMaster);
    if ('file' in ref) await promoteNextKey(resolve(ref.file));
  } finally {
    await store.close();
  }
}
