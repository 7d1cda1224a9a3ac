// The pixel detector's 'series' mode, with the OCR replaced by a fake (decoding stays real, on
// tiny in-memory frames): which images of a series are looked at, that the first images' verdicts
// are waited for by the images in flight beside them, and that what it remembers is bounded.
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_PIXEL_POLICY, MAX_SERIES_REMEMBERED, SERIES_LOOKED_WHOLE, createPixelTextDetector, isSeriesSample, modeFor } from '../../src/detect/pixel-text-detector.js';
import type { InstanceFacts } from '../../src/detect/detector.js';
import type { TextLine } from '../../src/detect/ocr-engine.js';
import type { DataElement } from '../../src/dicom/dataset.js';
import type { DicomFile } from '../../src/dicom/read-file.js';
import { tagOf } from '../../src/dicom/tag.js';
import type { DecodedFrame } from '../../src/pixels/decode-frame.js';

const CT: InstanceFacts = { modality: 'CT', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', imageType: [], burnedInAnnotation: '', manufacturer: '', modelName: '' };
const us = (g: number, e: number, v: number): DataElement => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return { kind: 'value', tag: tagOf(g, e), vr: 'US', value: b }; };
const str = (g: number, e: number, vr: string, v: string): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr, value: Buffer.from(v.length % 2 ? `${v}${vr === 'UI' ? '\0' : ' '}` : v, 'latin1') });

/**
 * An 8×8 8-bit image whose first two pixels carry `id` (what the fake OCR goes by); `unreadable`
 * leaves out Rows, so decoding fails before any OCR.
 */
function image(series: string | undefined, id: number, unreadable = false, extra: { study?: string; imageType?: string } = {}): { dataset: DataElement[]; file: DicomFile } {
  const pixels = Buffer.alloc(64);
  pixels.writeUInt16LE(id);
  const dataset = [
    ...(extra.imageType === undefined ? [] : [str(0x0008, 0x0008, 'CS', extra.imageType)]),
    ...(extra.study === undefined ? [] : [str(0x0020, 0x000d, 'UI', extra.study)]),
    ...(series === undefined ? [] : [str(0x0020, 0x000e, 'UI', series)]),
    us(0x28, 0x2, 1), str(0x28, 0x4, 'CS', 'MONOCHROME2'), ...(unreadable ? [] : [us(0x28, 0x10, 8)]), us(0x28, 0x11, 8),
    us(0x28, 0x100, 8), us(0x28, 0x101, 8), us(0x28, 0x102, 7), us(0x28, 0x103, 0),
    { kind: 'value', tag: tagOf(0x7fe0, 0x10), vr: 'OB', value: pixels } satisfies DataElement,
  ];
  const file = { sourcePath: '/nonexistent', transferSyntax: { uid: '1.2.840.10008.1.2.1', littleEndian: true, explicitVR: true, deflated: false },
    encoding: { littleEndian: true, explicitVR: true }, meta: [], dataset } satisfies DicomFile;
  return { dataset, file };
}

const LINE: TextLine = { text: 'SMITH JOHN', confidence: 0.95, box: { x: 1, y: 1, width: 4, height: 2 } };

