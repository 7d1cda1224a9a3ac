// The two ways bytes reach Box. Small files: one multipart POST with Content-MD5 carrying the
// caller's SHA-1 (Box's name for it), so Box refuses bytes that are not what the caller hashed.
// (The SDK reads the whole stream into memory before sending, which the threshold bounds.)
// Large files: an upload session driven here, one part in memory at a time. Not the SDK's
// uploadBigFile: it crashes on a 202 commit and reads the file without bounds.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BoxClient } from 'box-node-sdk';
import type { UploadPart } from 'box-node-sdk/schemas';
import { RemoteError } from '../remote-folder.js';

/** Where the bytes go: a new file in a folder, or a new version of an existing file. */
export type UploadTarget = { readonly folderId: string; readonly name: string } | { readonly fileId: string; readonly name: string };

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

export async function uploadSmall(client: BoxClient, target: UploadTarget, from: string, sha1: string, signal?: AbortSignal): Promise<void> {
  const file = createReadStream(from);
  const optionals = { headers: { contentMd5: sha1 }, queryParams: { fields: ['id'] }, cancellationToken: signal };
  try {
    if ('fileId' in target) await client.uploads.uploadFileVersion(target.fileId, { attributes: { name: target.name }, file }, optionals);
    else await client.uploads.uploadFile({ attributes: { name: target.name, parent: { id: target.folderId } }, file }, optionals);
  } finally {
    file.destroy();
  }
}

/** Reads exactly `length` bytes at `position` (a short read means the file shrank under us). */
async function readPart(handle: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new RemoteError('box upload: the local file is shorter than its size', false);
    filled += bytesRead;
  }
  return buf;
}

/**
 * Bounds on the part size an upload session may ask for. Each part is read into a buffer of that
 * size, and the number comes from the server: a huge one (a broken or hostile endpoint) would make
 * us allocate it, a tiny one (0, 1 byte) would loop for ever or send millions of requests. Box's
 * own part sizes are a few MiB to a few tens of MiB; the lower bound leaves room for test fakes.
 */
export const MIN_PART_SIZE = 256 * 1024;
export const MAX_PART_SIZE = 128 * 1024 * 1024;

export async function uploadChunked(client: BoxClient, target: UploadTarget, from: string, size: number, sha1: string, signal?: AbortSignal): Promise<void> {
  const opts = { cancellationToken: signal };
  const session =
    'fileId' in target
      ? await client.chunkedUploads.createFileUploadSessionForExistingFile(target.fileId, { fileSize: size, fileName: target.name }, opts)
      : await client.chunkedUploads.createFileUploadSession({ folderId: target.folderId, fileSize: size, fileName: target.name }, opts);
  const sessionId = session.id;
  const partSize = session.partSize;
  if (!sessionId || !partSize) throw new RemoteError('box upload: the upload session answer lacks id or part size', true);
  const totalParts = session.totalParts;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE || (totalParts !== undefined && totalParts !== Math.ceil(size / partSize))) {
    await client.chunkedUploads.deleteFileUploadSessionById(sessionId).catch(() => undefined);
    // Not retryable: Box derives the part size from the file size, so it would answer the same again.
    throw new RemoteError('box upload: the upload session asks for an unusable part size', false);
  }
  const handle = await open(from, 'r');
  let committing = false;
  try {
    const whole = createHash('sha1');
    const parts: UploadPart[] = [];
    for (let offset = 0; offset < size; offset += partSize) {
      const chunk = await readPart(handle, offset, Math.min(partSize, size - offset));
      whole.update(chunk);
      const digest = `sha=${createHash('sha1').update(chunk).digest('base64')}`;
      const contentRange = `bytes ${offset}-${offset + chunk.length - 1}/${size}`;
      const uploaded = await client.chunkedUploads.uploadFilePart(sessionId, Readable.from([chunk]), { digest, contentRange }, opts);
      if (!uploaded.part) throw new RemoteError('box upload: a part answer lacks the part', true);
      parts.push(uploaded.part);
    }
    // Refuse to commit bytes other than the ones the caller vouched for.
    if (whole.digest('hex') !== sha1.toLowerCase()) throw new RemoteError('box upload: the local file does not match its SHA-1', false);
    committing = true;
    const files = await client.chunkedUploads.createFileUploadSessionCommit(sessionId, { parts }, { digest: `sha=${b64(sha1)}` }, opts);
    // Still 202 after the retry strategy's waits: the parts are not processed yet. The session is
    // left to finish; the next put finds the file (same SHA-1: stored) or starts over.
    if (files === undefined) throw new RemoteError('box upload: commit not ready', true, 202, 5000);
  } catch (e) {
    // Best effort: free the session's parts, unless a commit may have gone through.
    if (!committing) await client.chunkedUploads.deleteFileUploadSessionById(sessionId).catch(() => undefined);
    throw e;
  } finally {
    await handle.close();
  }
}
