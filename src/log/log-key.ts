import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeAtomically } from '../fs/atomic-write.js';

/**
 * Identifiers for inputs in logs: an HMAC of the input's path under the inbox with a secret of this
 * installation, kept beside the store (`<store>.logkey`, mode 0600). A plain hash of a folder name
 * like `DOE_JANE` could be confirmed by hashing guesses; without the key it cannot.
 */
export type InputId = (pathInInbox: string) => string;

const keyed = (key: Buffer): InputId => (pathInInbox) => createHmac('sha256', key).update(pathInInbox).digest('hex').slice(0, 12);

/** For a run without a store beside it: identifiers stable within the run only. */
export const ephemeralInputId = (): InputId => keyed(randomBytes(32));

/** The installation's key, created on first use. */
export async function loadLogKey(storePath: string): Promise<InputId> {
  const path = `${storePath}.logkey`;
  let hex = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    hex = randomBytes(32).toString('hex');
    await writeAtomically(path, [Buffer.from(`${hex}\n`)], 0o600);
  }
  return keyed(Buffer.from(hex, 'hex'));
}
