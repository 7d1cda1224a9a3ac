import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARE_MARKER } from '../../src/fs/share-folder.js';

/** A folder as a mounted share looks to the agent: made if missing, with the share marker in it. */
export function makeShare(path: string): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, SHARE_MARKER), '');
  return path;
}
