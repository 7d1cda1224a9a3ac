import { basename } from 'node:path';

/**
 * Names that are never inputs: files still being written under a temporary name (browser
 * downloads, SMB/Office lock and temp files) and dot files (Finder and editor droppings).
 */
export function isIgnoredName(path: string): boolean {
  const name = basename(path);
  return name.startsWith('.') || name.startsWith('~$') || /\.(part|partial|tmp|crdownload|download)$/i.test(name);
}
