// The records readers: the raw drain (takeBurst) and the laid-out drain (takeRuns) hand every kept
// frame's bytes and every emitted number over exactly once, in bursts of at most 256, and gives every frame back to the pool; a
// sleeping reader is woken by the producer's notify on the records ring, not by its timer; the
// engine's stop lets an attached reader take what the workers flushed last, and gives up only on a
// reader that has gone or stalled (what it left counted as records_dropped).
import { describe, expect, it } from 'vitest';
import { RingHeader } from '../../host/abi.js';
import { resolveConfig } from '../../host/engine/config.js';
import { Engine, type RecordsVisitor, type RunsVisitor } from '../../host/engine/engine.js';
import { ReaderWake, WAKE_AFTER_RECORDS } from '../../host/engine/reader-wake.js';
import { Records } from '../../host/engine/records.js';
import { setupEngine } from '../../host/engine/setup.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { expectAccounted } from '../support/delivery.js';

const keepAll = new URL('../../bench/handlers/keep-all.mjs', import.meta.url).pathname;
const flows = new URL('../support/fixtures/engine-flows.mjs', import.meta.url).pathname;

describe('records: the raw drain', () => {
  it('hands over every kept frame once, byte for byte, per queue in order, and releases each', async () => {
    const frames = syntheticFrames(3000, 40, 64).map((f, i) => {
      // A serial number in the payload's last 4 bytes: which frame this is.
      new DataView(f.buffer, f.byteOffset).setUint32(f.length - 4, i);
      return f;
    });
    const engine = new Engine({ frames, workers: 2, queues: 2, handler: keepAll, replay: { loops: 2 }, recordsRing: 1 << 13 });
    await engine.start();
    const drain = engine.recordsDrain();
    const seen: number[][] = [[], []];
    let mismatched = 0;
    let largest = 0;
    const v: RecordsVisitor = {
      value: () => mismatched++,
      frame: (mem, data, len, queue) => {
        const serial = new DataView(mem.buffer, data + len - 4, 4).getUint32(0);
        const want = frames[serial];
        if (len !== want.length || !Buffer.from(mem.buffer, data, len).equals(want)) mismatched++;
        seen[queue].push(serial);
      },
    };
    for await (const _ of drain.turns()) {
      for (let n; (n = drain.takeBurst(v)) > 0; ) largest = Math.max(largest, n);
    }
    const stats = await engine.done;
    expect(mismatched).toBe(0);
    expect(largest).toBeLessThanOrEqual(256);
    expect(seen[0].length + seen[1].length).toBe(stats.delivered);
    expect(stats.delivered).toBe(6000);
    // Each queue's frames arrive in the order that queue received them (twice over: two loops).
    for (const q of seen) {
      const loop = q.length / 2;
      expect(q.slice(0, loop)).toEqual([...q.slice(0, loop)].sort((a, b) => a - b));
      expect(q.slice(loop)).toEqual(q.slice(0, loop));
    }
    expectAccounted(stats);
  });

  it('hands over emitted numbers as values, none lost or repeated', async () => {
    const engine = new Engine({ frames: syntheticFrames(2000, 25), workers: 2, handler: flows });
    await engine.start();
    const drain = engine.recordsDrain();
    const ports = new Map<number, number>();
    const v: RecordsVisitor = {
      value: (x) => ports.set(x % 65536, (ports.get(x % 65536) ?? 0) + 1),
      frame: () => {
        throw new Error('no frame was kept');
      },
    };
    for await (const _ of drain.turns()) while (drain.takeBurst(v) > 0);
    const stats = await engine.done;
    // engine-flows emits each frame's source port: 80 frames for each of the 25 flows.
    expect([...ports.values()]).toEqual(Array(25).fill(80));
    expectAccounted(stats);
  });
});

