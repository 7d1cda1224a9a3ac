import type { WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { discardIncomingFile, finishIncomingFile, type IncomingFile, openIncomingFile } from '../dicom/incoming-file.js';

const { Server, Scp, Dataset, constants, responses } = dimse;
dimse.log.setLevel('silent');

export interface IncomingAssociation {
  readonly callingAET: string;
  readonly calledAET: string;
}

/**
 * Thrown by a destination's `accept` to turn an instance away on purpose (not a fault): its file
 * is removed, never handed over, and the C-STORE is answered with `status` (default 0124H,
 * "Refused: Not authorized"), a failure the sender does not retry. The reason names no values.
 */
export class StoreRefused extends Error {
  constructor(reason: string, readonly status = 0x0124) {
    super(reason);
    this.name = 'StoreRefused';
  }
}

/** Where one association's instances go: a folder to write into, and how to hand a file over. */
export interface StoreDestination {
  /** A folder on the same file system as the claims (temporary names start with '.'). */
  readonly dir: string;
  /** Takes a complete, fsynced Part 10 file; the C-STORE succeeds once this resolves. May throw StoreRefused. */
  accept(path: string): Promise<void>;
}

export interface ListenerOptions {
  readonly port: number;
  /**
   * Decides per association: a destination for its instances; 'verification-only' to accept it
   * for C-ECHO alone (storage contexts refused); undefined to reject it (called AE not recognised).
   */
  readonly route: (a: IncomingAssociation) => StoreDestination | 'verification-only' | undefined;
  readonly onError?: (e: Error) => void;
}

const VERIFICATION = '1.2.840.10008.1.1';
/** Storage SOP classes all live under 1.2.840.10008.5.1.4.1.1. (PS3.4 B.5), plus a few others. */
const isStorageClass = (uid: string): boolean =>
  uid.startsWith('1.2.840.10008.5.1.4.1.1.') || uid.startsWith('1.2.840.10008.5.1.4.34.') || uid.startsWith('1.2.840.10008.5.1.4.38.');


/**
 * A Storage SCP that writes each received dataset straight to disk (never parsed by dcmjs, never
 * held whole), wrapped in a fresh Part 10 header, and answers success only after the file is
 * fsynced and handed over. C-ECHO is answered.
 */
export async function startStoreScp(options: ListenerOptions): Promise<{ close(): Promise<void> }> {
  class DeidScp extends Scp {
    private destination: StoreDestination | undefined;
    private readonly incoming = new Map<unknown, IncomingFile>();

    constructor(...args: ConstructorParameters<typeof Scp>) {
      super(...args);
      // An association that ends before its C-STOREs are answered (aborted, dropped) leaves files
      // half written: they are closed and removed, never left holding PHI or a descriptor.
      (this as unknown as { on(event: string, l: () => void): void }).on('close', () => {
        const left = [...this.incoming.values()];
        this.incoming.clear();
        for (const f of left) void discardIncomingFile(f).catch((e: unknown) => options.onError?.(e as Error));
      });
    }

    override associationRequested(association: dimse.association.Association): void {
      const destination = options.route({ callingAET: association.getCallingAeTitle().trim(), calledAET: association.getCalledAeTitle().trim() });
      if (!destination) {
        this.sendAssociationReject(constants.RejectResult.Permanent, constants.RejectSource.ServiceUser, constants.RejectReason.CalledAeNotRecognized);
        return;
      }
      this.destination = destination === 'verification-only' ? undefined : destination;
      for (const { context } of association.getPresentationContexts()) {
        const abstract = context.getAbstractSyntaxUid();
        const offered = context.getTransferSyntaxUids();
        if (abstract === VERIFICATION || (this.destination && isStorageClass(abstract))) {
          // Every syntax is readable (nothing is decoded): take the sender's first choice.
          context.setResult(constants.PresentationContextResult.Accept, offered[0]);
        } else {
          context.setResult(constants.PresentationContextResult.RejectAbstractSyntaxNotSupported);
        }
      }
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(request: dimse.requests.CEchoRequest, callback: (r: dimse.responses.CEchoResponse) => void): void {
      const response = responses.CEchoResponse.fromRequest(request);
      response.setStatus(constants.Status.Success);
      callback(response);
    }

    override createStoreWritableStream(context: dimse.association.PresentationContext, request: dimse.requests.CStoreRequest): Writable {
      // Only into a project's work area: without one the bytes go nowhere and the C-STORE is refused.
      if (!this.destination) return new Writable({ write: (_chunk, _encoding, done) => done() });
      const file = openIncomingFile(this.destination.dir, request.getAffectedSopClassUid(), request.getAffectedSopInstanceUid(), context.getAcceptedTransferSyntaxUid() ?? '');
      this.incoming.set(request, file);
      return file.stream;
    }

    override createDatasetFromStoreWritableStream(writable: Writable, context: dimse.association.PresentationContext, callback: (d: dimse.Dataset) => void): void {
      // The dataset stays on disk; the request carries only a marker of where.
      const done = (): void => callback(new Dataset({ __file: [...this.incoming.values()].find((i) => i.stream === writable)?.path }, context.getAcceptedTransferSyntaxUid()));
      if ((writable as WriteStream).closed) done();
      else writable.once('close', done);
    }

    override cStoreRequest(request: dimse.requests.CStoreRequest, callback: (r: dimse.responses.CStoreResponse) => void): void {
      const response = responses.CStoreResponse.fromRequest(request);
      const entry = this.incoming.get(request) ?? [...this.incoming.values()].find((i) => i.path === (request as unknown as { getDataset(): dimse.Dataset | undefined }).getDataset()?.getElement('__file'));
      this.incoming.delete(request);
      void (async () => {
        if (!entry || !this.destination) throw new Error('no file for this request');
        try {
          await finishIncomingFile(entry);
        } catch (e) {
          await discardIncomingFile(entry).catch(() => undefined);
          throw e;
        }
        try {
          await this.destination.accept(entry.path);
        } catch (e) {
          // Turned away: the bytes (PHI of a study nobody asked for) do not stay in the work area.
          if (e instanceof StoreRefused) await discardIncomingFile(entry);
          throw e;
        }
      })().then(
        () => {
          response.setStatus(constants.Status.Success);
          callback(response);
        },
        (e: unknown) => {
          if (e instanceof StoreRefused) {
            response.setStatus(e.status);
          } else {
            options.onError?.(e as Error);
            response.setStatus(0xa700); // out of resources: the sender may retry
          }
          callback(response);
        },
      );
    }
  }

  const server = new Server(DeidScp as unknown as typeof Scp);
  const ev = server as unknown as { on(event: string, l: (a: Error) => void): void; once(event: string, l: () => void): void };
  ev.on('networkError', (e) => options.onError?.(e));
  await new Promise<void>((resolve) => {
    ev.once('listening', resolve);
    server.listen(options.port);
  });
  return {
    async close() {
      server.close();
    },
  };
}
