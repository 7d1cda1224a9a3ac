import type dimse from 'dcmjs-dimse';

/** dcmjs-dimse's clients and requests are event emitters; its typings do not say so. */
export interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export const events = (x: unknown): Emitter => x as Emitter;

export interface AssociationPeer {
  readonly host: string;
  readonly port: number;
  readonly callingAET: string;
  readonly calledAET: string;
}

/** How an association went: accepted or not, and the first problem (rejection, abort, network). */
export interface AssociationOutcome {
  readonly accepted: boolean;
  readonly failure: string | undefined;
}

/**
 * Opens an association for the client's queued requests, lets them run, and resolves when it
 * closes. Never rejects: problems come back as `failure`, for the caller to retry or fail.
 * `afterSend` runs once the client's network object exists (for per-association overrides).
 */
export async function runAssociation(client: dimse.Client, peer: AssociationPeer, options: Record<string, unknown>, afterSend?: (client: dimse.Client) => void): Promise<AssociationOutcome> {
  let accepted = false;
  let failure: string | undefined;
  await new Promise<void>((resolve) => {
    events(client).on('associationAccepted', () => {
      accepted = true;
    });
    events(client).on('associationRejected', (r: { result: number; source: number; reason: number }) => {
      failure = `association rejected (result ${r.result}, source ${r.source}, reason ${r.reason})`;
    });
    events(client).on('associationAborted', () => {
      failure ??= 'association aborted';
    });
    events(client).on('networkError', (e: Error) => {
      failure ??= `network error (${(e as NodeJS.ErrnoException).code ?? e.message})`;
      resolve();
    });
    events(client).on('closed', () => resolve());
    client.send(peer.host, peer.port, peer.callingAET, peer.calledAET, options);
    afterSend?.(client);
  });
  return { accepted, failure };
}
