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
  /**
   * It ended in an orderly release (A-RELEASE-RP): every request went through. An association
   * that closed without one (the peer dropped the connection or aborted) did not finish its work,
   * even when no error was reported for it.
   */
  readonly released: boolean;
  readonly failure: string | undefined;
}

/**
 * Opens an association for the client's queued requests, lets them run, and resolves when it
 * closes. Never rejects: problems come back as `failure`, for the caller to retry or fail.
 */
export async function runAssociation(client: dimse.Client, peer: AssociationPeer, options: Record<string, unknown>): Promise<AssociationOutcome> {
  let accepted = false;
  let released = false;
  let failure: string | undefined;
  await new Promise<void>((resolve) => {
    events(client).on('associationAccepted', () => {
      accepted = true;
    });
    events(client).on('associationRejected', (r: { result: number; source: number; reason: number }) => {
      failure = `association rejected (result ${r.result}, source ${r.source}, reason ${r.reason})`;
    });
    // dcmjs-dimse 0.3.3's Client ignored an A-ABORT from the peer and left the connection open
    // until a timeout; patches/dcmjs-dimse+0.3.3.patch makes it emit this and end the connection,
    // as PS3.8 9.1.8 wants after an A-ABORT.
    events(client).on('associationAborted', (a?: { source: number; reason: number }) => {
      failure ??= a ? `association aborted by the peer (source ${a.source}, reason ${a.reason})` : 'association aborted';
    });
    events(client).on('associationReleased', () => {
      released = true;
    });
    events(client).on('networkError', (e: Error) => {
      failure ??= `network error (${(e as NodeJS.ErrnoException).code ?? e.message})`;
      resolve();
    });
    events(client).on('closed', () => resolve());
    client.send(peer.host, peer.port, peer.callingAET, peer.calledAET, options);
  });
  return { accepted, released, failure };
}
