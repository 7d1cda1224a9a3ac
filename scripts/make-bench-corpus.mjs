#!/usr/bin/env node
// Generates the benchmark corpus, deterministically (same bytes every run):
//  small/: N single-frame CT-like files of ~0.5 MB (512x512x16-bit) with full PHI headers,
//          nested sequences and private tags, for 20 patients;
//  large/: a few multi-frame files (300 MB to 1 GB of pixel data), written in chunks so the
//          generator itself never holds a file in memory.
// With --series N (the pixel bench, issue 13), instead or as well:
//  series/:       one CT series (one Series Instance UID) of N 512x512 16-bit slices without
//                 text: a body phantom (outline, lungs, spine, a little noise) changing slowly
//                 from slice to slice, as a scan does;
//  series-noise/: the same N slices of small/'s pixel pattern (hash noise, one series): the
//                 OCR's worst case, not a picture a scanner makes;
//  us/:           --us M ultrasound images, 640x480 8-bit grey, a speckled sector, no text,
//                 Burned In Annotation NO (so the header rules pass them to the pixel detector).
// usage: node scripts/make-bench-corpus.mjs DIR [--small N] [--large MB,MB,...] [--series N] [--us M]
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  console.error('usage: make-bench-corpus.mjs DIR [--small N] [--large MB,MB]');
  process.exit(2);
}
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const smallCount = Number(opt('--small', '2000'));
const largeSizes = opt('--large', '300,600,1000').split(',').filter(Boolean).map(Number);
const seriesCount = Number(opt('--series', '0'));
const usCount = Number(opt('--us', '0'));

// ---- a minimal explicit VR little endian writer (the corpus must not depend on the code under test)
const LONG = new Set(['OB', 'OW', 'SQ', 'UN', 'UT']);
function el(group, element, vr, value) {
  let v = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'latin1');
  if (v.length % 2) v = Buffer.concat([v, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  const tag = Buffer.alloc(4);
  tag.writeUInt16LE(group, 0);
  tag.writeUInt16LE(element, 2);
  if (LONG.has(vr)) {
    const h = Buffer.alloc(8);
    h.write(vr, 0, 'latin1');
    h.writeUInt32LE(v.length, 4);
    return Buffer.concat([tag, h, v]);
  }
  const h = Buffer.alloc(4);
  h.write(vr, 0, 'latin1');
  h.writeUInt16LE(v.length, 2);
  return Buffer.concat([tag, h, v]);
}
const us = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const item = (...els) => { const body = Buffer.concat(els); const h = Buffer.alloc(8); h.writeUInt16LE(0xfffe, 0); h.writeUInt16LE(0xe000, 2); h.writeUInt32LE(body.length, 4); return Buffer.concat([h, body]); };
const seq = (g, e, ...items) => el(g, e, 'SQ', Buffer.concat(items));

function meta(sopClass, sopInstance) {
  const body = Buffer.concat([
    el(0x0002, 0x0001, 'OB', Buffer.from([0, 1])), el(0x0002, 0x0002, 'UI', sopClass), el(0x0002, 0x0003, 'UI', sopInstance),
    el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'), el(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.10.1137.99'),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), el(0x0002, 0x0000, 'UL', len), body]);
}

