import { describe, expect, it } from 'vitest';
import type { DataElement } from '../../src/dicom/dataset.js';
import { tagOf } from '../../src/dicom/tag.js';
import { cleanDescriptorBytes, cleanDescriptorText, cleanableBytes, descriptorContext } from '../../src/deid/descriptor-cleaner.js';

const text = (g: number, e: number, vr: string, s: string): DataElement => ({ kind: 'value', tag: tagOf(g, e), vr, value: Buffer.from(s, 'latin1') });
const dataset: DataElement[] = [
  text(0x0008, 0x0050, 'SH', 'ACC20240315001'), // Accession Number
  text(0x0008, 0x0080, 'LO', 'Mercy General Hospital'), // Institution Name
  text(0x0008, 0x0090, 'PN', 'House^Gregory^^Dr.'), // Referring Physician
  text(0x0008, 0x1030, 'LO', 'CT chest'), // Study Description: a descriptor, not hunted
  text(0x0010, 0x0010, 'PN', 'Doe^Jane^Q'),
  text(0x0010, 0x0020, 'LO', 'MRN12345'),
];
const ctx = descriptorContext(dataset, -10);
const clean = (s: string): string => cleanDescriptorText(s, ctx);

describe('Clean Descriptors', () => {
  it('removes the names of the people in the file, in any order and case, and keeps clinical words', () => {
    expect(clean('CT chest for DOE^JANE follow-up')).toBe('CT chest for follow-up');
    expect(clean('jane doe, chest CT, ordered by Dr. House')).toBe('chest CT, ordered by Dr.');
    expect(clean('Gregory House review')).toBe('review');
    expect(clean('Q-angle knee')).toBe('Q-angle knee'); // a one-letter initial is not hunted
  });
  it('removes the IDs, accession numbers and institutions of the same file', () => {
    expect(clean('MRN12345 abdomen')).toBe('abdomen');
    expect(clean('see acc20240315001')).toBe('see');
    expect(clean('Transfer from Mercy General Hospital')).toBe('Transfer from');
  });
  it('shifts dates in common formats by the project shift and removes what cannot be read', () => {
    expect(clean('F/U 2024-03-15')).toBe('F/U 2024-03-05');
    expect(clean('scan 15/03/2024')).toBe('scan 05/03/2024');
    expect(clean('scan 03/15/2024')).toBe('scan 03/05/2024');
    expect(clean('scan 03/04/2024 ok')).toBe('scan ok'); // day or month first: unknowable
    expect(clean('prior 15 Mar 2024')).toBe('prior 05 Mar 2024');
    expect(clean('prior March 15, 2024')).toBe('prior Mar 05, 2024');
    expect(clean('prior 20240315')).toBe('prior 20240305');
    expect(clean('prior 3/15/24')).toBe('prior');
    expect(cleanDescriptorText('F/U 2024-03-15', descriptorContext(dataset, undefined))).toBe('F/U 2024-03-15'); // full dates kept
  });
  it('removes phone numbers, e-mail addresses, URLs and MRN-like digit runs, not measurements', () => {
    expect(clean('call 555-867-5309 or (555) 867 5309')).toBe('call or');
    expect(clean('mail jane.doe@example.org now')).toBe('mail now');
    expect(clean('see https://pacs.example/x?y=1 and www.example.org')).toBe('see and');
    expect(clean('pt 00123456 chart A9876543')).toBe('pt chart');
    expect(clean('study 1.2.826.0.1.3680043.10.1137.77.1; prior')).toBe('study prior'); // whole, not cut
    expect(clean('kernel B30f 2.5 mm')).toBe('kernel B30f 2.5 mm');
    expect(clean('Axial 0.5 x 0.5 x 1.0 mm 120 kVp 512x512')).toBe('Axial 0.5 x 0.5 x 1.0 mm 120 kVp 512x512');
  });
  it('matches names in any case in UTF-8 text, and leaves other bytes as they were', () => {
    const utf8 = descriptorContext([{ kind: 'value', tag: tagOf(0x0010, 0x0010), vr: 'PN', value: Buffer.from('Müller^Jürgen', 'utf8') }], -10, 'utf8');
    const clean8 = (s: string): string => cleanDescriptorBytes(Buffer.from(s, 'utf8'), utf8).toString('utf8');
    expect(clean8('Knee MÜLLER')).toBe('Knee');
    expect(clean8('JÜRGEN müller, Knie rechts')).toBe('Knie rechts');
    expect(clean8('Müllerstraße')).toBe('Müllerstraße'); // a longer word is not the name
    const cjk = descriptorContext([{ kind: 'value', tag: tagOf(0x0010, 0x0010), vr: 'PN', value: Buffer.from('Yamada^Taro=山田^太郎=やまだ^たろう', 'utf8') },
      { kind: 'value', tag: tagOf(0x0008, 0x0090), vr: 'PN', value: Buffer.from('王^小明', 'utf8') }], -10, 'utf8');
    const cleanCjk = (s: string): string => cleanDescriptorBytes(Buffer.from(s, 'utf8'), cjk).toString('utf8');
    expect(cleanCjk('山田太郎さん CT')).toBe('さん CT');
    expect(cleanCjk('王小明的检查')).toBe('的检查');
  });
  it('splits double-barrelled names', () => {
    const ctx2 = descriptorContext([{ kind: 'value', tag: tagOf(0x0010, 0x0010), vr: 'PN', value: Buffer.from('SMITH-JONES^MARY') }], -10);
    expect(cleanDescriptorText('Mrs Smith knee', ctx2)).toBe('Mrs knee');
  });
  it('works on bytes only where a removal cannot cut a character in two', () => {
    expect(cleanableBytes(Buffer.from('plain ASCII'), ['ISO 2022 IR 87'])).toBe(true);
    expect(cleanableBytes(Buffer.from('Müller', 'utf8'), ['ISO_IR 192'])).toBe(true);
    expect(cleanableBytes(Buffer.from('\x1b$B;3ED\x1b(B', 'latin1'), ['', 'ISO 2022 IR 87'])).toBe(false);
    expect(cleanableBytes(Buffer.from([0xb0, 0x41]), ['GB18030'])).toBe(false);
  });
});