/** A fake OCR: text in the ids of `withText`; records the ids looked at; `gate` holds every look until opened. */
function fakeOcr(withText: Set<number> = new Set()) {
  const looked: number[] = [];
  let open!: () => void;
  let gate: Promise<void> | undefined;
  return {
    looked,
    hold() { gate = new Promise((r) => { open = r; }); },
    release() { open(); gate = undefined; },
    async textInFrame(frame: DecodedFrame): Promise<TextLine[]> {
      const id = frame.data.readUInt16LE(0);
      looked.push(id);
      if (gate) await gate;
      return withText.has(id) ? [LINE] : [];
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));
const rules = (findings: readonly { rule: string }[]) => findings.map((f) => f.rule);

describe("'series': a series' first image tells", () => {
  it('is the default for CT, MR, PT and NM; SEG stays with the header rules', () => {
    for (const m of ['CT', 'MR', 'PT', 'NM']) expect(modeFor(DEFAULT_PIXEL_POLICY, { ...CT, modality: m }), m).toBe('series');
    expect(modeFor(DEFAULT_PIXEL_POLICY, { ...CT, modality: 'SEG' })).toBe('header');
  });

  it('samples a clean series at its 64th, 128th, 256th, … image', () => {
    const picked = Array.from({ length: 5000 }, (_, i) => i + 1).filter(isSeriesSample);
    expect(picked).toEqual([64, 128, 256, 512, 1024, 2048, 4096]);
  });

  it('looks at the first eight, makes the images in flight beside them wait for their verdicts, and looks at all after text', async () => {
    expect(SERIES_LOOKED_WHOLE).toBe(8);
    const ocr = fakeOcr(new Set([5]));
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    ocr.hold();
    const results = Array.from({ length: 10 }, (_, i) => { const { dataset, file } = image('1.2.3.1', i + 1); return d.inspect(CT, dataset, file); });
    let settled = 0;
    for (const r of results) void r.then(() => { settled += 1; });
    await vi.waitFor(() => expect(ocr.looked).toHaveLength(8));
    for (let i = 0; i < 5; i++) await flush();
    // The first eight are being read; the 9th and 10th neither passed nor started.
    expect([...ocr.looked].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(settled).toBe(0);
    ocr.release();
    const found = await Promise.all(results);
    expect(found.map((f, i) => (f.length > 0 ? i + 1 : 0)).filter(Boolean)).toEqual([5]);
    // Text in the 5th: the 9th and 10th were looked at (their own pixels, clean here, decide).
    expect([...ocr.looked].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let i = 11; i <= 14; i++) { const { dataset, file } = image('1.2.3.1', i); await d.inspect(CT, dataset, file); }
    expect(ocr.looked).toHaveLength(14);
  });

  it('looks at every image of a series of up to eight: an image and its twin with text are both looked at', async () => {
    const ocr = fakeOcr(new Set([2]));
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    const clean = image('1.2.3.9', 1);
    const twin = image('1.2.3.9', 2);
    expect(await d.inspect(CT, clean.dataset, clean.file)).toEqual([]);
    expect(rules(await d.inspect(CT, twin.dataset, twin.file))).toEqual(['text-in-pixels']);
  });

  it('lets a clean series pass on the header rules, but for its samples; text in a sample turns it to looking at all', async () => {
    const ocr = fakeOcr(new Set([128]));
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    const held: number[] = [];
    // Concurrently, in groups of 16, as the pipeline has them in flight.
    for (let start = 1; start <= 200; start += 16) {
      await Promise.all(Array.from({ length: Math.min(16, 201 - start) }, async (_, k) => {
        const { dataset, file } = image('1.2.3.2', start + k);
        if ((await d.inspect(CT, dataset, file)).length > 0) held.push(start + k);
      }));
    }
    expect(held).toEqual([128]);
    expect([...ocr.looked.slice(0, 8)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ocr.looked.slice(8, 10)).toEqual([64, 128]);
    // From the 129th on, every image is looked at.
    expect(ocr.looked.slice(10)).toEqual(Array.from({ length: 72 }, (_, i) => 129 + i));
  });

  it('counts a first image whose pixels cannot be read as text: the whole series is looked at', async () => {
    const ocr = fakeOcr();
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    const first = image('1.2.3.3', 1, true);
    expect(rules(await d.inspect(CT, first.dataset, first.file))).toEqual(['pixels-unreadable']);
    for (let i = 2; i <= 12; i++) { const { dataset, file } = image('1.2.3.3', i); expect(await d.inspect(CT, dataset, file)).toEqual([]); }
    expect(ocr.looked).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('keeps series apart, looks at an image without a Series Instance UID, and leaves SEG to the header', async () => {
    const ocr = fakeOcr(new Set([101]));
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    for (let i = 0; i < 10; i++) {
      for (const [series, base] of [['1.2.3.4', 100], ['1.2.3.5', 200]] as const) {
        const { dataset, file } = image(series, base + 1 + i);
        await d.inspect(CT, dataset, file);
      }
    }
    // 1.2.3.4 began with text (all looked at); 1.2.3.5 was clean (its first eight only).
    expect(ocr.looked).toEqual([...Array.from({ length: 8 }, (_, i) => [101 + i, 201 + i]).flat(), 109, 110]);
    ocr.looked.length = 0;
    for (let i = 1; i <= 3; i++) { const { dataset, file } = image(undefined, 300 + i); await d.inspect(CT, dataset, file); }
    expect(ocr.looked).toEqual([301, 302, 303]);
    const seg = image('1.2.3.6', 400);
    expect(await d.inspect({ ...CT, modality: 'SEG', sopClassUid: '1.2.840.10008.5.1.4.1.1.66.4' }, seg.dataset, seg.file)).toEqual([]);
    expect(ocr.looked).toEqual([301, 302, 303]);
  });

  it(`remembers at most ${MAX_SERIES_REMEMBERED} series, forgetting the least recently seen`, async () => {
    const ocr = fakeOcr();
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    const meet = async (series: string) => { const { dataset, file } = image(series, 7); await d.inspect(CT, dataset, file); };
    for (let i = 0; i < SERIES_LOOKED_WHOLE; i++) await meet('9.0');
    for (let s = 1; s < MAX_SERIES_REMEMBERED; s++) await meet(`9.${s}`);
    const looks = SERIES_LOOKED_WHOLE + MAX_SERIES_REMEMBERED - 1;
    expect(ocr.looked).toHaveLength(looks);
    // Met again (clean, past its first eight, not a sample): not looked at, and now the most recently seen.
    await meet('9.0');
    expect(ocr.looked).toHaveLength(looks);
    // One more series: the least recently seen (9.1) is forgotten, 9.0 is not.
    await meet('9.new');
    await meet('9.0');
    expect(ocr.looked).toHaveLength(looks + 1);
    await meet('9.1');
    expect(ocr.looked).toHaveLength(looks + 2);
  });

  it('looks at a later image of another kind (a key image, a screen save saved into the series), and keeps studies apart', async () => {
    const ocr = fakeOcr();
    const d = createPixelTextDetector(DEFAULT_PIXEL_POLICY, { textInFrame: ocr.textInFrame });
    const facts = (imageType: string[]): InstanceFacts => ({ ...CT, imageType });
    for (let i = 1; i <= 10; i++) { const { dataset, file } = image('1.2.3.7', i, false, { study: '1.2.3', imageType: 'ORIGINAL\\PRIMARY' }); await d.inspect(facts(['ORIGINAL', 'PRIMARY']), dataset, file); }
    expect(ocr.looked).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const key = image('1.2.3.7', 11, false, { study: '1.2.3', imageType: 'DERIVED\\SECONDARY' });
    await d.inspect(facts(['DERIVED', 'SECONDARY']), key.dataset, key.file);
    expect(ocr.looked.at(-1)).toBe(11);
    // The same Series Instance UID in another study is another series: its first images are looked at.
    const other = image('1.2.3.7', 12, false, { study: '9.9.9', imageType: 'ORIGINAL\\PRIMARY' });
    await d.inspect(facts(['ORIGINAL', 'PRIMARY']), other.dataset, other.file);
    expect(ocr.looked.at(-1)).toBe(12);
  });
});
