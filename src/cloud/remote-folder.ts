// What the agent needs of a cloud folder service (Box, SharePoint/OneDrive through Graph), as an
// inbox and as an outbox. The source and sink lifecycles (src/sources/cloud-inbox.ts,
// src/sinks/cloud-outbox.ts) are written once against these two interfaces; each service
// implements them in its own room (src/cloud/box/, src/cloud/graph/).

/** A file in a remote folder. Names may hold PHI: they never reach a log, an error or a local name. */
export interface RemoteFile {
  /** The service's id for the file; stable across moves and renames. Not PHI. */
  readonly id: string;
  /** The file's name (may hold PHI). */
  readonly name: string;
  readonly size: number;
  /** Concurrency token (Box etag, Graph eTag): a claim moves the file only if it is unchanged. */
  readonly etag?: string;
  /** What the service says the content hashes to, checked after download (Box: SHA-1; Graph: quickXorHash or SHA-1). */
  readonly digest?: { readonly algorithm: 'sha1' | 'quickXorHash'; readonly value: string };
}

/** What a change feed says since its cursor. */
export interface RemoteChanges {
  /** The position to persist and pass next time (Box stream position, Graph deltaLink). */
  readonly cursor: string;
  /** Something may have changed: list the inbox. False when the wait ended with nothing new. */
  readonly changed: boolean;
}

/**
 * A remote inbox folder. The agent owns two folders of its own beside the files it takes: a
 * processing folder (claimed files, the to-do list after a crash) and, when acks archive, an
 * archive folder. Both are excluded from `list`.
 */
export interface RemoteInbox {
  /** For logs and status: the service and the folder's id or path (no names of files). */
  readonly label: string;
  /** Makes sure the processing (and archive) folders exist; call once before the rest. */
  prepare(signal?: AbortSignal): Promise<void>;
  /** Every file under the inbox folder, nested folders included, except the agent's own folders. */
  list(signal?: AbortSignal): AsyncIterable<RemoteFile>;
  /**
   * Waits up to about `waitMs` for a change after `cursor` (undefined: start a feed at "now" and
   * return its cursor with changed = true, so the caller lists once). Box: the events long-poll;
   * Graph: the delta query (which does not wait: it answers at once). A cursor the service no
   * longer knows (Graph 410) answers changed = true with a fresh cursor.
   */
  changes(cursor: string | undefined, waitMs: number, signal?: AbortSignal): Promise<RemoteChanges>;
  /**
   * Claims `file`: moves it into the processing folder, only if unchanged (If-Match on its etag),
   * under a name that cannot clash (its id is part of it). Undefined when it is gone or changed
   * (someone else took it, or it is still being replaced): the next listing sees it again.
   */
  claim(file: RemoteFile, signal?: AbortSignal): Promise<RemoteFile | undefined>;
  /** The files in the processing folder: claims of an earlier run that were not acked. */
  claimed(signal?: AbortSignal): AsyncIterable<RemoteFile>;
  /**
   * Streams the file's content into the local file at `to` (created or truncated, fsynced), and
   * checks it against `file.digest` when there is one: a mismatch throws a RemoteError (retry).
   */
  download(file: RemoteFile, to: string, signal?: AbortSignal): Promise<void>;
  /** Ends a settled claim: deletes (to the trash) or moves to the archive folder, per config. Gone already: fine. */
  ack(file: RemoteFile, signal?: AbortSignal): Promise<void>;
}

/** What became of one upload. */
export type PutResult =
  | { readonly kind: 'stored' }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'failed'; readonly reason: string };

/** A remote outbox folder. */
export interface RemoteOutbox {
  readonly label: string;
  /**
   * Uploads the local file `from` to `relativePath` ('/'-separated, under the outbox folder; its
   * folders made as needed). Streams (never holds the file whole); small files in one request,
   * large ones through an upload session. Idempotent: a file already there with the same SHA-1
   * counts as stored; a different one is a conflict, answered per `onConflict` (default 'fail').
   * Never throws for what the service answers: a retryable answer (429, 503, 5xx, a dropped
   * connection, an expired token that could not be renewed) is `retry`, with Retry-After when given.
   */
  put(relativePath: string, from: string, sha1: string, signal?: AbortSignal): Promise<PutResult>;
}

/** How a put treats a different file already at the target path. */
export type ConflictPolicy = 'fail' | 'replace';

/** An error from a remote service; `retryable` says whether the same call may succeed later. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(message: string, readonly retryable: boolean, readonly status?: number, readonly retryAfterMs?: number, options?: ErrorOptions) {
    super(message, options);
  }
}
