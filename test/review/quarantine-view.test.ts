// The reviewer's view of the quarantine: items the real pipeline held (the OCR's text boxes on a
// DX image with text drawn in; secondary captures held by the header rules), listed from their
// sidecars, resolved by id, and rendered to PNG with the boxes drawn where the detector put them.
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextBox } from '../../src/detect/detector.js';
import { type QuarantineItem, ReviewError, listQuarantine, resolveItem } from '../../src/review/quarantine-items.js';
import { renderFrame } from '../../src/review/render-frame.js';
import { PYDICOM_TEST_FILES } from '../helpers/corpus.js';
import { type HeldProject, heldProject, textCorpus } from './review-fixture.js';

let corpus: string;
let held: HeldProject;
let items: QuarantineItem[];
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  corpus = textCorpus();
  held = await heldProject(corpus, {
    'dx-text.dcm': { from: 'ct-white-tl.dcm', set: { '(0008,0060)': 'DX', '(0010,0010)': 'DOE^JANE', '(0010,0020)': '12345678' } },
    'sc-2frame.dcm': { from: join(PYDICOM_TEST_FILES, 'SC_rgb_rle_2frame.dcm') },
    'dx-clean.dcm': { from: 'ct-clean.dcm', set: { '(0008,0060)': 'DX' } },
  });
  items = await listQuarantine(held.dirs.quarantine);
}, 180_000);

afterAll(async () => {
  await held.store.close();
  rmSync(held.root, { recursive: true, force: true });
  rmSync(corpus, { recursive: true, force: true });
});

const itemOf = (input: string): QuarantineItem => {
  const hash = sha(join(held.dirs.input, input));
  const item = items.find((i) => i.inputHash === hash);
  if (!item) throw new Error(`${input} is not in the quarantine`);
  return item;
};

describe('listing', () => {
  it('lists every held input once, with its reason, findings, id, size and settling time; the clean one was delivered', () => {
    expect(held.outcomes.get('dx-clean.dcm')?.kind).toBe('delivered');
    expect(items).toHaveLength(2);
    const dx = itemOf('dx-text.dcm');
    expect(dx.id).toBe(dx.inputHash.slice(0, 12));
    expect(dx.name).toBe(dx.inputHash.slice(0, 32));
    expect(dx.bytes).toBe(readFileSync(join(held.dirs.input, 'dx-text.dcm')).length);
    expect(dx.reason).toBe('text-matches-header');
    expect(dx.findings).toHaveLength(1);
    expect(dx.findings[0]).toMatchObject({ detector: 'pixel-text', rule: 'text-matches-header' });
    expect(dx.findings[0]?.boxes).toBeGreaterThanOrEqual(2);
    expect(dx.boxes).toHaveLength(dx.findings[0]?.boxes ?? -1);
    expect(Date.parse(dx.settledAt)).not.toBeNaN();
    const sc = itemOf('sc-2frame.dcm');
    expect(sc.findings).toEqual([{ detector: 'burned-in-rules', rule: 'secondary-capture', reason: expect.any(String), boxes: 0 }]);
    expect(sc.boxes).toEqual([]);
  });

  it('resolves an id (any case, 12 to 32 digits) to exactly one item, and refuses what is not one', async () => {
    const dx = itemOf('dx-text.dcm');
    expect((await resolveItem(held.dirs.quarantine, dx.id)).path).toBe(dx.path);
    expect((await resolveItem(held.dirs.quarantine, dx.name.toUpperCase())).path).toBe(dx.path);
    const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (e instanceof ReviewError ? e.code : String(e)));
    for (const bad of ['../../etc/passwd', `${dx.id}/..`, dx.id.slice(0, 11), 'g'.repeat(12), `${dx.name}0`, '']) {
      expect(await code(resolveItem(held.dirs.quarantine, bad)), bad).toBe('bad-id');
    }
    expect(await code(resolveItem(held.dirs.quarantine, 'f'.repeat(12)))).toBe('unknown');
  });

  it('says an id is ambiguous when two items share it, and skips sidecars without their original or with a link in its place', async () => {
    const q = held.dirs.quarantine;
    const sidecar = JSON.parse(readFileSync(itemOf('sc-2frame.dcm').sidecarPath, 'utf8')) as { input: { sha256: string } };
    const prefix = 'abcdef012345';
    const names = [`${prefix}${'1'.repeat(20)}`, `${prefix}${'2'.repeat(20)}`];
    for (const n of names) {
      writeFileSync(join(q, `${n}.json`), JSON.stringify({ ...sidecar, input: { ...sidecar.input, sha256: `${n}${'0'.repeat(32)}` } }));
      copyFileSync(itemOf('sc-2frame.dcm').path, join(q, `${n}.dcm`));
    }
    try {
      await expect(resolveItem(q, prefix)).rejects.toMatchObject({ code: 'ambiguous' });
      expect((await resolveItem(q, names[0] as string)).name).toBe(names[0]);
      rmSync(join(q, `${names[1]}.dcm`));
      expect((await resolveItem(q, prefix)).name).toBe(names[0]);
      expect(await listQuarantine(q)).toHaveLength(3);
      // A link in an original's place is never followed: no item.
      symlinkSync(itemOf('sc-2frame.dcm').path, join(q, `${names[1]}.dcm`));
      expect(await listQuarantine(q)).toHaveLength(3);
      expect((await resolveItem(q, prefix)).name).toBe(names[0]);
    } finally {
      for (const n of names) for (const ext of ['json', 'dcm']) rmSync(join(q, `${n}.${ext}`), { force: true });
    }
  });
});