describe('records: the laid-out drain', () => {
  // Frames of many sizes, each with its serial number in its last 4 bytes. With `big`, most are 4000
  // bytes (frameSize 4096) and the reader starts late, so bursts of them overflow the stage, which
  // is sized for 2048-byte frames.
  const sized = (n: number, big: boolean) =>
    Array.from({ length: n }, (_, i) => {
      const len = big && i % 5 !== 0 ? 4000 : 60 + ((i * 37) % 1400);
      const f = syntheticFrames(1, 1, len)[0];
      new DataView(f.buffer, f.byteOffset).setUint32(len - 4, i);
      return f;
    });

  for (const big of [false, true]) {
    it(`hands every kept frame over once, framed byte for byte, per queue in order${big ? ', frames larger than the stage one by one' : ''}`, async () => {
      const frames = sized(3000, big);
      const engine = new Engine({ frames, workers: 2, queues: 2, handler: keepAll, replay: { loops: 2 }, recordsRing: 1 << 13, frameSize: big ? 4096 : 2048 });
      await engine.start();
      const drain = engine.recordsDrain();
      const seen: number[][] = [[], []];
      let mismatched = 0;
      let single = 0;
      const check = (mem: Uint8Array, data: number, len: number, queue: number) => {
        const serial = new DataView(mem.buffer, data + len - 4, 4).getUint32(0);
        if (len !== frames[serial].length || !Buffer.from(mem.buffer, data, len).equals(frames[serial])) mismatched++;
        seen[queue].push(serial);
      };
      const v: RunsVisitor = {
        value: () => mismatched++,
        frame: (mem, data, len, queue, linktype) => {
          single++;
          if (linktype !== 1) mismatched++;
          check(mem, data, len, queue);
        },
        frames: (mem, at, bytes, count, queue) => {
          // The records framing (host/publish/framing.ts): u32 length, u16 link type, u16 0, the bytes.
          const dv = new DataView(mem.buffer);
          let pos = at;
          for (let i = 0; i < count; i++) {
            const len = dv.getUint32(pos, true);
            if (dv.getUint16(pos + 4, true) !== 1 || dv.getUint16(pos + 6, true) !== 0) mismatched++;
            check(mem, pos + 8, len, queue);
            pos += 8 + len;
          }
          if (pos !== at + bytes) mismatched++;
        },
      };
      let late = big;
      for await (const _ of drain.turns()) {
        // Attached (the stop waits for this reader) but taking nothing yet: the ring fills.
        if (late) await new Promise((r) => setTimeout(r, 200));
        late = false;
        while (drain.takeRuns(v) > 0);
      }
      const stats = await engine.done;
      expect(mismatched).toBe(0);
      expect(seen[0].length + seen[1].length).toBe(6000);
      expect(stats.delivered).toBe(6000);
      if (big) expect(single).toBeGreaterThan(0);
      else expect(single).toBe(0);
      for (const q of seen) {
        const loop = q.length / 2;
        expect(q.slice(0, loop)).toEqual([...q.slice(0, loop)].sort((a, b) => a - b));
        expect(q.slice(loop)).toEqual(q.slice(0, loop));
      }
      expectAccounted(stats);
    });
  }
});

describe('records: the engine stopping', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const frames = syntheticFrames(3000, 40, 64);

  it('a reader slow to wake while a short replay ends still gets every record the engine delivered', async () => {
    // The ring holds the whole replay: nothing is lost to overflow, only to the stop.
    const engine = new Engine({ frames, workers: 1, handler: keepAll, recordsRing: 1 << 13 });
    await engine.start();
    const drain = engine.recordsDrain();
    let taken = 0;
    let first = true;
    const v: RecordsVisitor = { value: () => undefined, frame: () => taken++ };
    for await (const _ of drain.turns()) {
      // The reader is away (a GC pause, a busy event loop) while the replay ends and the engine stops.
      if (first) await sleep(300);
      first = false;
      while (drain.takeBurst(v) > 0);
    }
    const stats = await engine.done;
    expect(stats.delivered).toBe(frames.length);
    expect(taken).toBe(stats.delivered);
    expect(stats.records_dropped).toBe(0);
    expectAccounted(stats);
  });

  it('a reader that went away does not hold the stop: what it left is counted in records_dropped', async () => {
    const engine = new Engine({ frames, workers: 1, handler: keepAll, recordsRing: 1 << 13 });
    await engine.start();
    const drain = engine.recordsDrain();
    let taken = 0;
    for await (const _ of drain.turns()) {
      taken += drain.takeBurst({ value: () => undefined, frame: () => undefined });
      break;
    }
    const t = performance.now();
    const stats = await engine.done;
    expect(performance.now() - t).toBeLessThan(5000);
    expect(stats.delivered).toBe(frames.length);
    expect(taken).toBeGreaterThan(0);
    expect(taken + stats.records_dropped).toBe(stats.delivered);
    expectAccounted(stats);
  });
});

