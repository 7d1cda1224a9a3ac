import type { Socket } from 'node:net';
import type { DimseMessageChannel, DimseMessageSender } from 'dcmjs-dimse';
import { encodeCommand } from './dimse-command.js';

/**
 * A streaming data set send on top of a dcmjs-dimse association.
 *
 * dcmjs-dimse 0.3.3 cannot send a data set from a stream: its P-DATA-TF writing asks the dataset
 * for `getDenaturalizedDataset()` (one Buffer holding the whole data set), slices it into PDVs and
 * writes them all to the socket at once, with no backpressure. A 2 GB instance would then be 2 GB
 * (and more) of memory, and nothing in its public API avoids it (the socket is not reachable). So
 * patches/dcmjs-dimse+0.3.3.patch (applied by patch-package at install) adds one option to
 * `Client#send`: `dimseMessageSender`, asked first for every DIMSE message the association sends,
 * after the library chose its presentation context (and the accepted syntax); it gets the socket
 * and the connection's controls as a `DimseMessageChannel`. The library still does everything else
 * (association negotiation, message IDs, presentation context choice, reading responses, release,
 * abort); only the P-DATA-TF writing of a message is ours: the command as one PDV, then the data
 * set in PDVs cut from chunks read from the file, written with backpressure on the socket.
 *
 * The library sends the next request only when the previous one is done (its final response
 * came), so one data set is in flight at a time. Our sends are queued too, so an early response
 * (a peer that answers before the data set is complete) cannot interleave the next message's PDVs
 * with this one's. test/net/dimse-patch.test.ts fails when the installed dcmjs-dimse is not the
 * version the patch was made for, or the option is not there.
 */

/** A data set whose bytes, in the transfer syntax it stands for, are read when it is sent. */
export interface StreamableDataset {
  /** The data set's bytes in order (no file meta). Rejects on a read error; closes its file when done or returned. */
  streamBytes(): AsyncIterable<Buffer>;
}

export const isStreamable = (d: unknown): d is StreamableDataset =>
  typeof d === 'object' && d !== null && typeof (d as Partial<StreamableDataset>).streamBytes === 'function';

export interface StreamingHooks {
  /**
   * The data set could not be read. `sentSome` is false when nothing of the message went out (the
   * request is then skipped and the association goes on with the next one); true when part of it
   * did (the association is aborted: a DIMSE message cannot be taken back).
   */
  readError(dataset: StreamableDataset, error: unknown, sentSome: boolean): void;
}

export interface StreamingSend {
  /** The `dimseMessageSender` option of `Client#send` (see the patch). */
  readonly sender: DimseMessageSender;
  /**
   * Stops a send still running (the association has ended) and resolves once none is (its file
   * closed). Call after the association closes.
   */
  close(): Promise<void>;
}

/** The parts of a dcmjs-dimse request the send uses (all public API). */
interface OutgoingCommand {
  getCommandDataset(): { getElements(): Record<string, unknown>; getDenaturalizedCommandDataset(): Buffer };
  getDataset(): unknown;
}

/** `raiseDoneEvent` is public on a request (the message this sends), not on a response. */
const raiseDone = (command: OutgoingCommand): void => {
  (command as Partial<{ raiseDoneEvent(): void }>).raiseDoneEvent?.();
};

/** The library's own cap on PDU size when the peer sets none (max PDU length 0). */
const UNLIMITED_PDU_CAP = 4 * 1024 * 1024;
/** P-DATA-TF PDU header (type, reserved, length) plus PDV item header (length, context, control). */
const PDV_OVERHEAD = 12;
/** PS3.8 9.3.5.1 / E.2: the message control header. */
const MCH_COMMAND = 0x01;
const MCH_LAST = 0x02;

/** The header of a P-DATA-TF PDU holding one PDV of `length` bytes. */
function pdvHeader(presentationContextId: number, length: number, control: number): Buffer {
  const h = Buffer.allocUnsafe(PDV_OVERHEAD);
  h.writeUInt8(0x04, 0); // P-DATA-TF
  h.writeUInt8(0, 1);
  h.writeUInt32BE(length + 6, 2); // the PDV item: its length field, context ID, control header, data
  h.writeUInt32BE(length + 2, 6);
  h.writeUInt8(presentationContextId, 10);
  h.writeUInt8(control, 11);
  return h;
}

/**
 * A streaming send for one association: pass its `sender` as `Client#send`'s `dimseMessageSender`
 * option. It takes the messages whose data sets are `StreamableDataset`s, and queues the others
 * behind them, for the library to send its own way.
 */
