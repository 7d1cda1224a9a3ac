import { describe, expect, it } from 'vitest';
import { remapUid, remapUids } from '../../src/deid/uid-remap.js';

const secret = Buffer.alloc(32, 7);

describe('remapUid', () => {
  it('is deterministic for a secret and differs between secrets', () => {
    const a = remapUid('1.2.3.4', secret);
    expect(remapUid('1.2.3.4', secret)).toBe(a);
    expect(remapUid('1.2.3.4', Buffer.alloc(32, 8))).not.toBe(a);
    expect(remapUid('1.2.3.5', secret)).not.toBe(a);
  });
  it('ignores padding, so a padded and an unpadded reference agree', () => {
    expect(remapUid('1.2.3.4\0', secret)).toBe(remapUid('1.2.3.4', secret));
  });
  it('makes a valid 2.25 UID: a version 8 UUID as a decimal, at most 64 characters', () => {
    for (let i = 0; i < 200; i++) {
      const u = remapUid(`1.2.840.${i}`, secret);
      expect(u).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
      expect(u.length).toBeLessThanOrEqual(64);
      const hex = BigInt(u.slice(5)).toString(16).padStart(32, '0');
      expect(hex[12]).toBe('8');
      expect(['8', '9', 'a', 'b']).toContain(hex[16]);
    }
  });
  it('remaps each value of a multi-valued element', () => {
    expect(remapUids('1.2\\1.3', secret)).toBe(`${remapUid('1.2', secret)}\\${remapUid('1.3', secret)}`);
  });
});
