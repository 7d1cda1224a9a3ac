import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { RemoteOutbox } from '../cloud/remote-folder.js';
import { asciiValue } from '../dicom/dataset.js';
import { readDicomFile } from '../dicom/read-file.js';
import { Tags } from '../dicom/tag.js';
import type { Sink, SinkResult } from './sink.js';

/** Path parts the agent itself wrote (a pseudonym, UIDs): anything else is refused, never uploaded. */
const SAFE_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The SHA-1 of a file, streamed (the services check uploads against it). */
export async function sha1Of(path: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Where an instance goes in a cloud outbox: the outbox layout, `PSEUDONYM/study/series/instance.dcm`,
 * read back from the de-identified file itself (the ledger keeps only its SOP Instance UID).
 */
export async function outboxPathOf(path: string): Promise<string | undefined> {
  const file = await readDicomFile(path);
  const parts = [Tags.PatientID, Tags.StudyInstanceUID, Tags.SeriesInstanceUID, Tags.SOPInstanceUID].map((t) => asciiValue(file.dataset, t)?.trim());
  if (!parts.every((p): p is string => p !== undefined && SAFE_PART.test(p))) return undefined;
  return `${parts.slice(0, 3).join('/')}/${parts[3]}.dcm`;
}

/**
 * A cloud folder as a sink: each file of a batch is uploaded under the outbox layout, `transfers`
 * at a time, streamed from the ledger's copy. Idempotent through the service: the same content
 * already there counts as stored.
 */
export function createRemoteOutboxSink(remote: RemoteOutbox, transfers: number): Sink {
  const putOne = async (path: string, signal?: AbortSignal): Promise<SinkResult> => {
    let target: string | undefined;
    try {
      target = await outboxPathOf(path);
    } catch (e) {
      return { kind: 'failed', reason: `cannot read the queued instance (${(e as NodeJS.ErrnoException).code ?? (e as Error).name})` };
    }
    if (!target) return { kind: 'failed', reason: 'the queued instance lacks a safe pseudonym or UID for its path' };
    return remote.put(target, path, await sha1Of(path), signal);
  };
  return {
    label: remote.label,
    batchSize: transfers * 4,
    async put(paths, signal) {
      const results = new Map<string, SinkResult>();
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let i = next++; i < paths.length && !signal?.aborted; i = next++) {
          const path = paths[i] as string;
          results.set(path, await putOne(path, signal).catch((e: unknown): SinkResult => ({ kind: 'retry', reason: `${(e as Error).name}${(e as NodeJS.ErrnoException).code ? ` ${(e as NodeJS.ErrnoException).code}` : ''}` })));
        }
      };
      await Promise.all(Array.from({ length: Math.min(transfers, paths.length) }, lane));
      return results;
    },
  };
}
