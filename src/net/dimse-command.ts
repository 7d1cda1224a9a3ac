/**
 * Encodes a DIMSE command set (group 0000, always implicit VR little endian, PS3.7 6.3.1 and E)
 * from dcmjs-dimse's naturalized command elements. dcmjs's general-purpose writer took ~1 ms per
 * C-STORE request, as much as the rest of our send; this is a few buffer writes. Only the
 * attributes of the table are encoded: a command holding anything else returns undefined and is
 * left to the library, so nothing is ever dropped from a command.
 */

type CommandVr = 'UI' | 'US' | 'AE';

/** The command attributes a C-STORE request carries, by keyword: element number and VR. */
const COMMAND_ATTRIBUTES: Readonly<Record<string, readonly [element: number, vr: CommandVr]>> = {
  AffectedSOPClassUID: [0x0002, 'UI'],
  CommandField: [0x0100, 'US'],
  MessageID: [0x0110, 'US'],
  MessageIDBeingRespondedTo: [0x0120, 'US'],
  MoveDestination: [0x0600, 'AE'],
  Priority: [0x0700, 'US'],
  CommandDataSetType: [0x0800, 'US'],
  Status: [0x0900, 'US'],
  AffectedSOPInstanceUID: [0x1000, 'UI'],
  MoveOriginatorApplicationEntityTitle: [0x1030, 'AE'],
  MoveOriginatorMessageID: [0x1031, 'US'],
};

function element(elementNumber: number, value: Buffer): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(elementNumber, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

function encodeValue(vr: CommandVr, value: unknown): Buffer | undefined {
  if (vr === 'US') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) return undefined;
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16LE(value, 0);
    return b;
  }
  if (typeof value !== 'string') return undefined;
  // Plain ASCII only, and an AE title of at most 16 characters (PS3.5 6.2): anything else is the
  // library's to encode (it truncates long AE titles), so the two never differ.
  if (!/^[\x20-\x7e]*$/.test(value) || (vr === 'AE' && value.length > 16)) return undefined;
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  // Padding to even length: UIDs with NUL, AE titles with a space (PS3.5 6.2).
  return Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0x00 : 0x20])]);
}

/** The command set's bytes, CommandGroupLength first; undefined when it holds what the table lacks. */
export function encodeCommand(elements: Readonly<Record<string, unknown>>): Buffer | undefined {
  const encoded: Array<[number, Buffer]> = [];
  for (const [keyword, value] of Object.entries(elements)) {
    if (value === undefined) continue;
    const attribute = COMMAND_ATTRIBUTES[keyword];
    if (!attribute) return undefined;
    const bytes = encodeValue(attribute[1], value);
    if (!bytes) return undefined;
    encoded.push([attribute[0], element(attribute[0], bytes)]);
  }
  encoded.sort((a, b) => a[0] - b[0]);
  const body = Buffer.concat(encoded.map(([, b]) => b));
  const groupLength = Buffer.allocUnsafe(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x0000, groupLength), body]);
}
