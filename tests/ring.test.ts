// The ring's TypeScript API on one thread, and the adaptive wake-up across two.
import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory, writeControlBlock, type RingSpec } from '../host/layout.js';
import { compileEngine, instantiateEngine } from '../host/wasm.js';
import { WorkerSet } from '../host/workers/threads.js';
import { RING_F_ADAPTIVE, RING_F_MPMC, createRing, openRing } from '../host/ring.js';

function setup(rings: RingSpec[]) {
  const layout = computeLayout({ frameCount: 16, rings, scratchBytes: 8192 });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const module = compileEngine();
  const exports = instantiateEngine(module, memory);
  return { layout, memory, module, exports, staging: layout.scratch.offset };
}

describe('ring API', () => {
  it('moves 32-bit items through a port a burst at a time, in order, and keeps stats', () => {
    const { layout, memory, exports, staging } = setup([{ name: 'a', slots: 8, slotBytes: 4 }]);
    const ring = createRing(memory, exports, layout.ring('a'));
    const port = ring.port(staging, 6);
    port.items.set([1, 2, 3, 4, 5, 6]);
    expect(port.enqueue(6)).toBe(6);
    expect(port.enqueueBulk(6)).toBe(false); // 2 free: all or nothing
    expect(port.enqueue(6)).toBe(2); // burst: what fits
    expect(ring.count()).toBe(8);
    expect(ring.free()).toBe(0);
    expect(port.dequeue()).toBe(6);
    expect([...port.items]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(port.dequeueBulk(3)).toBe(false);
    expect(port.dequeue(3)).toBe(2);
    expect([...port.items.subarray(0, 2)]).toEqual([1, 2]);
    expect(ring.stats()).toMatchObject({ enqueued: 8n, dequeued: 8n, full: 1n, empty: 1n, wakeups: 0n });
  });

  it('moves 64-bit items through a 64-bit ring', () => {
    const { layout, memory, exports, staging } = setup([{ name: 'w', slots: 4, slotBytes: 8, flags: RING_F_MPMC }]);
    const ring = createRing(memory, exports, layout.ring('w'));
    const port = ring.port(staging, 3);
    port.items.set([0xffff_ffff_ffff_fffen, 1n, 1n << 40n]);
    expect(port.enqueue(3)).toBe(3);
    port.items.fill(0n);
    expect(port.dequeue()).toBe(3);
    expect([...port.items]).toEqual([0xffff_ffff_ffff_fffen, 1n, 1n << 40n]);
  });

  it('a second thread view opened by address sees the same ring', () => {
    const { layout, memory, module, exports, staging } = setup([{ name: 'a', slots: 8, slotBytes: 4 }]);
    const ring = createRing(memory, exports, layout.ring('a'));
    ring.port(staging, 1).items[0] = 77;
    ring.port(staging, 1).enqueue(1);
    const other = openRing(memory, instantiateEngine(module, memory), ring.address);
    expect(other.slots).toBe(8);
    const p = other.port(staging + 64, 4);
    expect(p.dequeue()).toBe(1);
    expect(p.items[0]).toBe(77);
  });

  it('names the problem in its errors', () => {
    const { layout, memory, exports, staging } = setup([{ name: 'a', slots: 8, slotBytes: 4 }]);
    expect(() => openRing(memory, exports, layout.ring('a'))).toThrow(/no ring at \d+ .*createRing/);
    const ring = createRing(memory, exports, layout.ring('a'));
    expect(() => createRing(memory, exports, { ...layout.ring('a'), slots: 12 })).toThrow(/power of two/);
    expect(() => createRing(memory, exports, layout.ring('a'), 64)).toThrow(/unknown flag bits/);
    expect(() => openRing(memory, exports, 100)).toThrow(/no ring can be at 100/);
    expect(() => ring.port(ring.address + 264, 4)).toThrow(/overlaps the ring/);
    expect(() => ring.port(staging + 3, 4)).toThrow(/8-byte aligned/);
    expect(() => ring.port(staging, 4).enqueue(5)).toThrow(/burst 4 moves 0..4/);
  });
});

describe('adaptive waiting', () => {
  it('a consumer asleep on an empty ring is woken by the next enqueue', async () => {
    const { layout, memory, module, exports, staging } = setup([{ name: 'q', slots: 16, slotBytes: 4, flags: RING_F_ADAPTIVE }]);
    const ring = createRing(memory, exports, layout.ring('q'));
    const timeoutUs = 30_000_000;
    const pool = new WorkerSet<{ got: number; value: number; waitedMs: number }>({
      count: 1, memory, module, controlBlock: layout.controlBlock,
      task: new URL('./support/fixtures/ring-wake.mjs', import.meta.url),
      args: { ring: ring.address, staging: staging + 64, timeoutUs },
    });
    // Wait until the consumer has flagged itself as asleep: only then is this a wake-up test.
    const until = Date.now() + 20_000;
    while (ring.stats().consumersWaiting === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(ring.stats().consumersWaiting).toBe(1);
    const port = ring.port(staging, 1);
    port.items[0] = 4242;
    expect(port.enqueue(1)).toBe(1);
    const [r] = await pool.done;
    expect(r).toMatchObject({ got: 1, value: 4242 });
    // Woken by the notify, not by its 30 s timeout.
    expect(r.waitedMs).toBeLessThan(timeoutUs / 1000 / 2);
    expect(ring.stats()).toMatchObject({ wakeups: 1n, consumersWaiting: 0 });
  });

  it('a busy-poll ring never flags a waiter, so the producer never pays for a notify', () => {
    const { layout, memory, exports, staging } = setup([{ name: 'b', slots: 16, slotBytes: 4 }]);
    const ring = createRing(memory, exports, layout.ring('b'));
    const port = ring.port(staging, 4);
    expect(port.dequeueWait(4, 1_000_000)).toBe(0); // returns after polling, does not sleep 1 s
    expect(ring.stats()).toMatchObject({ consumersWaiting: 0, wakeups: 0n });
  });
});
