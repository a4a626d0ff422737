// A worker terminated from outside at random moments (most land inside its WASM burst, some in
// its handler) is restarted, and nothing it held is lost: after stop every frame is back in the
// pool and received = delivered + counted drops, exactly.
import { describe, expect, it } from 'vitest';
import { Engine, type EngineConfig, type EngineStats } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { expectAccounted } from '../support/delivery.js';

const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A forward-everything handler: every delivered frame was forwarded, and so was some of a burst
 * that failed (the handler ended midway), so what went out or was counted as not sent lies between.
 */
function expectForwardsAccounted(s: EngineStats) {
  expect(s.tx_packets + s.tx_dropped).toBeGreaterThanOrEqual(s.delivered);
  expect(s.tx_packets + s.tx_dropped).toBeLessThanOrEqual(s.delivered + s.dropped.handler_error);
  expect(s.tx_packets).toBeGreaterThan(0);
}

/** Waits until worker i's thread exists and has completed bursts since `after`. */
async function running(e: Engine, i: number, after: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const b = e.stats().workers[i].bursts;
    if (e.workerThread(i) && b > after) return b;
    if (Date.now() > deadline) throw new Error(`worker ${i} did not come back within 20 s`);
    await sleep(2);
  }
}

/**
 * What is left where when the books do not close: each ring's unconsumed items (producer tail -
 * consumer tail) and its producer head when it is ahead of the tail, so a failure names the
 * frames it lost (read after stop, when no worker runs).
 */
function leftovers(e: Engine, s: EngineStats): string {
  const rt = (e as unknown as { rt: { memory: WebAssembly.Memory; layout: { rings: readonly { name: string; offset: number }[] } } }).rt;
  const u32 = new Uint32Array(rt.memory.buffer);
  const rings = rt.layout.rings.map((r) => {
    const [ph, pt, ch, ct] = [u32[(r.offset + 64) >> 2], u32[(r.offset + 68) >> 2], u32[(r.offset + 128) >> 2], u32[(r.offset + 132) >> 2]];
    return `${r.name} ${(pt - ct) >>> 0}${ph !== pt ? ` (p.head ${ph} ≠ p.tail ${pt})` : ''}${ch !== ct ? ` (c.head ${ch} ≠ c.tail ${ct})` : ''}`;
  });
  return `in_flight ${s.in_flight}, rx ${s.rx_packets}, delivered ${s.delivered}, dropped ${JSON.stringify(s.dropped)}, pool ${JSON.stringify(s.pool)}, tx ${s.tx_packets} + ${s.tx_dropped} not sent; rings: ${rings.join(', ')}`;
}

async function killMany(config: EngineConfig, kills: number, seed: number) {
  let x = seed;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const engine = new Engine(config);
  const exits: { worker: number; restarted: boolean }[] = [];
  engine.on('worker-exit', (e) => exits.push(e));
  await engine.start();
  const reading = (async () => {
    for await (const b of engine.records()) void b;
  })();
  const seen = [0, 0];
  try {
    for (let k = 0; k < kills; k++) {
      const i = k % 2;
      seen[i] = await running(engine, i, seen[i]);
      await sleep(rand() * 8);
      await engine.workerThread(i)?.terminate();
      while (exits.length <= k) await sleep(1);
    }
    for (const i of [0, 1]) await running(engine, i, seen[i]);
  } finally {
    const stats = await engine.stop();
    await reading;
    expect(exits).toHaveLength(kills);
    expect(exits.every((e) => e.restarted)).toBe(true);
    const books = `books not closed after ${kills} kills: ${leftovers(engine, stats)}`;
    expect(stats.in_flight, books).toBe(0);
    expect(stats.pool.in_use, books).toBe(0);
    expectAccounted(stats);
    expect(stats.delivered).toBeGreaterThan(0);
    return stats;
  }
}