/** The RGB value of the PNG's pixel at (x, y). */
async function pixelsOf(png: Buffer): Promise<{ width: number; height: number; at: (x: number, y: number) => [number, number, number] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width, height: info.height,
    at: (x, y) => {
      const i = (Math.round(y) * info.width + Math.round(x)) * info.channels;
      return [data[i] as number, data[i + 1] as number, data[i + 2] as number];
    },
  };
}
const isRed = ([r, g, b]: [number, number, number]): boolean => r > 200 && g < 60 && b < 60;
const isGrey = ([r, g, b]: [number, number, number]): boolean => r === g && g === b;

/** Red all around the box, just outside it; grey inside it. */
async function expectOutlined(png: Buffer, box: TextBox, scale: number): Promise<void> {
  const p = await pixelsOf(png);
  const [x0, y0, x1, y1] = [box.x * scale, box.y * scale, (box.x + box.width) * scale, (box.y + box.height) * scale];
  const midX = (x0 + x1) / 2;
  const midY = (y0 + y1) / 2;
  if (x0 >= 2) expect(isRed(p.at(x0 - 1, midY)), 'left edge').toBe(true);
  if (y0 >= 2) expect(isRed(p.at(midX, y0 - 1)), 'top edge').toBe(true);
  if (x1 + 1 < p.width) expect(isRed(p.at(x1 + 0.5, midY)), 'right edge').toBe(true);
  if (y1 + 1 < p.height) expect(isRed(p.at(midX, y1 + 0.5)), 'bottom edge').toBe(true);
  expect(isGrey(p.at(midX, midY)), 'inside').toBe(true);
}

describe('rendering', () => {
  it('renders a frame at its own size with the detector\'s boxes outlined where they are, and nothing red elsewhere', async () => {
    const dx = itemOf('dx-text.dcm');
    const r = await renderFrame(dx.path, dx.boxes);
    expect(r).toMatchObject({ frame: 0, frameCount: 1, width: 128, height: 128, frameWidth: 128, frameHeight: 128, scale: 1, boxesDrawn: dx.boxes.length });
    const meta = await sharp(r.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 128, 128]);
    for (const box of dx.boxes) await expectOutlined(r.png, box, 1);
    // Without boxes: no red pixel at all (the image itself is grey).
    const plain = await pixelsOf((await renderFrame(dx.path, [])).png);
    let red = 0;
    for (let y = 0; y < plain.height; y++) for (let x = 0; x < plain.width; x++) if (isRed(plain.at(x, y))) red++;
    expect(red).toBe(0);
  });

  it('scales down to a maximum width, the boxes with it, and draws a reviewer\'s adjusted boxes', async () => {
    const dx = itemOf('dx-text.dcm');
    const r = await renderFrame(dx.path, dx.boxes, { maxWidth: 64 });
    expect([r.width, r.height, r.scale]).toEqual([64, 64, 0.5]);
    const big = dx.boxes.find((b) => b.width >= 16 && b.height >= 8) ?? dx.boxes[0] as TextBox;
    await expectOutlined(r.png, big, 0.5);
    const adjusted: TextBox = { frame: 0, x: 40, y: 60, width: 30, height: 20, confidence: 0 };
    const a = await renderFrame(dx.path, [adjusted]);
    expect(a.boxesDrawn).toBe(1);
    await expectOutlined(a.png, adjusted, 1);
  });

  it('browses every frame of a multi-frame image, draws only that frame\'s boxes, and refuses a frame past the last', async () => {
    const sc = itemOf('sc-2frame.dcm');
    const box: TextBox = { frame: 1, x: 20, y: 20, width: 30, height: 20, confidence: 0 };
    const first = await renderFrame(sc.path, [box], { frame: 0 });
    const second = await renderFrame(sc.path, [box], { frame: 1 });
    expect([first.frameCount, first.boxesDrawn, second.frame, second.boxesDrawn]).toEqual([2, 0, 1, 1]);
    expect([second.width, second.height]).toEqual([100, 100]);
    await expectOutlined(second.png, box, 1);
    await expect(renderFrame(sc.path, [], { frame: 2 })).rejects.toMatchObject({ code: 'bad-frame' });
    await expect(renderFrame(sc.path, [], { frame: -1 })).rejects.toMatchObject({ code: 'bad-frame' });
  });
});
