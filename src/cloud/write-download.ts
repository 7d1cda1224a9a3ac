import type { FileHandle } from 'node:fs/promises';
import { RemoteError } from './remote-folder.js';

/**
 * Writes a download's body to `out`, feeding each chunk to `hash`, and answers the byte count.
 * Chunks are gathered into writes of about 1 MiB, each awaited (the socket is not read faster
 * than the disk takes the bytes): a write per 64 KiB chunk is a thread-pool round trip each, which
 * held a 1 GB download to ~60 MB/s here. A body longer than `size` (a hostile or broken server
 * would fill the disk) stops at once with a retryable RemoteError naming `what`.
 */
export async function writeDownload(body: AsyncIterable<Uint8Array>, out: FileHandle, size: number, hash: (chunk: Uint8Array) => void, what: string): Promise<number> {
  let bytes = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > size) throw new RemoteError(`${what}: longer than the ${size} bytes announced`, true);
    hash(chunk);
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= 1024 * 1024) {
      await out.writev(pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length > 0) await out.writev(pending);
  return bytes;
}