describe('engine: a worker terminated mid-burst loses no frame', () => {
  it('2 workers, a queue each: 40 kills at random moments', async () => {
    const s = await killMany({ frames: syntheticFrames(2000, 64), workers: 2, replay: { loops: 0 }, handler: fixture('engine-count.mjs') }, 40, 1);
    expect(s.workers.reduce((n, w) => n + w.restarts, 0)).toBe(40);
  }, 120_000);

  it('2 workers on one queue (software RSS through the in rings), 40 kills', async () => {
    await killMany({ frames: syntheticFrames(2000, 64), workers: 2, queues: 1, frameCount: 1024, poolCache: 64, replay: { loops: 0 }, handler: fixture('engine-count.mjs') }, 40, 7);
  }, 120_000);

  // Forwarding: the staged transmit list, the tmp journal into the (multi-producer) tx ring, the
  // hold list the shaper drains. Before the journal covered them, a kill leaked the references
  // forward() had taken and the frames the hold list held.
  it('a handler that forwards everything, tx rings shared by both workers and shaped: 40 kills', async () => {
    const s = await killMany({ frames: syntheticFrames(2000, 64), workers: 2, queues: 1, tx: { rate: 400_000 }, replay: { loops: 0 }, handler: fixture('engine-forward.mjs') }, 40, 3);
    expectForwardsAccounted(s);
  }, 120_000);

  // The filter: its verdicts, then the rejected frames released and the accepted ones moved down
  // the stage list, each in one stretch of the journal.
  it('a filter expression rejecting half the flows, 2 workers on one queue: 40 kills', async () => {
    const s = await killMany({ frames: syntheticFrames(2000, 64), workers: 2, queues: 1, filter: 'udp src portrange 1024-1055', replay: { loops: 0 }, handler: fixture('engine-count.mjs') }, 40, 5);
    expect(s.dropped.filtered).toBeGreaterThan(0);
    // Half the flows pass: delivered and filtered are close (what a kill failed is handler_error).
    expect(s.delivered + s.dropped.handler_error).toBeGreaterThan(s.dropped.filtered * 0.8);
    expect(s.delivered).toBeLessThan(s.dropped.filtered * 1.2);
  }, 120_000);

  it('a handler that keeps and forwards, two queues, two-frame packets (scatter-gather chains): 40 kills', async () => {
    const s = await killMany({ frames: syntheticFrames(1000, 64, 3000), workers: 2, frameSize: 2048, replay: { loops: 0 }, handler: fixture('engine-keep-forward.mjs') }, 40, 11);
    expectForwardsAccounted(s);
  }, 120_000);
});

describe('engine: a worker terminated inside a multi-producer ring claim does not stall the ring', () => {
  // Deterministic: the test claims one slot of the records ring itself and holds it unpublished, so
  // worker 0's next records burst claims the slots after it and waits in turn; the test ends the
  // worker right there, between its claim and its publish, then publishes its own slot. The dead
  // worker's claim must be finished by the engine, or every later records burst waits forever
  // (stop() then reports the restarted worker hung).
  it('records ring: worker 0 killed between claim and publish; records keep flowing, stop drains', async () => {
    const engine = new Engine({ frames: syntheticFrames(2000, 64), workers: 2, replay: { loops: 0 }, handler: fixture('engine-emit-w0.mjs') });
    const exits: unknown[] = [];
    engine.on('worker-exit', (e) => exits.push(e));
    await engine.start();
    let values = 0;
    const reading = (async () => {
      for await (const b of engine.records()) values += b.values.length;
    })();
    let stats: EngineStats | undefined;
    try {
      await running(engine, 0, 0);
      const inner = (engine as unknown as { rt: { memory: WebAssembly.Memory; layout: { ring(name: string): { offset: number; slots: number } } } }).rt;
      const u32 = new Uint32Array(inner.memory.buffer);
      const r = inner.layout.ring('records');
      const P_HEAD = (r.offset + 64) >> 2;
      const P_TAIL = (r.offset + 68) >> 2;
      let head: number;
      for (;;) {
        head = Atomics.load(u32, P_HEAD);
        if (Atomics.compareExchange(u32, P_HEAD, head, (head + 1) >>> 0) === head) break;
      }
      const deadline = Date.now() + 10_000;
      while (Atomics.load(u32, P_HEAD) === ((head + 1) >>> 0)) {
        if (Date.now() > deadline) throw new Error('worker 0 never claimed records after the test');
        await sleep(1);
      }
      await engine.workerThread(0)!.terminate();
      while (Atomics.load(u32, P_TAIL) !== head) await sleep(1);
      const slot = (r.offset + 256) / 4 + (head & (r.slots - 1)) * 2;
      u32[slot] = 0;
      u32[slot + 1] = 0;
      Atomics.store(u32, P_TAIL, (head + 1) >>> 0);
      const before = values;
      seenAfter: for (;;) {
        await running(engine, 0, engine.stats().workers[0].bursts);
        if (values > before + 1000) break seenAfter;
      }
    } finally {
      stats = await engine.stop();
      await reading;
    }
    expect(exits).toHaveLength(1);
    expectAccounted(stats);
    expect(values).toBeGreaterThan(1000);
  }, 60_000);
});

