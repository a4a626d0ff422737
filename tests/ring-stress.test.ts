// Rings under real concurrency: producers and consumers in separate worker_threads on one shared
// memory, items moved a burst at a time through the engine's exports. The judge
// (support/fixtures/ring-check.mjs) fails on any lost, duplicated or reordered item; the last tests prove it
// does by running the same harness over a ring that is broken on purpose.
import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory, writeControlBlock, type RingSpec } from '../host/layout.js';
import { compileEngine, instantiateEngine } from '../host/wasm.js';
import { runWorkers } from '../host/workers/threads.js';
import { RING_F_ADAPTIVE, RING_F_MPMC, RingHeader, createRing, type Ring } from '../host/ring.js';
// @ts-expect-error plain ESM fixture without types
import { StreamChecker, item, missing } from './support/fixtures/ring-check.mjs';

const task = new URL('./support/fixtures/ring-stress.mjs', import.meta.url);
const STAGING = 4096;

interface Run {
  producers: number;
  consumers: number;
  perProducer: number;
  slots: number;
  flags: number;
  burst: number;
  /** Breaks the ring after init, to prove the judge notices. */
  sabotage?: (ring: Ring, memory: WebAssembly.Memory) => void;
  /** Workers give up (and report it) after this long: a broken ring may stall instead of finishing. */
  deadlineMs?: number;
}

interface Result {
  sent?: number;
  received?: number;
  error: string | null;
}

async function stress(run: Run) {
  const workers = run.producers + run.consumers;
  const bitmapBytes = Math.ceil((run.producers * run.perProducer) / 32) * 4;
  const rings: RingSpec[] = [{ name: 'stress', slots: run.slots, slotBytes: 4, flags: run.flags }];
  const layout = computeLayout({ frameCount: 16, workers, rings, scratchBytes: 64 + workers * STAGING + bitmapBytes });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const module = compileEngine();
  const ring = createRing(memory, instantiateEngine(module, memory), layout.ring('stress'));
  run.sabotage?.(ring, memory);
  const taken = layout.scratch.offset;
  const bitmap = run.consumers > 1 ? taken + 64 + workers * STAGING : 0;
  const total = run.producers * run.perProducer;
  const results = await runWorkers<Result>({
    count: workers,
    memory,
    module,
    controlBlock: layout.controlBlock,
    task,
    args: (i: number) => ({
      role: i < run.producers ? 'producer' : 'consumer',
      id: i,
      items: run.perProducer,
      ring: ring.address,
      staging: taken + 64 + i * STAGING,
      burst: run.burst,
      producers: run.producers,
      perProducer: run.perProducer,
      total,
      exact: run.consumers === 1,
      bitmap,
      taken,
      deadlineMs: run.deadlineMs ?? 45_000,
    }),
  });
  const consumers = results.slice(run.producers);
  const lost = bitmap ? missing(new Int32Array(memory.buffer, bitmap, bitmapBytes / 4), run.producers, run.perProducer) : { n: 0, first: [] };
  return {
    ring,
    total,
    sent: results.slice(0, run.producers).reduce((a, r) => a + (r.sent ?? 0), 0),
    received: consumers.reduce((a, r) => a + (r.received ?? 0), 0),
    errors: results.map((r) => r.error).filter((e): e is string => e !== null),
    lost,
  };
}

describe('ring stress across worker_threads', () => {
  it('SPSC: 10M items arrive exactly once, in order, none lost', async () => {
    const r = await stress({ producers: 1, consumers: 1, perProducer: 10_000_000, slots: 1024, flags: 0, burst: 32 });
    expect(r.errors).toEqual([]);
    expect(r.sent).toBe(10_000_000);
    expect(r.received).toBe(10_000_000);
    const s = r.ring.stats();
    expect(s.enqueued).toBe(10_000_000n);
    expect(s.dequeued).toBe(10_000_000n);
    expect(r.ring.count()).toBe(0);
  });

  it('MPMC: 4 producers x 1M items to 4 consumers, each item exactly once and in order per producer', async () => {
    const r = await stress({ producers: 4, consumers: 4, perProducer: 1_000_000, slots: 1024, flags: RING_F_MPMC | RING_F_ADAPTIVE, burst: 32 });
    expect(r.errors).toEqual([]);
    expect(r.sent).toBe(4_000_000);
    expect(r.received).toBe(4_000_000);
    expect(r.lost).toEqual({ n: 0, first: [] });
    expect(r.ring.stats().dequeued).toBe(4_000_000n);
  });

  it('the judge catches a ring that overwrites unread slots (capacity corrupted to twice the slots)', async () => {
    const r = await stress({
      producers: 1,
      consumers: 1,
      perProducer: 1_000_000,
      slots: 64,
      flags: 0,
      burst: 32,
      deadlineMs: 3000,
      sabotage: (ring, memory) => {
        new Uint32Array(memory.buffer, ring.address, 64)[RingHeader.capacity / 4] = 128;
      },
    });
    expect(r.errors.join('\n')).toMatch(/lost or reordered|duplicated or reordered/);
  });

  it('the judge catches an MPMC ring whose consumers skip the claim (MC flag cleared: racing single-consumer dequeues)', async () => {
    // Two consumers sharing an SC ring take the same items (duplicates) and skip others (loss), but
    // only when they actually race: on a loaded 2-core machine one attempt can run them one after
    // the other. Up to 5 attempts; the broken ring must be caught in at least one.
    const seen: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await stress({
        producers: 2,
        consumers: 2,
        perProducer: 500_000,
        slots: 256,
        flags: RING_F_MPMC,
        burst: 8,
        deadlineMs: 3000,
        sabotage: (ring, memory) => {
          new Uint32Array(memory.buffer, ring.address, 64)[RingHeader.flags / 4] = 1; // MP only
        },
      });
      seen.push(`${r.errors.join('\n')} lost=${r.lost.n}`);
      if (/twice|reordered|lost=[1-9]/.test(seen[seen.length - 1])) break;
    }
    expect(seen[seen.length - 1]).toMatch(/twice|reordered|lost=[1-9]/);
  });
});

describe('the judge itself (deterministic)', () => {
  const run = (items: number[], exact: boolean) => {
    const c = new StreamChecker(2, { exact });
    for (const v of items) c.check(v);
    return c.error as string | null;
  };
  const seq = (p: number, ...s: number[]) => s.map((x) => item(p, x));
  it('accepts interleaved in-order streams', () => {
    expect(run([...seq(0, 0, 1), ...seq(1, 0), ...seq(0, 2), ...seq(1, 1)], true)).toBeNull();
  });
  it('rejects a lost item, a duplicate and a reorder', () => {
    expect(run(seq(0, 0, 2), true)).toMatch(/items 1..1 lost/);
    expect(run(seq(0, 0, 1, 1), true)).toMatch(/duplicated or reordered/);
    expect(run(seq(0, 0, 2, 1), false)).toMatch(/seq 1 after 2/);
    expect(run([item(3, 0)], false)).toMatch(/producer 3/);
  });
  it('catches an item delivered twice to two different consumers through the shared bitmap', () => {
    const bitmap = new Int32Array(new SharedArrayBuffer(8));
    const a = new StreamChecker(1, { bitmap, perProducer: 40 });
    const b = new StreamChecker(1, { bitmap, perProducer: 40 });
    a.check(item(0, 5));
    b.check(item(0, 5));
    expect(a.error).toBeNull();
    expect(b.error).toMatch(/seq 5 delivered twice/);
    expect(missing(bitmap, 1, 40).n).toBe(39);
  });
});
