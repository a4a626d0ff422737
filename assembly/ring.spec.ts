import {
  ringInit, ringCount, ringFree, ringEnqueue32, ringDequeue32,
  ringEnqueueBurst32, ringEnqueueBulk32, ringDequeueBurst32, ringDequeueBulk32, ringEnqueueWait32, ringDequeueWait32,
  ringEnqueueBurst64, ringEnqueueBulk64, ringDequeueBurst64, ringDequeueBulk64,
  RING_HEADER, RING_F_MP, RING_F_MC, RING_E_ADDRESS, RING_E_SLOTS, RING_E_SLOT_BYTES, RING_E_FLAGS,
  P_HEAD, P_TAIL, P_CACHED_CONS_TAIL, P_ENQUEUED, P_FULL, C_HEAD, C_TAIL, C_CACHED_PROD_TAIL, C_DEQUEUED, C_EMPTY,
  W_CONSUMERS, W_PRODUCERS,
} from './ring';

const MODES: u32[] = [0, RING_F_MP | RING_F_MC, RING_F_MP, RING_F_MC];

/** A 64-byte aligned ring of `slots` slots, formatted. */
function makeRing(slots: u32, slotBytes: u32, flags: u32): usize {
  const raw = heap.alloc(RING_HEADER + <usize>slots * slotBytes + 64);
  const ring = (raw + 63) & ~<usize>63;
  expect(ringInit(ring, slots, slotBytes, flags)).toBe(0);
  return ring;
}

function buffer(items: u32, bytes: u32): usize {
  return heap.alloc(<usize>items * bytes);
}

function fill32(buf: usize, first: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) store<u32>(buf + (<usize>i << 2), first + i);
}

/** Moves every index of an idle ring to `at`, as if 2^32-ish items had gone through it. */
function moveIndexes(ring: usize, at: u32): void {
  for (let i = 0; i < 6; i++) {
    const off: usize = i == 0 ? P_HEAD : i == 1 ? P_TAIL : i == 2 ? P_CACHED_CONS_TAIL : i == 3 ? C_HEAD : i == 4 ? C_TAIL : C_CACHED_PROD_TAIL;
    store<u32>(ring + off, at);
  }
}

describe('ringInit', () => {
  it('rejects a bad address, slot count, slot size and flags with distinct reasons', () => {
    const raw = heap.alloc(4096);
    const ring = (raw + 63) & ~<usize>63;
    expect(ringInit(0, 8, 4, 0)).toBe(RING_E_ADDRESS);
    expect(ringInit(ring + 4, 8, 4, 0)).toBe(RING_E_ADDRESS);
    expect(ringInit(ring, 12, 4, 0)).toBe(RING_E_SLOTS);
    expect(ringInit(ring, 1, 4, 0)).toBe(RING_E_SLOTS);
    expect(ringInit(ring, 1 << 25, 4, 0)).toBe(RING_E_SLOTS);
    expect(ringInit(ring, 8, 2, 0)).toBe(RING_E_SLOT_BYTES);
    expect(ringInit(ring, 8, 4, 64)).toBe(RING_E_FLAGS);
    expect(ringInit(ring, 8, 4, RING_F_MP | RING_F_MC)).toBe(0);
  });
  it('starts empty with every slot free', () => {
    const ring = makeRing(16, 4, 0);
    expect(ringCount(ring)).toBe(0);
    expect(ringFree(ring)).toBe(16);
  });
});