describe('engine: a worker terminated inside a single-producer ring claim loses no frame', () => {
  // A single-producer ring moves its head in the publish, not in the claim. Deterministic: worker 0
  // is ended, and before the engine sees the exit the test turns the burst it held into what a
  // worker ended inside its enqueue to the pair ring in1.0.0 (only worker 0 fills it) leaves: the
  // frames in the tmp journal, the claim filed, the ring's head and tail untouched. Recovery must
  // publish them and move the head, or the replacement worker's next burst to worker 1 overwrites
  // them (frames never counted, never back in the pool).
  it('pair ring: worker 0 killed inside its enqueue to worker 1; the replacement enqueues after the recovered frames', async () => {
    const engine = new Engine({ frames: syntheticFrames(2000, 64), workers: 2, queues: 1, replay: { loops: 0 }, handler: fixture('engine-count.mjs') });
    const exits: unknown[] = [];
    engine.on('worker-exit', (e) => exits.push(e));
    await engine.start();
    let stats: EngineStats | undefined;
    let planted = 0;
    try {
      const rt = (engine as unknown as { rt: { memory: WebAssembly.Memory; layout: { ring(name: string): { offset: number } }; map: { worker(i: number): number; cache(i: number): number; w: { burst: number } } } }).rt;
      const u32 = new Uint32Array(rt.memory.buffer);
      const wb = rt.map.worker(0);
      const claim = rt.map.cache(0) + 16; // the pool cache's claim record (assembly/pool.ts PC_CLAIM)
      const ring = rt.layout.ring('in1.0.0').offset;
      const word = (at: number) => u32[at >> 2];
      const set = (at: number, v: number) => (u32[at >> 2] = v);
      const deadline = Date.now() + 30_000;
      while (!planted) {
        if (Date.now() > deadline) throw new Error('worker 0 never ended holding a burst and nothing else');
        const before = exits.length;
        await running(engine, 0, engine.stats().workers[0].bursts);
        const w = engine.workerThread(0)!;
        w.prependListener('exit', () => {
          // A burst (the burst list is also ingest's tmp list) and nothing else: no hand-off, no claim.
          const k = word(wb); // WC_BURST_COUNT
          if (k === 0 || word(claim) !== 0 || ![16, 20, 24, 32, 44].every((o) => word(wb + o) === 0)) return;
          const list = wb + rt.map.w.burst;
          set(wb, 0);
          set(wb + 52, ring); // WC_TMP_RING
          set(wb + 44, k); // WC_TMP_N
          set(claim, ring);
          set(claim + 4, list);
          set(claim + 8, word(ring + 64)); // the producer head: the claim starts there
          set(claim + 12, k);
          planted = k;
        });
        await w.terminate();
        while (exits.length === before) await sleep(1);
      }
      // The replacement routes bursts through the same ring; the recovered one must still be there.
      await running(engine, 0, engine.stats().workers[0].bursts);
      await running(engine, 0, engine.stats().workers[0].bursts);
    } finally {
      stats = await engine.stop();
    }
    expect(planted).toBeGreaterThan(0);
    expectAccounted(stats);
    expect(stats.delivered).toBeGreaterThan(0);
  }, 60_000);
});