const ROOT = '1.2.826.0.1.3680043.10.1137.77';
/** CT by default (the small and large files); `us`: an 8-bit ultrasound image with Burned In Annotation NO. */
function header(i, patient, frames, rows, cols, us8 = false) {
  const study = `${ROOT}.${patient}`;
  const series = `${study}.${frames > 1 ? 2 : 1}`;
  const sop = `${series}.${i}`;
  const sopClass = us8 ? '1.2.840.10008.5.1.4.1.1.6.1' : frames > 1 ? '1.2.840.10008.5.1.4.1.1.2.1' : '1.2.840.10008.5.1.4.1.1.2';
  const ds = Buffer.concat([
    el(0x0008, 0x0005, 'CS', 'ISO_IR 100'), el(0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    el(0x0008, 0x0016, 'UI', sopClass), el(0x0008, 0x0018, 'UI', sop), el(0x0008, 0x0020, 'DA', '20240315'),
    el(0x0008, 0x0021, 'DA', '20240315'), el(0x0008, 0x0023, 'DA', '20240315'), el(0x0008, 0x0030, 'TM', '101500'),
    el(0x0008, 0x0050, 'SH', `ACC${String(patient).padStart(8, '0')}`), el(0x0008, 0x0060, 'CS', us8 ? 'US' : 'CT'), el(0x0008, 0x0070, 'LO', 'ACME'),
    el(0x0008, 0x0080, 'LO', 'General Hospital of Somewhere'), el(0x0008, 0x0081, 'ST', '1 Main Street, Somewhere'),
    el(0x0008, 0x0090, 'PN', 'Referrer^Ralph'), el(0x0008, 0x1010, 'SH', 'CT-ROOM-1'), el(0x0008, 0x1030, 'LO', 'CT CHEST ABD PELVIS'),
    seq(0x0008, 0x1140, item(el(0x0008, 0x1150, 'UI', sopClass), el(0x0008, 0x1155, 'UI', `${series}.${Math.max(1, i - 1)}`))),
    el(0x0010, 0x0010, 'PN', `Patient^Number${patient}`), el(0x0010, 0x0020, 'LO', `MRN${String(patient).padStart(7, '0')}`),
    el(0x0010, 0x0030, 'DA', '19600101'), el(0x0010, 0x0040, 'CS', 'F'), el(0x0010, 0x1010, 'AS', '064Y'),
    el(0x0010, 0x1040, 'LO', '1 Patient Road'), seq(0x0010, 0x1002, item(el(0x0010, 0x0020, 'LO', `OLD${patient}`))),
    el(0x0018, 0x0050, 'DS', '1.0'), el(0x0018, 0x0060, 'DS', '120'), el(0x0018, 0x1000, 'LO', 'SN-1234'),
    el(0x0019, 0x0010, 'LO', 'ACME_PRIVATE'), el(0x0019, 0x1001, 'LO', `Patient Number${patient}`), el(0x0019, 0x1002, 'OB', Buffer.alloc(256, 7)),
    el(0x0020, 0x000d, 'UI', study), el(0x0020, 0x000e, 'UI', series), el(0x0020, 0x0010, 'SH', 'S1'),
    el(0x0020, 0x0011, 'IS', frames > 1 ? '2' : '1'), el(0x0020, 0x0013, 'IS', String(i)), el(0x0020, 0x0052, 'UI', `${study}.9`),
    el(0x0028, 0x0002, 'US', us(1)), el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    ...(frames > 1 ? [el(0x0028, 0x0008, 'IS', String(frames))] : []),
    el(0x0028, 0x0010, 'US', us(rows)), el(0x0028, 0x0011, 'US', us(cols)), el(0x0028, 0x0030, 'DS', '0.7\\0.7'),
    ...(us8
      ? [el(0x0028, 0x0100, 'US', us(8)), el(0x0028, 0x0101, 'US', us(8)), el(0x0028, 0x0102, 'US', us(7)), el(0x0028, 0x0103, 'US', us(0)), el(0x0028, 0x0301, 'CS', 'NO')]
      : [el(0x0028, 0x0100, 'US', us(16)), el(0x0028, 0x0101, 'US', us(12)), el(0x0028, 0x0102, 'US', us(11)), el(0x0028, 0x0103, 'US', us(0))]),
  ]);
  return { sopClass, sop, bytes: Buffer.concat([meta(sopClass, sop), ds]) };
}

function pixelHeader(length) {
  const h = Buffer.alloc(12);
  h.writeUInt16LE(0x7fe0, 0);
  h.writeUInt16LE(0x0010, 2);
  h.write('OW', 4, 'latin1');
  h.writeUInt32LE(length, 8);
  return h;
}

// A deterministic, not-too-compressible pixel pattern, one 1 MiB block reused.
const BLOCK = Buffer.alloc(1 << 20);
for (let i = 0; i < BLOCK.length; i += 2) BLOCK.writeUInt16LE((i * 2654435761) >>> 20 & 0x0fff, i);

async function writeFile(path, head, pixelBytes) {
  const out = createWriteStream(path);
  out.write(head);
  out.write(pixelHeader(pixelBytes));
  let left = pixelBytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK.length);
    if (!out.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) await once(out, 'drain');
    left -= n;
  }
  out.end();
  await once(out, 'finish');
}

/** A deterministic hash of (a, b) in [0, 1). */
const hash = (a, b) => (Math.imul(a * 73856093 ^ b * 19349663, 2654435761) >>> 0) / 4294967296;

