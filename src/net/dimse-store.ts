import dimse from 'dcmjs-dimse';
import { events, runAssociation } from './dimse-association.js';
import { type InstanceInfo, datasetBytes, describeInstance } from '../dicom/dataset-stream.js';
import { type StreamableDataset, streamingSend } from './dimse-stream-send.js';

const { Client, Dataset, requests, constants } = dimse;
// The library logs associations and errors to the console; the agent's own JSON log says what matters.
dimse.log.setLevel('silent');

export interface StoreTarget {
  readonly host: string;
  readonly port: number;
  readonly calledAET: string;
  readonly callingAET: string;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized?: boolean };
  readonly connectTimeoutMs?: number;
  readonly associationTimeoutMs?: number;
}

/** The fate of one instance in one attempt. Reasons carry status codes and tags, no values. */
export type StoreResult =
  | { readonly kind: 'stored'; readonly status: number }
  | { readonly kind: 'failed'; readonly status: number | null; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string };

const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * PS3.4 B.2.3 / C.4.2.1.5: 0000 success, B0xx warnings count as stored. Out of resources (A7xx),
 * cancel and "resource limitation" are worth another try; every other failure (A9xx data set does
 * not match SOP class, Cxxx cannot understand, 01xx/02xx refused) is final.
 */
export function classifyStatus(status: number): StoreResult {
  if (status === 0x0000 || (status & 0xf000) === 0xb000) return { kind: 'stored', status };
  if ((status & 0xff00) === 0xa700 || status === 0xfe00 || status === 0x0213) {
    return { kind: 'retry', reason: `status ${hex(status)} (out of resources or cancelled)` };
  }
  return { kind: 'failed', status, reason: `status ${hex(status)} refused by the destination` };
}

/**
 * One instance in one transfer syntax, for dcmjs-dimse's request and presentation context
 * handling: it carries the two UIDs the library reads, and its bytes are streamed from the file
 * by our send (dimse-stream-send.ts) when its turn comes, never built whole in memory.
 *
 * dcmjs-dimse must never transcode one (it would re-encode every value, and these hold none): once
 * the association is accepted, each request is given the instance in the syntax its context was
 * accepted in (`inSyntax`, our own writer), so the library finds nothing to transcode.
 */
class StreamedDataset extends Dataset implements StreamableDataset {
  constructor(readonly instance: InstanceInfo, transferSyntaxUid: string) {
    super({ SOPClassUID: instance.sopClassUid, SOPInstanceUID: instance.sopInstanceUid }, transferSyntaxUid);
  }

  streamBytes(): AsyncIterable<Buffer> {
    return datasetBytes(this.instance, this.getTransferSyntaxUid());
  }

  /** The library's whole-buffer send must never run for these: the streaming send replaces it. */
  override getDenaturalizedDataset(): Buffer {
    throw new Error('[dicom:dimse] a streamed dataset is sent by the streaming send only');
  }

  /**
   * Nor may the library read its elements: it holds only the two UIDs. dcmjs-dimse's transcoding
   * reads them (a request still in another syntax than the accepted one, which the association
   * listener below rules out); throwing makes the library skip that request, so a data set is
   * never sent made from these two elements.
   */
  override getElements(): Record<string, unknown> {
    throw new Error('[dicom:dimse] a streamed dataset is written by our writer only, never re-encoded');
  }

  /** The same instance in another syntax it is offered in, or undefined. */
  inSyntax(uid: string): StreamedDataset | undefined {
    return this.instance.offered.includes(uid) ? new StreamedDataset(this.instance, uid) : undefined;
  }
}

/** A file that cannot be read: a file system error is not the instance's fault; only an unreadable file is final. */
function unreadable(e: unknown): StoreResult {
  // A file not there yet (queued just before its output is renamed into place), EMFILE, EIO.
  const code = (e as NodeJS.ErrnoException).code;
  return code
    ? { kind: 'retry', reason: `cannot read the de-identified file yet (${code})` }
    : { kind: 'failed', status: null, reason: `cannot read the de-identified file (${(e as Error).name})` };
}

