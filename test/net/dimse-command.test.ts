import dimse from 'dcmjs-dimse';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/net/dimse-command.js';

/** The request's command set (public in dcmjs-dimse's JavaScript, missing from its typings). */
interface Request {
  getCommandDataset(): {
    getElements(): Record<string, unknown>;
    setElement(keyword: string, value: unknown): void;
    getDenaturalizedCommandDataset(): Buffer;
  };
}

function storeRequest(sop: string, messageId: number, moveOriginator?: { aet: string; id: number }): Request {
  const store = new dimse.requests.CStoreRequest(new dimse.Dataset({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: sop }), undefined);
  store.setMessageId(messageId);
  const r = store as unknown as Request;
  if (moveOriginator) {
    // As a C-STORE sub-operation of a C-MOVE carries them.
    r.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', moveOriginator.aet);
    r.getCommandDataset().setElement('MoveOriginatorMessageID', moveOriginator.id);
  }
  return r;
}

describe('encoding a C-STORE command set ourselves', () => {
  // Odd and even UID lengths (NUL padding), odd and even AE titles (space padding), message IDs at the edges.
  const cases: Array<[string, Request]> = [
    ['odd UID', storeRequest('1.2.45', 1)],
    ['even UID', storeRequest('1.2.345', 0xffff)],
    ['64-character UID', storeRequest(`2.25.${'1'.repeat(59)}`, 300)],
    ['move originator, even AE', storeRequest('1.2.3.4', 2, { aet: 'PACS', id: 9 })],
    ['move originator, odd AE', storeRequest('1.2.3.4', 2, { aet: 'ORTHANC', id: 65_535 })],
  ];
  it.each(cases)('gives the bytes dcmjs-dimse would send (%s)', (_name, request) => {
    const command = request.getCommandDataset();
    expect(encodeCommand(command.getElements())?.toString('hex')).toBe(command.getDenaturalizedCommandDataset().toString('hex'));
  });

  it('leaves to the library a command with an attribute it does not know, or a value it cannot encode', () => {
    expect(encodeCommand({ CommandField: 1, NumberOfRemainingSuboperations: 3 })).toBeUndefined();
    expect(encodeCommand({ CommandField: 1, MessageID: 70_000 })).toBeUndefined();
    expect(encodeCommand({ CommandField: 1, AffectedSOPInstanceUID: 12 })).toBeUndefined();
    expect(encodeCommand({ CommandField: 1, MoveOriginatorApplicationEntityTitle: 'A_VERY_LONG_AE_TITLE' })).toBeUndefined();
    expect(encodeCommand({ CommandField: 1, MoveOriginatorApplicationEntityTitle: 'PACSÉ' })).toBeUndefined();
  });
});
