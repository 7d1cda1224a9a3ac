import { resolve } from 'node:path';
import { type CrosswalkKeyRef, deriveKeys, loadCrosswalkKey, nextKeyPathOf, promoteNextKey, readKeyFile } from './crosswalk-key.js';
import { StoreError } from './secure-json-file.js';
import type { StoreData } from './store-schema.js';

const where = (ref: CrosswalkKeyRef): string => ('file' in ref ? `the key file ${resolve(ref.file)}` : 'the key in crosswalkKey.env\'s variable');

/**
 * The master key that opens a store: the configured key when its check value is the store's. A
 * store that records no check value yet (new, or plaintext from format 1) takes the configured
 * key, creating a key file when there is none. A key file whose check differs may be the old half
 * of a rotation that rewrote the store but stopped before moving the new key into place: when
 * `<key>.next` is the store's key, it is the one (and with `promote`, the writer moves it there).
 */
export async function keysForStore(data: StoreData, ref: CrosswalkKeyRef, options: { promote: boolean; env?: NodeJS.ProcessEnv }): Promise<Buffer> {
  const loaded = await loadCrosswalkKey(ref, { create: data.keyCheck === undefined && options.promote, env: options.env });
  if (data.keyCheck === undefined || deriveKeys(loaded.master).check === data.keyCheck) return loaded.master;
  if (loaded.path) {
    const next = await readKeyFile(nextKeyPathOf(loaded.path));
    if (next && deriveKeys(next).check === data.keyCheck) {
      if (options.promote) await promoteNextKey(loaded.path);
      return next;
    }
  }
  throw new StoreError(
    `${where(ref)} is not the key this store is sealed with (its check value differs). Restore the store's own key: ` +
    'without it the crosswalk cannot be opened, and re-identification is lost (see README, "The crosswalk key").',
  );
}
