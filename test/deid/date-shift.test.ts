import { describe, expect, it } from 'vitest';
import { shiftDa, shiftDt } from '../../src/deid/date-shift.js';

describe('shiftDa', () => {
  it('shifts across month, year and leap-day boundaries', () => {
    expect(shiftDa('20240315', -100)).toBe('20231206');
    expect(shiftDa('20240301', -1)).toBe('20240229');
    expect(shiftDa('20231231', 1)).toBe('20240101');
  });
  it('keeps the interval between two dates', () => {
    const a = shiftDa('20240110', -321) as string;
    const b = shiftDa('20240420', -321) as string;
    const days = (s: string): number => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)) / 86_400_000;
    expect(days(b) - days(a)).toBe(101);
  });
  it('shifts every value of a multi-valued element and both ends of a range', () => {
    expect(shiftDa('20240101\\20240102', 10)).toBe('20240111\\20240112');
    expect(shiftDa('20240101-20240201', 1)).toBe('20240102-20240202');
    expect(shiftDa('-20240201', 1)).toBe('-20240202');
  });
  it('reads the ACR-NEMA form and writes the DICOM one', () => {
    expect(shiftDa('2024.03.15', 1)).toBe('20240316');
  });
  it('keeps empty values empty', () => {
    expect(shiftDa('', 5)).toBe('');
  });
  it('refuses what is not a real date, so the caller blanks it', () => {
    expect(shiftDa('20240231', 1)).toBeUndefined();
    expect(shiftDa('15 March 2024', 1)).toBeUndefined();
    expect(shiftDa('2024', 1)).toBeUndefined();
  });
});

describe('shiftDt', () => {
  it('shifts the date part and keeps time, fraction and UTC offset', () => {
    expect(shiftDt('20240315101705.250000+0100', -100)).toBe('20231206101705.250000+0100');
    expect(shiftDt('20240315', 1)).toBe('20240316');
    expect(shiftDt('2024031523', 1)).toBe('2024031623');
  });
  it('keeps reduced precision', () => {
    expect(shiftDt('202403', 30)).toBe('202404');
    expect(shiftDt('2024', -400)).toBe('2023');
  });
  it('refuses malformed values', () => {
    expect(shiftDt('20240315T1017', 1)).toBeUndefined();
    expect(shiftDt('yesterday', 1)).toBeUndefined();
  });
});
