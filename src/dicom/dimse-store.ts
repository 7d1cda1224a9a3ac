import dimse from 'dcmjs-dimse';
import { events, runAssociation } from './dimse-association.js';
import { asciiValue } from './dataset.js';
import { readDicomFile } from './read-file.js';
import { Tags } from './tag.js';
import { EXPLICIT_BIG, EXPLICIT_LITTLE, IMPLICIT_LITTLE, transferSyntaxFor } from './transfer-syntax.js';
import { deflateDataset, serializeDataset } from './write.js';

const { Client, Dataset, Transcoding, requests, constants } = dimse;
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

/** A dataset already encoded by deid-agent's own writer: sent as bytes, never re-encoded by dcmjs. */
class EncodedDataset extends Dataset {
  constructor(sopClassUid: string, sopInstanceUid: string, private readonly encodings: ReadonlyMap<string, Buffer>, transferSyntaxUid: string) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, transferSyntaxUid);
  }

  override getDenaturalizedDataset(): Buffer {
    const bytes = this.encodings.get(this.getTransferSyntaxUid());
    if (!bytes) throw new Error(`[dicom:dimse] no encoding in ${this.getTransferSyntaxUid()}`);
    return bytes;
  }

  /** The syntaxes this instance can be sent in: its own first, then the rest in a fixed order. */
  offered(): string[] {
    const own = this.getTransferSyntaxUid();
    return [own, ...[EXPLICIT_LITTLE, IMPLICIT_LITTLE, EXPLICIT_BIG].filter((u) => u !== own && this.encodings.has(u))];
  }

  /** The same instance in another syntax we produced ourselves, or undefined. */
  inSyntax(uid: string): EncodedDataset | undefined {
    if (!this.encodings.has(uid)) return undefined;
    const copy = new EncodedDataset(this.getElement('SOPClassUID') ?? '', this.getElement('SOPInstanceUID') ?? '', this.encodings, uid);
    return copy;
  }
}

// Switching syntax must not go through dcmjs (it re-encodes every value): an EncodedDataset
// carries its own encodings; it offers only those, so anything else means no common syntax.
let transcodingPatched = false;
function patchTranscoding(): void {
  if (transcodingPatched) return;
  transcodingPatched = true;
  const original = Transcoding.transcodeDataset.bind(Transcoding);
  (Transcoding as unknown as { transcodeDataset: typeof original }).transcodeDataset = (dataset, uid, opts) => {
    if (dataset instanceof EncodedDataset) {
      const other = dataset.inSyntax(uid);
      if (!other) throw new Error(`[dicom:dimse] cannot transcode to ${uid}`);
      return other;
    }
    return original(dataset, uid, opts);
  };
}

const NATIVE = [EXPLICIT_LITTLE, IMPLICIT_LITTLE, EXPLICIT_BIG];

/**
 * Prepares a Part 10 file for sending: its dataset bytes in its own transfer syntax (deflated
 * again when it was deflated) and, for uncompressed data, in the native syntaxes too (headers
 * rewritten, binary values byte-swapped where the order changes). Compressed data is offered
 * only as it is: without a codec we do not decode. The file is held in memory while it is sent.
 */
async function encodedInstance(path: string): Promise<EncodedDataset> {
  const file = await readDicomFile(path, { inMemory: true });
  const encode = (uid: string): Buffer => {
    const ts = transferSyntaxFor(uid);
    const bytes = Buffer.concat(serializeDataset(file.dataset, ts, file.encoding).map((c) => {
      if (Buffer.isBuffer(c)) return c;
      throw new Error('[dicom:dimse] an in-memory dataset has no streamed ranges');
    }));
    return ts.deflated ? deflateDataset(bytes) : bytes;
  };
  const own = file.transferSyntax.uid;
  const encodings = new Map<string, Buffer>([[own, encode(own)]]);
  if (NATIVE.includes(own) || file.transferSyntax.deflated) for (const uid of NATIVE) if (!encodings.has(uid)) encodings.set(uid, encode(uid));
  const sopClass = asciiValue(file.dataset, Tags.SOPClassUID) ?? '';
  const sopInstance = asciiValue(file.dataset, Tags.SOPInstanceUID) ?? '';
  return new EncodedDataset(sopClass, sopInstance, encodings, own);
}

/**
 * Sends Part 10 files to a Storage SCP over one association; resolves with a result per path.
 * Connection refused, association rejected or aborted, and timeouts give `retry` for every
 * instance not yet answered; an instance the destination accepts no syntax for is `failed`.
 */
export async function storeFiles(target: StoreTarget, paths: readonly string[]): Promise<Map<string, StoreResult>> {
  patchTranscoding();
  const results = new Map<string, StoreResult>();
  // dcmjs-dimse sends each request on the first accepted context of its SOP class, so every
  // association carries instances offering the same syntaxes: one association per group.
  const groups = new Map<string, Array<[string, EncodedDataset]>>();
  for (const path of paths) {
    try {
      const dataset = await encodedInstance(path);
      const key = dataset.offered().join(' ');
      groups.set(key, [...(groups.get(key) ?? []), [path, dataset]]);
    } catch (e) {
      // A file system error is not the instance's fault: a file not there yet (queued just before
      // its output is renamed into place), EMFILE, EIO. Only an unreadable file is final.
      const code = (e as NodeJS.ErrnoException).code;
      results.set(path, code
        ? { kind: 'retry', reason: `cannot read the de-identified file yet (${code})` }
        : { kind: 'failed', status: null, reason: `cannot read the de-identified file (${(e as Error).name})` });
    }
  }
  for (const group of groups.values()) {
    for (const [path, r] of await storeGroup(target, group)) results.set(path, r);
  }
  return results;
}

async function storeGroup(target: StoreTarget, group: ReadonlyArray<[string, EncodedDataset]>): Promise<Map<string, StoreResult>> {
  const results = new Map<string, StoreResult>();
  const client = new Client();
  const pending: string[] = [];
  for (const [path, dataset] of group) {
    const request = new requests.CStoreRequest(dataset);
    const others = dataset.offered().filter((uid) => uid !== dataset.getTransferSyntaxUid());
    if (others.length > 0) request.setAdditionalTransferSyntaxes(others);
    events(request).on('response', (response: { getStatus(): number }) => {
      const status = response.getStatus();
      if (status === constants.Status.Pending) return;
      results.set(path, classifyStatus(status));
    });
    client.addRequest(request);
    pending.push(path);
  }

  const { accepted, failure } = await runAssociation(client, target, {
    connectTimeout: target.connectTimeoutMs ?? 10_000,
    associationTimeout: target.associationTimeoutMs ?? 60_000,
    pduTimeout: target.associationTimeoutMs ?? 60_000,
    ...(target.tls ? { securityOptions: target.tls } : {}),
  });
  for (const path of pending) {
    if (results.has(path)) continue;
    if (accepted && failure === undefined) {
      results.set(path, { kind: 'failed', status: null, reason: 'the destination accepts none of the offered transfer syntaxes for this SOP class (compressed data is not decompressed)' });
    } else {
      results.set(path, { kind: 'retry', reason: failure ?? 'association closed before a response' });
    }
  }
  return results;
}
