import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The native addon (src/native/kernel_copy.c), built by `npm run build:native` on install. */
interface KernelCopyAddon {
  copyRange(inFd: number, inOffset: number, outFd: number, length: number): Promise<[copied: number, errno: number]>;
}

// From dist/src/fs/ (built) or src/fs/ (tests run on sources) alike: the package root is three or two levels up.
const ADDON_CANDIDATES = ['../../../src/native/build/Release/kernel_copy.node', '../../src/native/build/Release/kernel_copy.node'];

function loadAddon(): KernelCopyAddon | undefined {
  if (process.platform !== 'linux') return undefined;
  const require = createRequire(import.meta.url);
  for (const candidate of ADDON_CANDIDATES) {
    try {
      return require(fileURLToPath(new URL(candidate, import.meta.url))) as KernelCopyAddon;
    } catch {
      // not there: try the next layout
    }
  }
  return undefined;
}

const addon = loadAddon();

/** Whether in-kernel copying is available here (Linux, addon built). */
export const kernelCopyAvailable = addon !== undefined;

/**
 * Copies up to `length` bytes at `offset` of `from` to `out`'s current position, in the kernel
 * (copy_file_range), and returns how many it copied: fewer than `length` when the kernel cannot
 * (another file system, an old kernel) or the source ends early. The caller copies the rest.
 * `out`'s position advances by the bytes copied, so sequential writes continue after them.
 */
export async function kernelCopy(from: FileHandle, out: FileHandle, offset: number, length: number): Promise<number> {
  if (!addon || length <= 0) return 0;
  const [copied] = await addon.copyRange(from.fd, offset, out.fd, length);
  return copied;
}
