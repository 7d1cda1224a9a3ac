// The pixel detector's policy and rules, without OCR: which images are looked at, which frames,
// what a line must be to be let through, and that what cannot be decoded is held.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIXEL_POLICY, allowListed, createPixelTextDetector, modeFor, sampledFrames } from '../../src/detect/pixel-text-detector.js';
import type { InstanceFacts } from '../../src/detect/detector.js';
import { runDetectors } from '../../src/detect/detector.js';
import { pixelPolicyOf } from '../../src/pipeline/project.js';
import type { DataElement } from '../../src/dicom/dataset.js';
import type { DicomFile } from '../../src/dicom/read-file.js';
import { tagOf } from '../../src/dicom/tag.js';
import { imageGeometryOf, PixelError } from '../../src/pixels/image-geometry.js';

const facts = (modality: string, sopClassUid = '1.2.840.10008.5.1.4.1.1.1'): InstanceFacts =>
  ({ modality, sopClassUid, imageType: [], burnedInAnnotation: '', manufacturer: '', modelName: '' });
const us = (e: number, v: number): DataElement => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return { kind: 'value', tag: tagOf(0x28, e), vr: 'US', value: b }; };
const cs = (e: number, v: string): DataElement => ({ kind: 'value', tag: tagOf(0x28, e), vr: 'CS', value: Buffer.from(v.length % 2 ? `${v} ` : v) });

describe('which images and frames are looked at', () => {
  it('looks at everything, the cross-sectional modalities by series, whatever the modality is called', () => {
    for (const m of ['CR', 'DX', 'XR', 'RG', 'US', 'XA', 'MG', '', 'BMD']) expect(modeFor(DEFAULT_PIXEL_POLICY, facts(m)), m).toBe('all');
    for (const m of ['CT', 'MR', 'PT', 'NM']) expect(modeFor(DEFAULT_PIXEL_POLICY, facts(m)), m).toBe('series');
    expect(modeFor(DEFAULT_PIXEL_POLICY, facts('SEG'))).toBe('header');
    // A secondary capture is looked at even when it says CT.
    expect(modeFor(DEFAULT_PIXEL_POLICY, facts('CT', '1.2.840.10008.5.1.4.1.1.7.4'))).toBe('all');
  });

  it('matches SOP Class prefixes on whole components, and takes a project’s entries over the default', () => {
    const p = pixelPolicyOf({ inspect: { '1.2.840.10008.5.1.4.1.1.1': 'header', CT: 'all' } });
    expect(modeFor(p, facts('DX', '1.2.840.10008.5.1.4.1.1.1.1'))).toBe('header'); // digital X-ray, under …1.1.1
    expect(modeFor(p, facts('XA', '1.2.840.10008.5.1.4.1.1.12.1'))).toBe('all'); // not under …1.1.1
    expect(modeFor(p, facts('CT', '1.2.840.10008.5.1.4.1.1.2'))).toBe('all');
    expect(modeFor(p, facts('MR', '1.2.840.10008.5.1.4.1.1.4'))).toBe('series');
  });

  it('looks at every frame of up to 16; of more, the first, middle and last and every 10th, at most 64 in all', () => {
    expect(sampledFrames(1)).toEqual([0]);
    expect(sampledFrames(12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(sampledFrames(25)).toEqual([0, 10, 12, 20, 24]);
    const huge = sampledFrames(1_000_000);
    expect(huge.length).toBeLessThanOrEqual(64);
    expect(huge).toContain(0);
    expect(huge).toContain(999_999);
  });
});

describe('what text holds an image', () => {
  it('lets through one marker or one scale number only; runs of numbers are dates and record numbers', () => {
    for (const ok of ['L', 'R', 'AP', 'LAT', '10', '5 cm', '2.5mm', 'cm']) expect(allowListed(ok), ok).toBe(ok !== 'cm');
    for (const held of ['12 05 80', '123 456 789', 'L R', 'DOE', '1234', 'MRN 12', '10 cm 20', '123.4567890', '12.3456789', '1.234']) expect(allowListed(held), held).toBe(false);
  });

  it('holds pixel data whose geometry is missing or inconsistent, and stops the chain at the first finding', async () => {
    const base = [us(0x2, 1), cs(0x4, 'MONOCHROME2'), us(0x10, 8), us(0x11, 8), us(0x100, 16), us(0x101, 12), us(0x102, 11)];
    expect(() => imageGeometryOf(base.filter((e) => e.tag !== tagOf(0x28, 0x100)), true)).toThrow(/malformed: no Bits Allocated/);
    expect(() => imageGeometryOf(base.filter((e) => e.tag !== tagOf(0x28, 0x10)), true)).toThrow(PixelError);
    expect(() => imageGeometryOf([...base.filter((e) => e.tag !== tagOf(0x28, 0x102)), us(0x102, 16)], true)).toThrow(/High Bit/);
    // A Photometric Interpretation that is not one is named by its tag, never quoted (a reason is written to the sidecar).
    for (const spp of [1, 3]) {
      const phi = [...base.filter((e) => e.tag !== tagOf(0x28, 0x2) && e.tag !== tagOf(0x28, 0x4)), us(0x2, spp), cs(0x4, 'DOE^JANE 12345678')];
      expect(() => imageGeometryOf(phi, true)).toThrow(/Photometric Interpretation \(0028,0004\)/);
      expect(() => imageGeometryOf(phi, true)).not.toThrow(/DOE|JANE|12345678/);
    }
    // Pixel data without Rows, as the detector meets it: held as unreadable, not passed as "no image".
    const pixels: DataElement = { kind: 'bulk', tag: tagOf(0x7fe0, 0x10), vr: 'OW', offset: 0, length: 128, undefinedLength: false };
    const dataset = [...base.filter((e) => e.tag !== tagOf(0x28, 0x10)), pixels];
    const file = { sourcePath: '/nonexistent', transferSyntax: { uid: '1.2.840.10008.1.2.1', littleEndian: true, explicitVR: true, deflated: false },
      encoding: { littleEndian: true, explicitVR: true }, meta: [], dataset, bytes: Buffer.alloc(256) } satisfies DicomFile;
    const findings = await createPixelTextDetector().inspect(facts('DX'), dataset, file);
    expect(findings.map((f) => f.rule)).toEqual(['pixels-unreadable']);
    // Native pixel data longer than its frames (a frame hidden past Number of Frames): held, not passed.
    const long = [...base, { kind: 'value', tag: tagOf(0x7fe0, 0x10), vr: 'OW', value: Buffer.alloc(8 * 8 * 2 * 3) } satisfies DataElement];
    const longFile = { ...file, dataset: long };
    const held = await createPixelTextDetector().inspect(facts('DX'), long, longFile);
    expect(held.map((f) => f.reason)).toEqual(['the pixels cannot be inspected: [pixels] malformed: pixel data of 384 bytes is longer than 1 frames of 128']);
    // No pixel data at all (a structured report): nothing to look at.
    expect(await createPixelTextDetector().inspect(facts('DX'), base, { ...file, dataset: base })).toEqual([]);
    // The chain stops at the first detector that holds: the costly one is not asked.
    let asked = 0;
    const first = { name: 'a', inspect: async () => [{ detector: 'a', rule: 'r', reason: 'x' }] };
    const second = { name: 'b', inspect: async () => { asked += 1; return []; } };
    expect((await runDetectors([first, second], dataset, file)).map((f) => f.rule)).toEqual(['r']);
    expect(asked).toBe(0);
  });
});
