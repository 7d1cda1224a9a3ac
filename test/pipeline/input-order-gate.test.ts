import { describe, expect, it } from 'vitest';
import { InputOrderGate } from '../../src/pipeline/input-order-gate.js';

describe('the input-order gate', () => {
  it('lets files pass in index order whatever order they arrive in, and skips files that finished without passing', async () => {
    const gate = new InputOrderGate();
    const passedOrder: number[] = [];
    const arrive = async (i: number): Promise<void> => {
      await gate.turn(i);
      passedOrder.push(i);
      gate.passed(i);
    };
    const pending = [arrive(3), arrive(1), arrive(4)];
    gate.passed(2); // finished without asking (quarantined)
    await new Promise((r) => setTimeout(r, 5));
    expect(passedOrder).toEqual([]); // 0 has not passed yet
    const zero = arrive(0);
    await Promise.all([...pending, zero]);
    expect(passedOrder).toEqual([0, 1, 3, 4]);
    gate.passed(0); // idempotent
    await gate.turn(5);
  });
});
