// replayWaitNs on a fake engine: the source lines and streams are written here as the host's setup
// (host/engine/setup.ts) writes them.
import { EH_SOURCES, rxShaper } from '../engine-map';
import { shaperInit, shaperTake } from '../shaper';
import { replayWaitNs, sourceState, SOURCE_BYTES, SRC_BASE, SRC_CURSOR, SRC_DONE, SRC_END, SRC_FIRST_TS, SRC_FLAGS, SRC_F_ACTIVE, SRC_F_RATE, SRC_F_SPEED, SRC_LOOPS, SRC_SPEED, SRC_START_NS, SRC_WORKER, STREAM_RECORD_HEADER } from './replay';
import { fakeEngine, zeroed } from '../testing/fake-engine';

/** A stream of one 64-byte record stamped `tsNs`, as queue q's source of worker w with `flags`. */
function source(ctx: usize, q: u32, w: u32, flags: u32, tsNs: u64): usize {
  const rec = zeroed(STREAM_RECORD_HEADER + 64);
  store<u32>(rec, 64);
  store<u32>(rec, 64, 4);
  store<u64>(rec, tsNs, 8);
  store<u32>(rec, 1, 16);
  const src = sourceState(ctx, q);
  store<u32>(src, <u32>rec, SRC_BASE);
  store<u32>(src, <u32>rec + <u32>STREAM_RECORD_HEADER + 64, SRC_END);
  store<u32>(src, <u32>rec, SRC_CURSOR);
  store<u32>(src, 1, SRC_LOOPS);
  store<u32>(src, w, SRC_WORKER);
  store<u32>(src, flags, SRC_FLAGS);
  return src;
}

function engine(workers: u32, queues: u32): usize {
  const ctx = fakeEngine(16, workers, queues);
  store<u32>(ctx + EH_SOURCES, <u32>zeroed(<usize>queues * SOURCE_BYTES));
  return ctx;
}

describe('replayWaitNs', () => {
  it("is the rate shaper's wait for the next record once its bucket is empty, 0 while it holds a token", () => {
    const ctx = engine(1, 1);
    source(ctx, 0, 0, SRC_F_ACTIVE | SRC_F_RATE, 0);
    // 100 k packets/s, a bucket of one packet, full at t = 1 ms.
    shaperInit(rxShaper(ctx, 0), 100_000, 1, 0, 1, 1e6);
    expect(replayWaitNs(ctx, 0, 1e6)).toBe(0);
    expect(shaperTake(rxShaper(ctx, 0), 64)).toBe(true);
    // The next token comes 10 µs later: 6 µs of it left at t + 4 µs.
    expect(replayWaitNs(ctx, 0, 1e6)).toBeCloseTo(10_000, 3);
    expect(replayWaitNs(ctx, 0, 1e6 + 4000)).toBeCloseTo(6000, 3);
    expect(replayWaitNs(ctx, 0, 1e6 + 10_000)).toBe(0);
  });

  it("is the capture timing's wait × speed for the next record", () => {
    const ctx = engine(1, 1);
    const src = source(ctx, 0, 0, SRC_F_ACTIVE | SRC_F_SPEED, 5_000_000);
    // The record is 2 ms after the first timestamp; at speed 2 it is due 1 ms after the start (3e6 ns):
    // 0.8 ms left 0.2 ms after the start.
    store<u64>(src, 3_000_000, SRC_FIRST_TS);
    store<f64>(src, 2, SRC_SPEED);
    store<f64>(src, 3e6, SRC_START_NS);
    expect(replayWaitNs(ctx, 0, 3e6 + 200_000)).toBeCloseTo(800_000, 3);
    expect(replayWaitNs(ctx, 0, 3e6 + 1_000_000)).toBe(0);
  });

  it('is the soonest of the worker\'s paced streams; ended ones do not count', () => {
    const ctx = engine(2, 4);
    for (let q: u32 = 0; q < 4; q++) {
      source(ctx, q, q % 2, SRC_F_ACTIVE | SRC_F_RATE, 0);
      shaperInit(rxShaper(ctx, q), 1000 * (q + 1), 1, 0, 1, 0);
      shaperTake(rxShaper(ctx, q), 64);
    }
    // Worker 1 replays queues 1 (2000/s: 500 µs) and 3 (4000/s: 250 µs).
    expect(replayWaitNs(ctx, 1, 0)).toBeCloseTo(250_000, 3);
    store<u32>(sourceState(ctx, 3), 1, SRC_DONE);
    expect(replayWaitNs(ctx, 1, 0)).toBeCloseTo(500_000, 3);
    store<u32>(sourceState(ctx, 1), 1, SRC_DONE);
    expect(replayWaitNs(ctx, 1, 0)).toBe(0);
    // Worker 0: queue 0 (1000/s) and queue 2 (3000/s).
    expect(replayWaitNs(ctx, 0, 0)).toBeCloseTo(1e9 / 3000, 3);
  });

  it('passes over a queue that has no stream (RSS left it empty): it starts done', () => {
    const ctx = engine(1, 2);
    source(ctx, 0, 0, SRC_F_ACTIVE | SRC_F_RATE, 0);
    shaperInit(rxShaper(ctx, 0), 1000, 1, 0, 1, 0);
    shaperTake(rxShaper(ctx, 0), 64);
    // Queue 1 as the host writes an empty queue of a replay: no flags, no worker, done.
    store<u32>(sourceState(ctx, 1), 0xffffffff, SRC_WORKER);
    store<u32>(sourceState(ctx, 1), 1, SRC_DONE);
    expect(replayWaitNs(ctx, 0, 0)).toBeCloseTo(1e6, 3);
  });

  it('is 0 when a queue of the worker has no paced stream, or the stream is at its end', () => {
    const ctx = engine(1, 2);
    source(ctx, 0, 0, SRC_F_ACTIVE | SRC_F_RATE, 0);
    shaperInit(rxShaper(ctx, 0), 1000, 1, 0, 1, 0);
    shaperTake(rxShaper(ctx, 0), 64);
    // Queue 1 replays as fast as it can: the worker cannot foresee it.
    source(ctx, 1, 0, SRC_F_ACTIVE, 0);
    expect(replayWaitNs(ctx, 0, 0)).toBe(0);
    store<u32>(sourceState(ctx, 1), SRC_F_ACTIVE | SRC_F_RATE, SRC_FLAGS);
    shaperInit(rxShaper(ctx, 1), 1000, 1, 0, 1, 0);
    shaperTake(rxShaper(ctx, 1), 64);
    expect(replayWaitNs(ctx, 0, 0)).toBeCloseTo(1e6, 3);
    // Queue 1's cursor at the end of its stream (a loop about to start again).
    store<u32>(sourceState(ctx, 1), load<u32>(sourceState(ctx, 1), SRC_END), SRC_CURSOR);
    expect(replayWaitNs(ctx, 0, 0)).toBe(0);
  });
});
