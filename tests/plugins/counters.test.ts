// CounterTotals (the WASM counter_add summer) against a Map of bigints summed in the test: ids in
// its table (0..4095), past it (>= 4096) and negative, deltas of both signs past 2^32, read by
// number(), get(), has(), size and in first-counted order.
import { describe, expect, it } from 'vitest';
import { CounterTotals } from '../../host/plugins/counters.js';

describe('CounterTotals', () => {
  it('sums every id like a Map of bigints, ids 0..4095, >= 4096 and negative alike', () => {
    const t = new CounterTotals();
    const ref = new Map<number, bigint>();
    const ids = [0, 1, 7, 4095, 4096, 4097, 65535, 2 ** 31 - 1, -1, -2, -4096, -(2 ** 31)];
    let x = 2026;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let i = 0; i < 20000; i++) {
      const id = ids[rnd(ids.length)];
      // Deltas of either sign, some past 32 bits: the totals carry between the i64's halves.
      const d = BigInt(rnd(1 << 20) - (1 << 19)) * (i % 5 === 0 ? 1n << 22n : 1n);
      t.add(id, d);
      ref.set(id, (ref.get(id) ?? 0n) + d);
    }
    for (const id of ids) {
      expect(t.get(id), `id ${id}`).toBe(ref.get(id));
      expect(t.number(id), `id ${id}`).toBe(Number(ref.get(id)));
      expect(t.has(id)).toBe(true);
    }
    expect(t.size).toBe(ids.length);
    expect(new Map(t)).toEqual(ref);
  });

  it('never counted: undefined, 0 and absent, also next to counted ids and after a zero sum', () => {
    const t = new CounterTotals();
    t.add(5, 3n);
    t.add(5, -3n);
    t.add(5000, 1n);
    t.add(-7, 2n);
    for (const id of [4, 6, 4095, 4096, 4999, -6, -8]) {
      expect(t.get(id), `id ${id}`).toBeUndefined();
      expect(t.number(id)).toBe(0);
      expect(t.has(id)).toBe(false);
    }
    // Counted to a zero total is still counted.
    expect(t.get(5)).toBe(0n);
    expect(t.has(5)).toBe(true);
    expect(t.size).toBe(3);
  });

  it('iterates ids 0..4095 in the order first counted, then the others in the order first counted', () => {
    const t = new CounterTotals();
    for (const id of [9, 4096, 3, -1, 9, 4095, 3, 70000, 0]) t.add(id, 1n);
    expect([...t.entries()].map(([id]) => id)).toEqual([9, 3, 4095, 0, 4096, -1, 70000]);
    expect([...t]).toEqual([[9, 2n], [3, 2n], [4095, 1n], [0, 1n], [4096, 1n], [-1, 1n], [70000, 1n]]);
  });

  it('totals past 2^53 are exact through get(); number() is the nearest double', () => {
    const t = new CounterTotals();
    const big = (1n << 62n) + 12345n;
    for (const id of [1, 9999, -3]) {
      t.add(id, big);
      t.add(id, big);
      expect(t.get(id)).toBe(2n * big - (1n << 64n)); // the i64 wraps like the plugin's own i64 would
    }
    t.add(2, (1n << 60n) + 1n);
    expect(t.get(2)).toBe((1n << 60n) + 1n);
    expect(t.number(2)).toBe(Number((1n << 60n) + 1n));
  });
});