describe('32-bit rings, each mode', () => {
  it('delivers items in order through many wraps of the slot array', () => {
    for (let m = 0; m < MODES.length; m++) {
      const ring = makeRing(8, 4, MODES[m]);
      const src = buffer(5, 4);
      const dst = buffer(5, 4);
      let next: u32 = 0;
      let expected: u32 = 0;
      for (let round = 0; round < 100; round++) {
        fill32(src, next, 5);
        expect(ringEnqueueBurst32(ring, src, 5)).toBe(5);
        next += 5;
        expect(ringDequeueBurst32(ring, dst, 5)).toBe(5);
        for (let i: u32 = 0; i < 5; i++) expect(load<u32>(dst + (<usize>i << 2))).toBe(expected++);
      }
      expect(ringCount(ring)).toBe(0);
      expect(load<u64>(ring + P_ENQUEUED)).toBe(500);
      expect(load<u64>(ring + C_DEQUEUED)).toBe(500);
    }
  });

  it('burst enqueues what fits, bulk all or nothing, and counts the full event', () => {
    for (let m = 0; m < MODES.length; m++) {
      const ring = makeRing(8, 4, MODES[m]);
      const src = buffer(8, 4);
      fill32(src, 100, 8);
      expect(ringEnqueueBurst32(ring, src, 6)).toBe(6);
      expect(ringFree(ring)).toBe(2);
      expect(ringEnqueueBulk32(ring, src, 3)).toBe(0); // 3 do not fit: none go in
      expect(ringCount(ring)).toBe(6);
      expect(load<u64>(ring + P_FULL)).toBe(1);
      expect(ringEnqueueBurst32(ring, src + 24, 3)).toBe(2); // 2 of 3 fit
      expect(ringCount(ring)).toBe(8);
      expect(ringFree(ring)).toBe(0);
      expect(ringEnqueueBurst32(ring, src, 1)).toBe(0);
      expect(ringEnqueue32(ring, 7)).toBe(false);
      expect(load<u64>(ring + P_FULL)).toBe(3);
      const dst = buffer(8, 4);
      expect(ringDequeueBurst32(ring, dst, 8)).toBe(8);
      const want: u32[] = [100, 101, 102, 103, 104, 105, 106, 107];
      for (let i = 0; i < 8; i++) expect(load<u32>(dst + (<usize>i << 2))).toBe(want[i]);
    }
  });

  it('burst dequeues what is there, bulk all or nothing, and counts the empty event', () => {
    for (let m = 0; m < MODES.length; m++) {
      const ring = makeRing(8, 4, MODES[m]);
      const src = buffer(3, 4);
      fill32(src, 1, 3);
      const dst = buffer(8, 4);
      expect(ringDequeueBurst32(ring, dst, 4)).toBe(0);
      expect(load<u64>(ring + C_EMPTY)).toBe(1);
      expect(ringEnqueueBurst32(ring, src, 3)).toBe(3);
      expect(ringDequeueBulk32(ring, dst, 4)).toBe(0);
      expect(ringCount(ring)).toBe(3);
      expect(ringDequeueBulk32(ring, dst, 2)).toBe(2);
      expect(load<u32>(dst)).toBe(1);
      expect(load<u32>(dst, 4)).toBe(2);
      expect(ringDequeueBurst32(ring, dst, 8)).toBe(1);
      expect(load<u32>(dst)).toBe(3);
      expect(ringDequeue32(ring)).toBe(-1);
      expect(load<u64>(ring + C_EMPTY)).toBe(3);
    }
  });

  it('single-item enqueue and dequeue keep order with bursts', () => {
    const ring = makeRing(4, 4, 0);
    expect(ringEnqueue32(ring, 0xffffffff)).toBe(true);
    const src = buffer(2, 4);
    fill32(src, 5, 2);
    expect(ringEnqueueBulk32(ring, src, 2)).toBe(2);
    expect(ringDequeue32(ring)).toBe(0xffffffff);
    expect(ringDequeue32(ring)).toBe(5);
    expect(ringDequeue32(ring)).toBe(6);
    expect(ringDequeue32(ring)).toBe(-1);
  });

  it('counts and delivers correctly across the 2^32 wrap of the indexes', () => {
    for (let m = 0; m < MODES.length; m++) {
      const ring = makeRing(16, 4, MODES[m]);
      moveIndexes(ring, 0xfffffff6); // 10 below 2^32
      const src = buffer(12, 4);
      const dst = buffer(16, 4);
      fill32(src, 1000, 12);
      expect(ringEnqueueBurst32(ring, src, 12)).toBe(12); // the producer head crosses 2^32
      expect(load<u32>(ring + P_TAIL)).toBe(2);
      expect(ringCount(ring)).toBe(12);
      expect(ringFree(ring)).toBe(4);
      fill32(src, 2000, 12);
      expect(ringEnqueueBurst32(ring, src, 12)).toBe(4); // full computed across the wrap
      expect(ringDequeueBurst32(ring, dst, 16)).toBe(16);
      for (let i: u32 = 0; i < 12; i++) expect(load<u32>(dst + (<usize>i << 2))).toBe(1000 + i);
      for (let i: u32 = 0; i < 4; i++) expect(load<u32>(dst + (<usize>(12 + i) << 2))).toBe(2000 + i);
      expect(load<u32>(ring + C_TAIL)).toBe(6);
      expect(ringCount(ring)).toBe(0);
      expect(ringFree(ring)).toBe(16);
    }
  });

  it('the single producer re-reads the consumer tail only when its cached copy says full', () => {
    const ring = makeRing(8, 4, 0);
    const src = buffer(8, 4);
    const dst = buffer(8, 4);
    expect(ringEnqueueBurst32(ring, src, 8)).toBe(8);
    expect(ringDequeueBurst32(ring, dst, 8)).toBe(8);
    // The cache still says 0 consumed: a 1-item enqueue must refresh it, and then it is 8.
    expect(load<u32>(ring + P_CACHED_CONS_TAIL)).toBe(0);
    expect(ringEnqueueBurst32(ring, src, 1)).toBe(1);
    expect(load<u32>(ring + P_CACHED_CONS_TAIL)).toBe(8);
    // With room known from the cache, a second enqueue does not need the consumer's line.
    store<u32>(ring + C_TAIL, 0xdead); // poison: a read of it would corrupt the free count
    expect(ringEnqueueBurst32(ring, src, 1)).toBe(1);
    expect(load<u32>(ring + P_CACHED_CONS_TAIL)).toBe(8);
  });

  it('an MP producer distrusts a cached consumer tail that racing producers left stale or ahead', () => {
    const ring = makeRing(8, 4, RING_F_MP | RING_F_MC);
    const src = buffer(8, 4);
    const dst = buffer(8, 4);
    expect(ringEnqueueBurst32(ring, src, 8)).toBe(8);
    expect(ringDequeueBurst32(ring, dst, 8)).toBe(8);
    expect(ringEnqueueBurst32(ring, src, 8)).toBe(8); // full: head 16, consumer tail 8
    store<u32>(ring + P_CACHED_CONS_TAIL, 20); // newer than head: would claim 12 free
    expect(ringEnqueueBurst32(ring, src, 8)).toBe(0);
    store<u32>(ring + P_CACHED_CONS_TAIL, 4); // older than head - capacity: the u32 room wraps
    expect(ringEnqueueBurst32(ring, src, 8)).toBe(0);
    expect(load<u32>(ring + P_CACHED_CONS_TAIL)).toBe(8); // refreshed from the real tail
    store<u32>(ring + C_CACHED_PROD_TAIL, 40); // and the mirror on the consumer side
    expect(ringDequeueBurst32(ring, dst, 8)).toBe(8);
    expect(ringDequeueBurst32(ring, dst, 8)).toBe(0);
  });

  it('wait calls on a busy-poll ring return 0 after polling instead of blocking', () => {
    const ring = makeRing(4, 4, 0);
    const buf = buffer(4, 4);
    expect(ringDequeueWait32(ring, buf, 4, -1)).toBe(0);
    fill32(buf, 9, 4);
    expect(ringEnqueueWait32(ring, buf, 4, -1)).toBe(4);
    expect(ringEnqueueWait32(ring, buf, 1, -1)).toBe(0);
    expect(ringDequeueWait32(ring, buf, 4, -1)).toBe(4);
    expect(load<u32>(buf, 12)).toBe(12);
    expect(load<u32>(ring + W_CONSUMERS)).toBe(0);
    expect(load<u32>(ring + W_PRODUCERS)).toBe(0);
  });

  it('long bursts (memory.copy path) split correctly at the end of the slot array', () => {
    const ring = makeRing(256, 4, 0);
    const src = buffer(200, 4);
    const dst = buffer(200, 4);
    fill32(src, 0, 200);
    expect(ringEnqueueBurst32(ring, src, 200)).toBe(200);
    expect(ringDequeueBurst32(ring, dst, 200)).toBe(200);
    fill32(src, 200, 200);
    expect(ringEnqueueBurst32(ring, src, 200)).toBe(200); // slots 200..255 then 0..143
    expect(ringDequeueBurst32(ring, dst, 200)).toBe(200);
    for (let i: u32 = 0; i < 200; i++) expect(load<u32>(dst + (<usize>i << 2))).toBe(200 + i);
  });
});

describe('64-bit rings', () => {
  it('carry full 64-bit values in order across the slot wrap, bulk and burst', () => {
    for (let m = 0; m < MODES.length; m++) {
      const ring = makeRing(4, 8, MODES[m]);
      const src = buffer(4, 8);
      const dst = buffer(4, 8);
      let next: u64 = 0xfedcba9800000000;
      let expected = next;
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 3; i++) store<u64>(src + (<usize>i << 3), next + <u64>i);
        expect(ringEnqueueBulk64(ring, src, 3)).toBe(3);
        next += 3;
        expect(ringEnqueueBulk64(ring, src, 2)).toBe(0);
        expect(ringDequeueBulk64(ring, dst, 4)).toBe(0);
        expect(ringDequeueBurst64(ring, dst, 4)).toBe(3);
        for (let i = 0; i < 3; i++) expect(load<u64>(dst + (<usize>i << 3))).toBe(expected++);
      }
      expect(ringEnqueueBurst64(ring, src, 4)).toBe(4);
      expect(ringEnqueueBurst64(ring, src, 4)).toBe(0);
    }
  });
});
