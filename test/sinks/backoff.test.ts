import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../src/net/dimse-store.js';
import { backoffDelay } from '../../src/sinks/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the first delay up to the longest, within ±20%', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 5000, mid))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(1, 1000, 5000, () => 0)).toBe(800);
    expect(backoffDelay(1, 1000, 5000, () => 1)).toBe(1200);
  });
});

describe('classifyStatus (PS3.4 C-STORE statuses)', () => {
  it('counts success and warnings as stored', () => {
    expect(classifyStatus(0x0000).kind).toBe('stored');
    expect(classifyStatus(0xb000).kind).toBe('stored');
    expect(classifyStatus(0xb007).kind).toBe('stored');
  });
  it('retries out of resources and cancel', () => {
    expect(classifyStatus(0xa700).kind).toBe('retry');
    expect(classifyStatus(0xa7ff).kind).toBe('retry');
    expect(classifyStatus(0xfe00).kind).toBe('retry');
  });
  it('fails the rest with the code in the reason', () => {
    expect(classifyStatus(0xa900)).toMatchObject({ kind: 'failed', status: 0xa900, reason: expect.stringContaining('0xA900') });
    expect(classifyStatus(0xc000).kind).toBe('failed');
    expect(classifyStatus(0x0122).kind).toBe('failed');
  });
});
