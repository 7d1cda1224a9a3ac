import dimse from 'dcmjs-dimse';

const { Client, requests, constants } = dimse;
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

interface Emitter {
  on(event: string, listener: (arg: never) => void): unknown;
}
const events = (x: unknown): Emitter => x as Emitter;

/** Runs requests over one association; rejects with PacsUnavailable when it cannot be had. */
async function run(target: PacsTarget, reqs: readonly unknown[]): Promise<void> {
  const client = new Client();
  for (const r of reqs) client.addRequest(r as dimse.requests.Request);
  let failure: string | undefined;
  await new Promise<void>((resolve) => {
    events(client).on('associationRejected', (r: { result: number; reason: number }) => {
      failure = `association rejected (result ${r.result}, reason ${r.reason})`;
    });
    events(client).on('associationAborted', () => {
      failure ??= 'association aborted';
    });
    events(client).on('networkError', (e: Error) => {
      failure ??= `network error (${(e as NodeJS.ErrnoException).code ?? e.message})`;
      resolve();
    });
    events(client).on('closed', () => resolve());
    client.send(target.host, target.port, target.callingAET, target.calledAET, {
      connectTimeout: target.timeoutMs ?? 10_000, associationTimeout: target.timeoutMs ?? 60_000, pduTimeout: target.timeoutMs ?? 600_000,
    });
  });
  if (failure) throw new PacsUnavailable(failure);
}

/** C-FIND at study level by Accession Number: the Study Instance UIDs that match. */
export async function findStudiesByAccession(target: PacsTarget, accessionNumber: string): Promise<string[]> {
  const request = requests.CFindRequest.createStudyFindRequest({ AccessionNumber: accessionNumber, StudyInstanceUID: '' });
  const studies: string[] = [];
  let finalStatus: number | undefined;
  events(request).on('response', (response: dimse.responses.CFindResponse) => {
    const status = response.getStatus();
    if (status === constants.Status.Pending || status === 0xff01) {
      const uid = response.getDataset()?.getElement('StudyInstanceUID');
      if (typeof uid === 'string' && uid !== '' && !studies.includes(uid)) studies.push(uid);
    } else {
      finalStatus = status;
    }
  });
  await run(target, [request]);
  if (finalStatus === undefined) throw new PacsUnavailable('C-FIND ended without a final response');
  if (finalStatus !== constants.Status.Success) throw new Error(`[dicom:pacs] C-FIND failed with status 0x${finalStatus.toString(16)}`);
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