describe('records: the stop waiting for a reader', () => {
  it('waits while an attached reader takes, gives up on one that stalls, and counts what it left as dropped', async () => {
    const c = resolveConfig({ frames: syntheticFrames(16, 1), workers: 1 });
    const rt = setupEngine(c, () => 0, () => 0, () => undefined);
    const reader = new Records(rt);
    const ring = rt.layout.ring('records').offset;
    const put = (n: number) => {
      const vals = new BigUint64Array(rt.memory.buffer, rt.dequeue, n);
      for (let i = 0; i < n; i++) vals[i] = BigInt(i + 1);
      expect(rt.wasm.ringEnqueueBurst64(ring, rt.dequeue, n)).toBe(n);
    };
    const run = { state: 'stopping' };
    const none = { value: () => undefined, frame: () => undefined };
    // Nobody attached: nothing to wait for.
    put(10);
    let t = performance.now();
    await reader.settle(5000);
    expect(performance.now() - t).toBeLessThan(100);
    // A reader that takes a burst every 20 ms (slower than the stall limit of 50 ms in total): waited for until the ring is empty.
    const turns = reader.turns(run);
    await turns.next();
    put(700);
    const taking = (async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 20));
        reader.takeBurst(none);
      }
    })();
    t = performance.now();
    await reader.settle(50);
    // Three bursts empty it, 60 ms after the start: longer than the stall limit, but never a stall.
    expect(reader.takeBurst(none)).toBe(0);
    expect(performance.now() - t).toBeGreaterThanOrEqual(55);
    await taking;
    // The same reader, still attached, no longer takes: given up on after the stall limit; what it left counts as dropped.
    put(30);
    t = performance.now();
    await reader.settle(50);
    expect(performance.now() - t).toBeGreaterThanOrEqual(45);
    expect(performance.now() - t).toBeLessThan(1000);
    reader.drain();
    expect(reader.dropped).toBe(30);
    run.state = 'stopped';
    await turns.return(undefined);
  });
});

