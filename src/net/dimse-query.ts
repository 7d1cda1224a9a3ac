import dimse from 'dcmjs-dimse';
import { events, runAssociation } from './dimse-association.js';
import { discardIncomingFile, finishIncomingFile, type IncomingFile, openIncomingFile } from '../dicom/incoming-file.js';
import { StoreRefused } from './dimse-listener.js';

const { Client, Dataset, requests, responses, constants, association } = dimse;
dimse.log.setLevel('silent');

export interface PacsTarget {
  readonly host: string;
  readonly port: number;
  readonly calledAET: string;
  readonly callingAET: string;
  readonly timeoutMs?: number;
}

/** A network or association problem: worth retrying later. */
export class PacsUnavailable extends Error {
  constructor(reason: string) {
    super(`[dicom:pacs] ${reason}`);
    this.name = 'PacsUnavailable';
  }
}

/** Runs requests over one association; rejects with PacsUnavailable when it cannot be had. */
async function run(target: PacsTarget, reqs: readonly unknown[], prepare?: (client: dimse.Client) => void, storeStreams?: dimse.StoreStreams): Promise<void> {
  const client = new Client();
  for (const r of reqs) client.addRequest(r as dimse.requests.Request);
  prepare?.(client);
  const { failure } = await runAssociation(client, target, {
    connectTimeout: target.timeoutMs ?? 10_000, associationTimeout: target.timeoutMs ?? 60_000, pduTimeout: target.timeoutMs ?? 600_000,
    ...(storeStreams ? { storeStreams } : {}),
  });
  if (failure) throw new PacsUnavailable(failure);
}

/** C-FIND at study level by Accession Number: the Study Instance UIDs that match. */
export async function findStudiesByAccession(target: PacsTarget, accessionNumber: string): Promise<string[]> {
  const request = requests.CFindRequest.createStudyFindRequest({ AccessionNumber: accessionNumber, StudyInstanceUID: '' });
  const matches: StudyMatch[] = [];
  let finalStatus: number | undefined;
  events(request).on('response', (response: dimse.responses.CFindResponse) => {
    const status = response.getStatus();
    if (status === constants.Status.Pending || status === 0xff01) {
      const ds = response.getDataset();
      matches.push({ studyInstanceUid: ds?.getElement('StudyInstanceUID'), accessionNumber: ds?.getElement('AccessionNumber') });
    } else {
      finalStatus = status;
    }
  });
  await run(target, [request]);
  if (finalStatus === undefined) throw new PacsUnavailable('C-FIND ended without a final response');
  if (finalStatus !== constants.Status.Success) throw new Error(`[dicom:pacs] C-FIND failed with status 0x${finalStatus.toString(16)}`);
  return studiesMatching(matches, accessionNumber);
}

/** One C-FIND response, as the PACS returned it. */
export interface StudyMatch {
  readonly studyInstanceUid: unknown;
  readonly accessionNumber: unknown;
}

/**
 * The studies whose Accession Number is exactly the one asked for. A PACS may match loosely (case,
 * padding, its own wildcard rules) or return a study without the key: those are never moved, so a
 * request cannot pull in another patient's study.
 */
export function studiesMatching(matches: readonly StudyMatch[], accessionNumber: string): string[] {
  const studies: string[] = [];
  for (const m of matches) {
    const uid = typeof m.studyInstanceUid === 'string' ? m.studyInstanceUid.trim() : '';
    const accession = typeof m.accessionNumber === 'string' ? m.accessionNumber.replace(/^[ ]+|[ ]+$/g, '') : undefined;
    if (uid !== '' && accession === accessionNumber && !studies.includes(uid)) studies.push(uid);
  }
  return studies;
}

export interface MoveResult {
  readonly completed: number;
  readonly failed: number;
  readonly warnings: number;
  readonly status: number;
}

