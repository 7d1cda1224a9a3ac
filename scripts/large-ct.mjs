// A large CT written in seconds, for the streaming-forward test and bench: an explicit VR little
// endian header, then the file extended sparsely, with 1 MiB of patterned bytes every 64 MiB so the
// content (and a byte swap) is not all zeros. Pixel data (16-bit, 4096 x 4096 frames) is the last element.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

const MiB = 1024 * 1024;
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';

/** One explicit VR little endian element; long-form header for OB/OW/UN/SQ/UT. */
function element(group, elem, vr, value, length = value.length) {
  const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(length, 8);
  else h.writeUInt16LE(length, 6);
  return Buffer.concat([h, value]);
}
const text = (s, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
const us = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };

/** Writes the CT to `path` with `pixelMiB` MiB of pixels (a multiple of 32, below 4 GiB); returns the pixel bytes. */
export function writeLargeCt(path, pixelMiB, sopInstanceUid) {
  const pixelBytes = pixelMiB * MiB;
  const frames = pixelBytes / (4096 * 4096 * 2);
  if (!Number.isInteger(frames) || pixelBytes >= 2 ** 32) throw new Error('pixelMiB must be a multiple of 32 below 4096');
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(CT_IMAGE_STORAGE, '\0')),
    element(0x0002, 0x0003, 'UI', text(sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(EXPLICIT_LITTLE, '\0')),
    element(0x0002, 0x0012, 'UI', text('1.2.826.0.1.3680043.10.1137.99', '\0')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const header = Buffer.concat([
    Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', groupLength), metaBody,
    element(0x0008, 0x0016, 'UI', text(CT_IMAGE_STORAGE, '\0')),
    element(0x0008, 0x0018, 'UI', text(sopInstanceUid, '\0')),
    element(0x0008, 0x0060, 'CS', text('CT')),
    element(0x0010, 0x0010, 'PN', text('HOLD_001')),
    element(0x0020, 0x000d, 'UI', text(`${sopInstanceUid}.1`, '\0')),
    element(0x0020, 0x000e, 'UI', text(`${sopInstanceUid}.2`, '\0')),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    element(0x0028, 0x0008, 'IS', text(String(frames))),
    element(0x0028, 0x0010, 'US', us(4096)),
    element(0x0028, 0x0011, 'US', us(4096)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', Buffer.alloc(0), pixelBytes),
  ]);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, header.length + pixelBytes);
    const block = Buffer.alloc(MiB);
    for (let at = 0; at < pixelBytes; at += 64 * MiB) {
      for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((at + i * 2654435761) >>> 0, i);
      writeSync(fd, block, 0, block.length, header.length + at);
    }
  } finally {
    closeSync(fd);
  }
  return pixelBytes;
}
