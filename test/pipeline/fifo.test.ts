import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/pipeline/fifo.js';

describe('a FIFO queue', () => {
  it('gives items back in order across its compactions, interleaved with pushes', () => {
    const q = new Fifo<number>();
    const taken: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(next++);
      for (let i = 0; i < 200; i++) taken.push(q.take() as number);
    }
    expect(q.length).toBe(next - taken.length);
    while (q.length > 0) taken.push(q.take() as number);
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.take()).toBeUndefined();
  });

  it('compacts in amortised constant time: draining 200,000 items moves fewer than 400,000 slots', () => {
    // Counted in slots moved by its compactions, not timed (compacting at every take would move ~2e10).
    const q = new Fifo<string>();
    for (let i = 0; i < 200_000; i++) q.push(`/inbox/drop/${i}.dcm`);
    const splice = Array.prototype.splice;
    let moved = 0;
    Array.prototype.splice = function (this: unknown[], ...args: Parameters<typeof splice>) {
      moved += this.length;
      return splice.apply(this, args);
    } as typeof splice;
    try {
      while (q.length > 0) q.take();
    } finally {
      Array.prototype.splice = splice;
    }
    expect(moved).toBeLessThan(2 * 200_000);
  });

  it('is empty after clear', () => {
    const q = new Fifo<number>();
    q.push(1);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.take()).toBeUndefined();
  });
});