/** C-MOVE of one study to `destinationAet` (the agent's own listener). */
export async function moveStudy(target: PacsTarget, studyInstanceUid: string, destinationAet: string): Promise<MoveResult> {
  const request = requests.CMoveRequest.createStudyMoveRequest(destinationAet, studyInstanceUid);
  let result: MoveResult | undefined;
  events(request).on('response', (response: dimse.responses.CMoveResponse) => {
    const status = response.getStatus();
    if (status === constants.Status.Pending) return;
    result = { completed: response.getCompleted() ?? 0, failed: response.getFailures() ?? 0, warnings: response.getWarnings() ?? 0, status };
  });
  await run(target, [request]);
  if (!result) throw new PacsUnavailable('C-MOVE ended without a final response');
  return result;
}

/** Where C-GET writes the instances it receives, and how it hands each one over. */
export interface GetDestination {
  readonly dir: string;
  /** As for the listener: resolves once the file is taken; may throw StoreRefused. */
  accept(path: string): Promise<void>;
}

// Syntaxes offered for instances coming back by C-GET: uncompressed first, then the common
// compressed ones, so the PACS can send what it stores without converting it.
const GET_SYNTAXES = [
  '1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.5',
];

/**
 * C-GET of one study: the instances come back on the same association (for PACS that cannot
 * reach the agent's listener). Each is streamed to disk like a C-STORE to the listener, handed
 * over, and only then answered with success.
 */
export async function getStudy(target: PacsTarget, studyInstanceUid: string, destination: GetDestination): Promise<MoveResult> {
  const request = requests.CGetRequest.createStudyGetRequest(studyInstanceUid);
  let result: MoveResult | undefined;
  events(request).on('response', (response: dimse.responses.CGetResponse) => {
    const status = response.getStatus();
    if (status === constants.Status.Pending) return;
    result = { completed: response.getCompleted() ?? 0, failed: response.getFailures() ?? 0, warnings: response.getWarnings() ?? 0, status };
  });
  const incoming = new Map<unknown, IncomingFile>();
  await run(target, [request], (client) => {
    // Storage contexts in the SCP role, one per storage class the PACS may hold.
    for (const uid of Object.values(constants.StorageClass) as string[]) {
      const context = new association.PresentationContext(0, uid);
      for (const ts of GET_SYNTAXES) context.addTransferSyntaxUid(ts);
      context.setUserRole(false);
      context.setProviderRole(true);
      client.addAdditionalPresentationContext(context, true);
    }
    events(client).on('cStoreRequest', ((req: dimse.requests.CStoreRequest, callback: (r: dimse.responses.CStoreResponse) => void) => {
      const response = responses.CStoreResponse.fromRequest(req);
      const file = incoming.get(req);
      incoming.delete(req);
      void (async () => {
        if (!file) throw new Error('no file for this instance');
        try {
          await finishIncomingFile(file);
          await destination.accept(file.path);
        } catch (e) {
          // Not taken (refused, unwritable): its bytes may hold PHI and do not stay behind.
          await discardIncomingFile(file).catch(() => undefined);
          throw e;
        }
      })().then(() => {
        response.setStatus(constants.Status.Success);
        callback(response);
      }, (e: unknown) => {
        response.setStatus(e instanceof StoreRefused ? e.status : 0xa700);
        callback(response);
      });
    }));
  }, {
    // A received data set goes to disk as bytes, never through dcmjs (storeStreams is the
    // patch's option: the client's own stores, as an Scp subclass overrides the same methods).
    createStoreWritableStream: (context, req) => {
      const file = openIncomingFile(destination.dir, req.getAffectedSopClassUid(), req.getAffectedSopInstanceUid(), context.getAcceptedTransferSyntaxUid() ?? '');
      incoming.set(req, file);
      return file.stream;
    },
    createDatasetFromStoreWritableStream: (_w, context, callback) => {
      callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
    },
  });
  if (!result) throw new PacsUnavailable('C-GET ended without a final response');
  return result;
}
