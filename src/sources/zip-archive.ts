import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { syncDirectory, writeAtomically } from '../fs/atomic-write.js';
import { COMPLETE_MARKER } from './work-area.js';

export interface ZipLimits {
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxTotalBytes: 64 * 1024 ** 3 };

/** Zip local-file or empty-archive signature. */
export async function isZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
  } finally {
    await fh.close();
  }
}

export class ZipRefused extends Error {
  constructor(reason: string) {
    super(`zip refused: ${reason}`);
    this.name = 'ZipRefused';
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Archive metadata that is not an input: macOS resource forks and dot files. */
const isJunkEntry = (name: string): boolean => name.startsWith('__MACOSX/') || name.split('/').some((part) => part.startsWith('.'));

/**
 * Expands a zip into `staging` (entries numbered, never named after their paths) and marks it
 * complete. The whole archive is refused, before anything is kept, when any entry is a link,
 * escapes its folder (zip slip: `..` or an absolute path) or the limits are passed.
 */
export async function expandZip(zipPath: string, staging: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<number> {
  await mkdir(staging, { recursive: true, mode: 0o700 });
  let zip: yauzl.ZipFile;
  try {
    // yauzl refuses absolute paths, '..' segments and backslashes in names (strictFileNames).
    zip = await new Promise((resolve, reject) => yauzl.open(zipPath, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, autoClose: true }, (e, z) => (e ? reject(e) : resolve(z))));
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw new ZipRefused(`unreadable archive (${(e as Error).message.replace(/".*"/, '<name>')})`);
  }
  let count = 0;
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          if (mode === S_IFLNK) throw new ZipRefused('an entry is a symbolic link');
          if (entry.fileName.endsWith('/') || isJunkEntry(entry.fileName)) return;
          count += 1;
          total += entry.uncompressedSize;
          if (count > limits.maxEntries) throw new ZipRefused(`more than ${limits.maxEntries} entries`);
          if (total > limits.maxTotalBytes) throw new ZipRefused(`more than ${limits.maxTotalBytes} bytes uncompressed`);
          const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(entry, (e, s) => (e ? rej(e) : res(s))));
          const target = join(staging, String(count).padStart(8, '0'));
          await pipeline(stream, createWriteStream(target, { mode: 0o600, flags: 'wx' }));
          const fh = await open(target, 'r+');
          try {
            await fh.sync(); // on disk before the completion marker lets the archive go
          } finally {
            await fh.close();
          }
        })().then(() => zip.readEntry(), (e: unknown) => {
          zip.close();
          reject(e);
        });
      });
      zip.readEntry();
    });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (e instanceof ZipRefused) throw e;
    // A system error (ENOSPC writing an entry, EIO reading the archive) is the moment's, not the
    // archive's: it goes up as it is, and the archive waits (see pipeline/transient.ts).
    if (typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall !== undefined) throw e;
    // yauzl's messages quote entry names, which may hold patient names: keep only their gist.
    const gist = (e as Error).message.replace(/"[^"]*"|: .*$/g, '').trim();
    throw new ZipRefused(gist.includes('invalid') || gist.includes('absolute') || gist.includes('relative') ? `an entry escapes the archive (${gist})` : `bad archive (${gist})`);
  }
  // The entries' names, then the marker, each on disk before the next step relies on them: once
  // the marker is durable the archive is deleted, and the entries are all that is left of it.
  await syncDirectory(staging);
  await writeAtomically(join(staging, COMPLETE_MARKER), [], 0o600);
  return count;
}
