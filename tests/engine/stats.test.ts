// The latency histogram: WASM buckets values, the host turns counts into percentiles. Checked
// against exact percentiles of known samples (log-linear buckets: within 1/16 of the value).
import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory } from '../../host/layout.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { HIST_BUCKETS, histBucketHigh, histBucketLow, latencyOf, readBlock, readHistogram } from '../../host/engine/stats.js';

describe('latency histogram', () => {
  const layout = computeLayout({ frameCount: 16, scratchBytes: 65536 });
  const memory = createMemory(layout);
  const w = instantiateEngine(compileEngine(), memory) as unknown as {
    statsHistRecord(hist: number, block: number, v: bigint): void;
    statsHistBucket(v: bigint): number;
    histBucketLow(b: number): bigint;
  };
  const block = layout.scratch.offset;
  const hist = block + 512;

  it('host and WASM agree on every bucket boundary, and each value lies in its bucket', () => {
    for (let b = 0; b < HIST_BUCKETS; b++) expect(Number(w.histBucketLow(b))).toBe(histBucketLow(b));
    for (const v of [0, 1, 15, 16, 17, 31, 32, 33, 1000, 4095, 4096, 123456, 987654321, 2 ** 40 - 1]) {
      const b = w.statsHistBucket(BigInt(v));
      expect(histBucketLow(b)).toBeLessThanOrEqual(v);
      expect(histBucketHigh(b)).toBeGreaterThan(v);
      // A bucket is at most 1/16 of its lower bound wide.
      if (v >= 16) expect(histBucketHigh(b) - histBucketLow(b)).toBeLessThanOrEqual(histBucketLow(b) / 16);
    }
    expect(w.statsHistBucket(2n ** 60n)).toBe(HIST_BUCKETS - 1);
  });

  it('percentiles of a known sample are within 6.25%, avg and max exact', () => {
    new Uint8Array(memory.buffer).fill(0, block, block + 512 + HIST_BUCKETS * 8);
    // A long-tailed sample: 10 000 values, 1 µs .. ~10 ms.
    const xs: number[] = [];
    let seed = 12345;
    for (let i = 0; i < 10000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      xs.push(Math.round(1000 * Math.exp((seed / 2 ** 32) * Math.log(10000))));
    }
    for (const x of xs) w.statsHistRecord(hist, block, BigInt(x));
    const sorted = [...xs].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.max(0, Math.ceil(q * xs.length) - 1)];
    const counts = new Float64Array(HIST_BUCKETS);
    readHistogram(memory.buffer, hist, counts);
    const b = readBlock(memory.buffer, block);
    const l = latencyOf(counts, b.latency.count, b.latency.sum, b.latency.max);
    expect(l.count).toBe(10000);
    expect(l.max).toBe(sorted[sorted.length - 1]);
    expect(l.avg).toBeCloseTo(xs.reduce((a, c) => a + c, 0) / xs.length, 6);
    for (const [q, got] of [[0.5, l.p50], [0.99, l.p99], [0.999, l.p999]] as const) {
      expect(Math.abs(got - exact(q)) / exact(q)).toBeLessThan(0.0625);
    }
  });
});