describe('records: waking the reader', () => {
  // The records ring wakes nobody by itself; a worker's ReaderWake does (host/engine/reader-wake.ts).
  const setup = (recordsWakeUs?: number) => {
    const c = resolveConfig({ frames: syntheticFrames(16, 1), workers: 1, recordsWakeUs });
    const rt = setupEngine(c, () => 0, () => 0, () => undefined);
    const ring = rt.layout.ring('records').offset;
    const i32 = new Int32Array(rt.memory.buffer);
    const publish = (n: number) => {
      const src = rt.dequeue;
      new BigUint64Array(rt.memory.buffer, src, n).fill(42n);
      expect(rt.wasm.ringEnqueueBurst64(ring, src, n)).toBe(n);
    };
    const wakeups = () => Number(new BigUint64Array(rt.memory.buffer, ring + RingHeader.wakeups, 1)[0]);
    const asleep = () => i32[(ring + RingHeader.consumersWaiting) >> 2] === 1;
    return { rt, ring, i32, publish, wakeups, asleep };
  };

  const WAKE_NS = 500_000;

  it('records that find the reader asleep wake it at once after a quiet spell, then at most once per wakeNs', async () => {
    const { rt, ring, i32, publish, wakeups, asleep } = setup();
    const reader = new Records(rt);
    const wake = new ReaderWake(i32, ring, WAKE_NS);
    const run = { state: 'running' };
    const turns = reader.turns(run);
    const got: number[] = [];
    const take = () => {
      while (reader.takeBurst({ value: (x) => got.push(x), frame: () => undefined }) > 0);
    };
    let next = turns.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(asleep()).toBe(true);
    const t0 = 1e9;
    publish(2);
    expect(wake.check(t0)).toBe(true);
    await next;
    take();
    expect(got.length).toBe(2);
    next = turns.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(asleep()).toBe(true);
    // Publishes every 60 µs (a paced worker's hand-overs) within wakeNs of that wake-up: owed, none sent.
    let t = t0 + 60_000;
    for (; t - t0 < WAKE_NS; t += 60_000) {
      publish(2);
      expect(wake.check(t)).toBe(false);
    }
    expect(wakeups()).toBe(1);
    // The first poll past it sends the wake-up, for every record published meanwhile.
    expect(wake.check(t)).toBe(true);
    expect(wakeups()).toBe(2);
    await next;
    take();
    expect(got.length).toBe(2 + 2 * Math.floor((WAKE_NS - 1) / 60_000));
    // Awake and taking: a publish owes nothing, and nothing is sent.
    publish(1);
    expect(wake.check(t + 1)).toBe(false);
    take();
    // The engine stopping wakes it too: the generator ends without waiting for a record.
    next = turns.next();
    await new Promise((r) => setTimeout(r, 20));
    run.state = 'stopped';
    expect(reader.wake()).toBe(1);
    expect((await next).done).toBe(true);
    expect(wakeups()).toBe(2);
  });

  it('a burst of WAKE_AFTER_RECORDS, or a worker about to sleep past the deadline, wakes the reader before wakeNs', async () => {
    const { rt, ring, i32, publish, wakeups, asleep } = setup();
    const reader = new Records(rt);
    const wake = new ReaderWake(i32, ring, WAKE_NS);
    const run = { state: 'running' };
    const turns = reader.turns(run);
    const take = () => reader.takeBurst({ value: () => undefined, frame: () => undefined });
    // The reader's next turn, once it has gone to sleep (in an object: awaiting the turn itself would wait for the wake-up).
    const asleepAgain = async () => {
      const turn = turns.next();
      await new Promise((r) => setTimeout(r, 20));
      expect(asleep()).toBe(true);
      return { turn };
    };
    let next = (await asleepAgain()).turn;
    publish(1);
    expect(wake.check(0)).toBe(true);
    await next;
    expect(take()).toBe(1);
    next = (await asleepAgain()).turn;
    publish(WAKE_AFTER_RECORDS - 1);
    expect(wake.check(1000)).toBe(false);
    publish(1);
    expect(wake.check(2000)).toBe(true);
    await next;
    expect(take()).toBe(WAKE_AFTER_RECORDS);
    next = (await asleepAgain()).turn;
    // One record, then the worker sleeps: a short nap keeps the wake-up owed, one past the deadline sends it.
    publish(1);
    expect(wake.check(3000, 3000 + 50_000)).toBe(false);
    expect(wake.check(60_000, 60_000 + 1e6)).toBe(true);
    await next;
    expect(take()).toBe(1);
    expect(wakeups()).toBe(3);
    run.state = 'stopped';
    reader.wake();
    await turns.return(undefined);
  });

  it('a reader that sleeps right after a turn wakes within a few ms on its own: a worker that owes it a wake-up and is kept off its core does not hold the records', async () => {
    // 5 ms: the turn's end and the sleep fall within it however slow the machine.
    const { rt, publish, asleep } = setup(5000);
    const reader = new Records(rt);
    const run = { state: 'running' };
    const turns = reader.turns(run);
    const take = () => reader.takeBurst({ value: () => undefined, frame: () => undefined });
    publish(1);
    await turns.next();
    expect(take()).toBe(1);
    // Asleep at once after that turn; a record comes and nobody notifies (the worker that owes the wake-up is not running).
    const next = turns.next();
    await Promise.resolve();
    expect(asleep()).toBe(true);
    publish(1);
    const t = performance.now();
    await next;
    // Not the 100 ms safety net: the sleep's own timeout, recordsWakeUs.
    expect(performance.now() - t).toBeLessThan(50);
    expect(take()).toBe(1);
    run.state = 'stopped';
    reader.wake();
    await turns.return(undefined);
  });

  it('with wakeNs 0 every publish that finds the reader asleep wakes it', async () => {
    const { rt, ring, i32, publish, wakeups, asleep } = setup();
    const reader = new Records(rt);
    const wake = new ReaderWake(i32, ring, 0);
    const run = { state: 'running' };
    const turns = reader.turns(run);
    for (let i = 1; i <= 3; i++) {
      const next = turns.next();
      await new Promise((r) => setTimeout(r, 20));
      expect(asleep()).toBe(true);
      publish(1);
      expect(wake.check(i * 1000)).toBe(true);
      await next;
      expect(reader.takeBurst({ value: () => undefined, frame: () => undefined })).toBe(1);
    }
    expect(wakeups()).toBe(3);
    run.state = 'stopped';
    reader.wake();
    await turns.return(undefined);
  });
});