/**
 * Sends Part 10 files to a Storage SCP; resolves with a result per path. Only each file's header
 * is read before its association opens; instances then go one after another, each read from its
 * file and streamed in PDVs of the negotiated size when its turn comes, so memory stays bounded
 * whatever the batch and instance sizes. Connection refused, association rejected or aborted,
 * a connection lost mid-transfer and timeouts give `retry` for every instance not yet answered;
 * an instance the destination accepts no syntax for is `failed`.
 */
export async function storeFiles(target: StoreTarget, paths: readonly string[]): Promise<Map<string, StoreResult>> {
  const results = new Map<string, StoreResult>();
  // dcmjs-dimse sends each request on the first accepted context of its SOP class, so every
  // association carries instances offering the same syntaxes: one association per group.
  const groups = new Map<string, InstanceInfo[]>();
  for (const path of paths) {
    try {
      const info = await describeInstance(path);
      const key = info.offered.join(' ');
      const group = groups.get(key);
      if (group) group.push(info);
      else groups.set(key, [info]);
    } catch (e) {
      results.set(path, unreadable(e));
    }
  }
  for (const group of groups.values()) {
    for (const [path, r] of await storeGroup(target, group)) results.set(path, r);
  }
  return results;
}

async function storeGroup(target: StoreTarget, group: readonly InstanceInfo[]): Promise<Map<string, StoreResult>> {
  const results = new Map<string, StoreResult>();
  const client = new Client();
  const outgoing: Array<{ request: dimse.requests.CStoreRequest; dataset: StreamedDataset }> = [];
  for (const info of group) {
    const dataset = new StreamedDataset(info, info.ownSyntax);
    const request = new requests.CStoreRequest(dataset);
    const others = info.offered.filter((uid) => uid !== info.ownSyntax);
    if (others.length > 0) request.setAdditionalTransferSyntaxes(others);
    events(request).on('response', (response: { getStatus(): number }) => {
      const status = response.getStatus();
      if (status === constants.Status.Pending) return;
      results.set(info.path, classifyStatus(status));
    });
    client.addRequest(request);
    outgoing.push({ request, dataset });
  }
  // The Client emits associationAccepted before it hands its requests to the association: each
  // gets its instance in the syntax that the context the library will send it on was accepted in.
  events(client).on('associationAccepted', (association: dimse.association.Association) => {
    for (const { request, dataset } of outgoing) {
      const uid = association.getAcceptedPresentationContextFromRequest(request)?.getAcceptedTransferSyntaxUid();
      const inSyntax = uid === undefined ? undefined : dataset.inSyntax(uid);
      // Command#setDataset (public; the typings' Mixin of Request hides what it inherits).
      if (inSyntax) (request as unknown as { setDataset(d: dimse.Dataset): void }).setDataset(inSyntax);
    }
  });

  const streaming = streamingSend({
    readError: (dataset, error, sentSome) => {
      if (!(dataset instanceof StreamedDataset)) return;
      // Part of it went out, so the file was readable: whatever stopped it is not final.
      results.set(dataset.instance.path, sentSome
        ? { kind: 'retry', reason: `cannot read the de-identified file while sending (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})` }
        : unreadable(error));
    },
  });
  const options: NonNullable<Parameters<dimse.Client['send']>[4]> = {
    connectTimeout: target.connectTimeoutMs ?? 10_000,
    associationTimeout: target.associationTimeoutMs ?? 60_000,
    pduTimeout: target.associationTimeoutMs ?? 60_000,
    ...(target.tls ? { securityOptions: target.tls } : {}),
    // The patch's option (patches/dcmjs-dimse+0.3.3.patch): data sets streamed from their files.
    dimseMessageSender: streaming.sender,
  };
  const { accepted, released, failure } = await runAssociation(client, target, options);
  // The association may end mid-send (peer gone): wait until the send has closed its file.
  await streaming.close();
  for (const { path } of group) {
    if (results.has(path)) continue;
    // Only an association that ended in an orderly release went through every request: an
    // instance with no answer then had no accepted syntax. An association that ended otherwise
    // (aborted, connection dropped mid-transfer) leaves the unanswered ones to another try.
    if (accepted && released && failure === undefined) {
      results.set(path, { kind: 'failed', status: null, reason: 'the destination accepts none of the offered transfer syntaxes for this SOP class (compressed data is not decompressed)' });
    } else {
      results.set(path, { kind: 'retry', reason: failure ?? 'association closed before a response' });
    }
  }
  return results;
}