export function streamingSend(hooks: StreamingHooks): StreamingSend {
  const stop = new AbortController();
  let queue: Promise<void> = Promise.resolve();
  const sender: DimseMessageSender = (command, presentationContextId, maxPduLength, channel) => {
    const dataset = command.getDataset();
    const send = isStreamable(dataset)
      ? () => sendStreamed(channel, command, dataset, presentationContextId, maxPduLength, hooks, stop.signal)
      : () => channel.sendWithLibrary();
    // Never rejects (sendStreamed reports its own problems); a throw from the library's send is
    // what its own caller would have caught: reported the same way.
    queue = queue.then(send).catch((e: unknown) => {
      channel.fail(e instanceof Error ? e : new Error(String(e)));
    });
    return true;
  };
  return {
    sender,
    close: async () => {
      stop.abort();
      await queue;
    },
  };
}

/** Resolves once the socket may take more (drained), or when it or the send is gone. */
async function whenWritable(socket: Socket, stop: AbortSignal): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed || stop.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
    stop.addEventListener('abort', done);
  });
}

async function sendStreamed(
  channel: DimseMessageChannel, command: OutgoingCommand, dataset: StreamableDataset, pcId: number, maxPduLength: number, hooks: StreamingHooks, stop: AbortSignal,
): Promise<void> {
  const socket: Socket = channel.socket;
  // Nagle's algorithm would hold each message's last, short PDU until the peer acknowledges the
  // previous one, which it delays (~40 ms): one instance per round of delayed ACKs. DICOM sends
  // whole messages and then waits for the answer, so nothing is gained by coalescing.
  socket.setNoDelay(true);
  const gone = (): boolean => stop.aborted || socket.destroyed || !socket.writable;
  const maxPdu = maxPduLength === 0 ? UNLIMITED_PDU_CAP : Math.min(maxPduLength, UNLIMITED_PDU_CAP);
  // The PDU length counts the PDV item (4-byte length, context ID, control header) and the data.
  const payload = maxPdu - 6;
  const iterator = dataset.streamBytes()[Symbol.asyncIterator]();

  // The first chunk is read before the command goes out: a file that is missing or unreadable
  // now costs only this request, and the association carries on with the next one.
  let next: Promise<IteratorResult<Buffer>> = iterator.next();
  let current: IteratorResult<Buffer>;
  try {
    current = await next;
  } catch (e) {
    hooks.readError(dataset, e, false);
    raiseDone(command);
    return;
  }
  if (gone()) {
    await iterator.return?.();
    return;
  }
  const commandSet = command.getCommandDataset();
  const commandBytes = encodeCommand(commandSet.getElements()) ?? commandSet.getDenaturalizedCommandDataset();
  socket.write(Buffer.concat([pdvHeader(pcId, commandBytes.length, MCH_COMMAND | MCH_LAST), commandBytes]));

  // Data not yet sent: pieces of chunks, cut into PDVs of `payload` bytes. A full PDV is held
  // back until more data follows, so the last one (flagged last) is never empty.
  let pieces: Buffer[] = [];
  let pending = 0;
  const take = (n: number): Buffer[] => {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const p = pieces[0] as Buffer;
      if (p.length <= need) {
        out.push(p);
        pieces.shift();
        need -= p.length;
      } else {
        out.push(p.subarray(0, need));
        pieces[0] = p.subarray(need);
        need = 0;
      }
    }
    pending -= n;
    return out;
  };
  // The PDUs cut from one chunk go out as one writev: written corked, the headers and the pieces
  // of the chunk are gathered by the socket without copying them into one buffer (a 16 KiB
  // maximum PDU makes 65,536 PDUs per GiB, and a copy of every small instance).
  const writePdvs = (flush: boolean): void => {
    if (!(pending > payload || (flush && pending > 0))) return;
    socket.cork();
    while (pending > payload || (flush && pending > 0)) {
      const n = Math.min(payload, pending);
      const last = flush && n === pending;
      socket.write(pdvHeader(pcId, n, last ? MCH_LAST : 0));
      for (const piece of take(n)) socket.write(piece);
    }
    socket.uncork();
  };

  try {
    while (!current.done) {
      // Read the next chunk while this one goes out: one chunk on the wire, one being read.
      next = iterator.next();
      pieces.push(current.value);
      pending += current.value.length;
      if (gone()) break;
      writePdvs(false);
      // While the peer keeps taking our data it is alive: a 2 GB send on a slow link can take
      // longer than the PDU timeout.
      channel.refresh();
      await whenWritable(socket, stop);
      current = await next;
    }
    if (current.done && !gone()) {
      if (pending === 0) socket.write(pdvHeader(pcId, 0, MCH_LAST)); // an empty data set
      else writePdvs(true);
    }
  } catch (e) {
    // Part of the message is out: the association cannot go on. Abort it (PS3.8 7.3.1), and let
    // the library's error path end the socket and report it.
    pieces = [];
    hooks.readError(dataset, e, true);
    if (!gone()) channel.abort();
    channel.fail(new Error(`the data set could not be read while it was being sent (${(e as NodeJS.ErrnoException).code ?? (e as Error).name})`));
    return;
  }
  if (gone()) {
    // The peer went away mid-transfer: close the file. The library reports the closed socket.
    await next.catch(() => undefined);
    await iterator.return?.();
  }
}
