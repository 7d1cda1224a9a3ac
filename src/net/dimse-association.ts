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
 * `afterSend` runs once the client's network object exists (for per-association overrides).
 */
export async function runAssociation(client: dimse.Client, peer: AssociationPeer, options: Record<string, unknown>, afterSend?: (client: dimse.Client) => void): Promise<AssociationOutcome> {
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
    events(client).on('associationAborted', () => {
      failure ??= 'association aborted';
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
    // dcmjs-dimse 0.3.3's Client ignores an A-ABORT from the peer (its Network emits 'abort'; the
    // Client has no listener), and leaves the connection open until a timeout. Listen on the
    // Network (`Client#network`, set by send): the outcome says so, and the library's own error
    // path ends the connection, as PS3.8 9.1.8 wants after an A-ABORT.
    const network = (client as unknown as { network?: Emitter & { emit(event: string, ...args: unknown[]): boolean } }).network;
    if (network) {
      events(network).on('abort', (a: { source: number; reason: number }) => {
        failure ??= `association aborted by the peer (source ${a.source}, reason ${a.reason})`;
        network.emit('networkError', new Error('association aborted by the peer'));
      });
    }
    afterSend?.(client);
  });
  return { accepted, released, failure };
}