/** Slice `z` of `n` of a body phantom, 512x512, 12 bits stored: outline, lungs, spine, noise. */
function phantomSlice(z, n) {
  const px = Buffer.alloc(512 * 512 * 2);
  const t = z / Math.max(1, n - 1);
  const [bodyA, bodyB] = [190 + 30 * Math.sin(Math.PI * t), 140 + 20 * Math.sin(Math.PI * t)];
  const lungR = 40 + 50 * Math.sin(Math.PI * Math.min(1, t * 1.6));
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const [dx, dy] = [x - 256, y - 266];
      let v = 24; // air
      if ((dx / bodyA) ** 2 + (dy / bodyB) ** 2 <= 1) {
        v = 1040; // soft tissue
        if (((Math.abs(dx) - 80) / 55) ** 2 + ((dy + 10) / lungR) ** 2 <= 1) v = 180; // lungs
        if (dx ** 2 + (dy - 95) ** 2 <= 24 ** 2) v = 1500; // vertebra
      }
      px.writeUInt16LE(Math.max(0, Math.min(4095, v + Math.round((hash(x + 512 * z, y) - 0.5) * 40))), 2 * (y * 512 + x));
    }
  }
  return px;
}

/** An ultrasound frame, 640x480 8-bit: a sector from an apex at the top, speckle that fades with depth. */
function ultrasoundFrame(k) {
  const px = Buffer.alloc(640 * 480);
  for (let y = 0; y < 480; y++) {
    for (let x = 0; x < 640; x++) {
      const [dx, dy] = [x - 320, y - 30];
      const r = Math.hypot(dx, dy);
      if (dy <= 0 || r > 440 || Math.abs(Math.atan2(dx, dy)) > Math.PI / 4) continue;
      // Speckle in grains of ~3x3 pixels, fading with depth, brighter in a band (an organ wall).
      const grain = hash(Math.floor(x / 3) + 1000 * k, Math.floor(y / 3));
      const wall = Math.abs(r - 260 - 20 * Math.sin(dx / 40)) < 12 ? 90 : 0;
      px[y * 640 + x] = Math.min(255, Math.round((30 + 110 * grain) * (1 - r / 700) + wall));
    }
  }
  return px;
}

/** Writes a header and pixel data whose bytes are already made. */
async function writeWhole(path, head, pixels) {
  const out = createWriteStream(path);
  out.write(head);
  out.write(pixelHeader(pixels.length));
  out.end(pixels);
  await once(out, 'finish');
}

if (seriesCount > 0) {
  for (const sub of ['series', 'series-noise', 'us']) mkdirSync(join(dir, sub), { recursive: true });
  for (let i = 1; i <= seriesCount; i++) {
    await writeWhole(join(dir, 'series', `slice${String(i).padStart(5, '0')}.dcm`), header(i, 500, 1, 512, 512).bytes, phantomSlice(i - 1, seriesCount));
    await writeFile(join(dir, 'series-noise', `slice${String(i).padStart(5, '0')}.dcm`), header(i, 501, 1, 512, 512).bytes, 512 * 512 * 2);
  }
  for (let k = 1; k <= usCount; k++) await writeWhole(join(dir, 'us', `us${String(k).padStart(4, '0')}.dcm`), header(k, 600 + k, 1, 480, 640, true).bytes, ultrasoundFrame(k));
}

mkdirSync(join(dir, 'small'), { recursive: true });
mkdirSync(join(dir, 'large'), { recursive: true });
for (let i = 1; i <= smallCount; i++) {
  const { bytes } = header(i, (i % 20) + 1, 1, 512, 512);
  await writeFile(join(dir, 'small', `img${String(i).padStart(5, '0')}.dcm`), bytes, 512 * 512 * 2);
}
for (const [k, mb] of largeSizes.entries()) {
  const frameBytes = 512 * 512 * 2;
  const frames = Math.round((mb * 1024 * 1024) / frameBytes);
  const { bytes } = header(k + 1, 100 + k, frames, 512, 512);
  await writeFile(join(dir, 'large', `multiframe-${mb}MB.dcm`), bytes, frames * frameBytes);
}
console.log(`corpus: ${smallCount} small files, large files of ${largeSizes.join(', ')} MB${seriesCount > 0 ? `, a CT series of ${seriesCount} (phantom and noise), ${usCount} ultrasound images` : ''} in ${dir}`);
