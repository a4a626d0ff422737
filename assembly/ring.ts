// Lock-free rings over the shared memory, in the manner of DPDK's rte_ring: a power-of-two array of
// 32- or 64-bit slots between a producer {head, tail} and a consumer {head, tail}, each pair on its
// own cache line. Single- or multi-producer and consumer is chosen per ring by flags at init.
//
// One ring, at a 64-byte aligned address from the memory map (host/layout.ts, RING_HEADER_BYTES):
//
//   ring+0    ┌─ config line: written once by ringInit, read-only after ───────────────────────┐
//             │ 0 magic "RNG1" │ 4 slots │ 8 mask │ 12 capacity │ 16 slot bytes │ 20 flags      │
//   ring+64   ├─ producer line: written by producers only ─────────────────────────────────────┤
//             │ 0 head │ 4 tail │ 8 cached consumer tail      │ 16 enqueued u64 │ 24 full u64  │
//   ring+128  ├─ consumer line: written by consumers only ─────────────────────────────────────┤
//             │ 0 head │ 4 tail │ 8 cached producer tail      │ 16 dequeued u64 │ 24 empty u64 │
//   ring+192  ├─ waiters line: written only on the slow path, by a side about to sleep ────────┤
//             │ 0 consumers waiting │ 4 producers waiting │ 8 wakeups sent u64                 │
//   ring+256  ├─ slots: `slots` × slot bytes ────────────────────────────────────────────────────┤
//             │ slot[index & mask] …                                                            │
//             └───────────────────────────────────────────────────────────────────────────────────┘
//
// Indexes. head and tail are free-running u32 counters: they are never masked when stored and wrap
// modulo 2^32; a slot is `index & mask`. Because the slot count is a power of two no larger than
// 2^24, it divides 2^32, so the slot sequence stays continuous across the wrap, and differences of
// two indexes computed in u32 arithmetic (`prodTail - consTail`, `capacity + consTail - prodHead`)
// are exact as long as the true difference is below 2^32, which the capacity guarantees.
//
// The protocol, one side shown (the consumer is the mirror image):
//   reserve  free = capacity + cachedConsTail - head; only when that is too small, re-read the
//            consumer tail (a load of the other side's line) and refresh the cache.
//            MP: then claim [head, head+k) with a compare-and-swap on head.
//   copy     plain stores into the slots.
//   publish  MP only: wait until tail == our head (earlier claimers publish first, in order).
//            One atomic store of tail = head + k for the whole burst. WASM atomics are sequentially
//            consistent (V8 emits xchg, about one cross-core cache-line round trip): once per burst,
//            never per item. The store also orders the slot writes before it for the consumer,
//            which reads the tail with an atomic load before reading the slots.
//
// Statistics live in each side's own line. enqueued/dequeued are plain read-modify-writes by whoever
// publishes the tail: publishes are serialised by the tail order even in MP mode, so these writes
// never race with each other. full/empty events are counted by the side that failed, atomically in
// MP/MC mode (several may fail at once), plainly in SP/SC mode.
//
// Waiting. A busy-poll ring never sleeps: the wait functions spin a bounded number of times and
// return, and the caller decides when to give up. An adaptive ring spins, then flags itself in the
// waiters line and sleeps in memory.atomic.wait32 on the other side's tail, with a timeout. The other
// side reads the waiters word after each publish (a plain load on a line that is almost never
// written) and calls notify only when someone is flagged. The flag-then-wait and publish-then-check
// orders are both sequentially consistent, so either the sleeper's wait32 sees the new tail or the
// publisher sees the flag: no lost wake-up.
//
// Claims and worker death. A worker can be terminated (worker.terminate()) at any interrupt check
// V8 makes in WASM: a function entry or a loop header. Between an MP producer's claim (the head
// compare-and-swap) and its publish (the tail store) lie such checks: the copy loop and the wait
// for earlier claimers. A producer ended there would leave the tail short of its claim forever, and
// every later producer of the ring would wait on it (the same holds for an MC consumer). So the
// journalled variants (…J) take the address of the thread's claim record (in its pool cache line,
// assembly/pool.ts) and fill it in the claim's own straight-line stretch, and clear it in the
// publish's:
//
//   claim record   | 0 ring (bit 0: consumer side) | 4 list | 8 head | 12 count |
//
// While it is set, recovery (assembly/engine/recover.ts) knows that [head, head + count) is claimed by
// a thread that will never publish: a producer's items are `list` (0: already in the slots, a single
// value), a consumer's are still in the slots. It finishes the claim for the dead thread: copies the
// items in, waits for the tail to reach head (earlier claimers publish first, as ever) and publishes
// head + count. A single producer (consumer) stores its head in the publish, not in the claim, so
// on such a side recovery stores the head too: else the side's next thread claims the same slots.
// The cost is two stores per claim and one per publish, never per item; callers without a record
// pass 0 and the inlined code drops the stores.
//
// Nothing here allocates or keeps module state: every address comes from the caller.

/** Bytes before the first slot: four cache lines (host/layout.ts RING_HEADER_BYTES). */
export const RING_HEADER: usize = 256;
export const RING_MAGIC: u32 = 0x31474e52; // "RNG1"
export const RING_MAX_SLOTS: u32 = 1 << 24;

/** Multi-producer enqueue (default: single producer). */
export const RING_F_MP: u32 = 1;
/** Multi-consumer dequeue (default: single consumer). */
export const RING_F_MC: u32 = 2;
/** Waits spin, then sleep in wait32 (default: busy-poll, never sleep). */
export const RING_F_ADAPTIVE: u32 = 4;
const RING_F_ALL: u32 = RING_F_MP | RING_F_MC | RING_F_ADAPTIVE;

// Config line.
export const R_MAGIC: usize = 0;
export const R_SLOTS: usize = 4;
export const R_MASK: usize = 8;
export const R_CAPACITY: usize = 12;
export const R_SLOT_BYTES: usize = 16;
export const R_FLAGS: usize = 20;
// Producer line.
export const P_HEAD: usize = 64;
export const P_TAIL: usize = 68;
export const P_CACHED_CONS_TAIL: usize = 72;
export const P_ENQUEUED: usize = 80;
export const P_FULL: usize = 88;
// Consumer line.
export const C_HEAD: usize = 128;
export const C_TAIL: usize = 132;
export const C_CACHED_PROD_TAIL: usize = 136;
export const C_DEQUEUED: usize = 144;
export const C_EMPTY: usize = 152;
// Waiters line.
export const W_CONSUMERS: usize = 192;
export const W_PRODUCERS: usize = 196;
export const W_WAKEUPS: usize = 200;

/** Polls of the other side's tail before an adaptive ring sleeps, or a wait call on a busy ring returns. */
const SPIN_POLLS: u32 = 2048;
/** Polls of our own tail while an earlier MP/MC claimer publishes, before yielding the core to it. */
const TURN_POLLS: u32 = 256;
/** How long to yield to a preempted earlier claimer (it may need this core to finish). */
const TURN_YIELD_NS: i64 = 20_000;

export const RING_E_ADDRESS: i32 = -1;
export const RING_E_SLOTS: i32 = -2;
export const RING_E_SLOT_BYTES: i32 = -3;
export const RING_E_FLAGS: i32 = -4;

/**
 * Formats a ring at `ring` (64-byte aligned, RING_HEADER + slots × slotBytes bytes). Returns 0, or a
 * negative RING_E_* naming the bad argument. Call once, before any producer or consumer starts.
 */
export function ringInit(ring: usize, slots: u32, slotBytes: u32, flags: u32): i32 {
  if (ring == 0 || (ring & 63) != 0) return RING_E_ADDRESS;
  if (slots < 2 || slots > RING_MAX_SLOTS || (slots & (slots - 1)) != 0) return RING_E_SLOTS;
  if (slotBytes != 4 && slotBytes != 8) return RING_E_SLOT_BYTES;
  if ((flags & ~RING_F_ALL) != 0) return RING_E_FLAGS;
  memory.fill(ring, 0, RING_HEADER);
  store<u32>(ring, slots, R_SLOTS);
  store<u32>(ring, slots - 1, R_MASK);
  store<u32>(ring, slots, R_CAPACITY);
  store<u32>(ring, slotBytes, R_SLOT_BYTES);
  store<u32>(ring, flags, R_FLAGS);
  // Last, and atomically: a ring is usable once its magic is visible.
  atomic.store<u32>(ring, RING_MAGIC, R_MAGIC);
  return 0;
}

/** Items in the ring now (a snapshot; exact when both sides are idle). */
export function ringCount(ring: usize): u32 {
  // Consumer tail first: it only grows, so a later producer tail can only make the difference
  // larger, never negative; clamp what a race can overshoot.
  const consTail = atomic.load<u32>(ring, C_TAIL);
  const n = atomic.load<u32>(ring, P_TAIL) - consTail;
  const capacity = load<u32>(ring, R_CAPACITY);
  return n > capacity ? capacity : n;
}

/** Free slots now (a snapshot). */
export function ringFree(ring: usize): u32 {
  return load<u32>(ring, R_CAPACITY) - ringCount(ring);
}

// ─── reserve / commit: the two halves of each side ───────────────────────────────────────────────
// Reserve returns (first index << 32) | count, count 0 when nothing fits; commit publishes.

@inline function fit(want: u32, have: u32, bulk: bool): u32 {
  return want <= have ? want : bulk ? 0 : have;
}

@inline function prodReserve(ring: usize, n: u32, bulk: bool): u64 {
  const capacity = load<u32>(ring, R_CAPACITY);
  const mp = (load<u32>(ring, R_FLAGS) & RING_F_MP) != 0;
  let head: u32;
  let k: u32;
  do {
    head = mp ? atomic.load<u32>(ring, P_HEAD) : load<u32>(ring, P_HEAD);
    // Room by the cached consumer tail: a value the tail really had, and it only grows, so the real
    // room is at least this. Only when that is not enough, read the consumer's line. In MP mode
    // producers refresh the cache with racing plain stores; a cache too old, or newer than a head
    // that another producer has since moved, shows as more room than capacity: re-read then too.
    let free = capacity + (mp ? atomic.load<u32>(ring, P_CACHED_CONS_TAIL) : load<u32>(ring, P_CACHED_CONS_TAIL)) - head;
    if (free < n || free > capacity) {
      const consTail = atomic.load<u32>(ring, C_TAIL);
      store<u32>(ring, consTail, P_CACHED_CONS_TAIL);
      free = capacity + consTail - head;
    }
    k = fit(n, free, bulk);
    if (k == 0) {
      if (n != 0) {
        if (mp) atomic.add<u64>(ring, 1, P_FULL);
        else store<u64>(ring, load<u64>(ring, P_FULL) + 1, P_FULL);
      }
      return 0;
    }
    // MP: claim [head, head + k); a stale head (another producer claimed first) fails and retries.
  } while (mp && atomic.cmpxchg<u32>(ring, head, head + k, P_HEAD) != head);
  return (<u64>head << 32) | k;
}

@inline function prodCommit(ring: usize, head: u32, k: u32, claim: usize): void {
  const flags = load<u32>(ring, R_FLAGS);
  if (flags & RING_F_MP) waitTurn(ring + P_TAIL, head);
  else store<u32>(ring, head + k, P_HEAD);
  store<u64>(ring, load<u64>(ring, P_ENQUEUED) + k, P_ENQUEUED);
  // The publish: makes the slots written above visible to consumers.
  atomic.store<u32>(ring, head + k, P_TAIL);
  // In the publish's stretch: the claim is no longer the host's to finish.
  if (claim) store<u32>(claim, 0);
  if (flags & RING_F_ADAPTIVE) {
    if (atomic.load<u32>(ring, W_CONSUMERS) != 0) wake(ring, ring + P_TAIL);
  }
}

@inline function consReserve(ring: usize, n: u32, bulk: bool): u64 {
  const capacity = load<u32>(ring, R_CAPACITY);
  const mc = (load<u32>(ring, R_FLAGS) & RING_F_MC) != 0;
  let head: u32;
  let k: u32;
  do {
    head = mc ? atomic.load<u32>(ring, C_HEAD) : load<u32>(ring, C_HEAD);
    // Items by the cached producer tail (the mirror of prodReserve).
    let avail = (mc ? atomic.load<u32>(ring, C_CACHED_PROD_TAIL) : load<u32>(ring, C_CACHED_PROD_TAIL)) - head;
    if (avail < n || avail > capacity) {
      const prodTail = atomic.load<u32>(ring, P_TAIL);
      store<u32>(ring, prodTail, C_CACHED_PROD_TAIL);
      avail = prodTail - head;
    }
    k = fit(n, avail, bulk);
    if (k == 0) {
      if (n != 0) {
        if (mc) atomic.add<u64>(ring, 1, C_EMPTY);
        else store<u64>(ring, load<u64>(ring, C_EMPTY) + 1, C_EMPTY);
      }
      return 0;
    }
  } while (mc && atomic.cmpxchg<u32>(ring, head, head + k, C_HEAD) != head);
  return (<u64>head << 32) | k;
}

@inline function consCommit(ring: usize, head: u32, k: u32, claim: usize): void {
  const flags = load<u32>(ring, R_FLAGS);
  if (flags & RING_F_MC) waitTurn(ring + C_TAIL, head);
  else store<u32>(ring, head + k, C_HEAD);
  store<u64>(ring, load<u64>(ring, C_DEQUEUED) + k, C_DEQUEUED);
  // The release: the slots read above may now be overwritten by producers.
  atomic.store<u32>(ring, head + k, C_TAIL);
  if (claim) store<u32>(claim, 0);
  if (flags & RING_F_ADAPTIVE) {
    if (atomic.load<u32>(ring, W_PRODUCERS) != 0) wake(ring, ring + C_TAIL);
  }
}

/** MP/MC: earlier claimers publish first; wait for them, yielding the core if one seems preempted. */
@inline function waitTurn(tail: usize, head: u32): void {
  let polls: u32 = 0;
  let seen = atomic.load<u32>(tail);
  while (seen != head) {
    if (++polls >= TURN_POLLS) {
      atomic.wait<i32>(tail, <i32>seen, TURN_YIELD_NS);
      polls = 0;
    }
    seen = atomic.load<u32>(tail);
  }
}

// Inlined, never left to the optimiser: it runs after the publish cleared the claim record and
// before the caller's journal store (a journalled producer such as assembly/engine/worker.ts
// flushRecords), and a call's entry is an interrupt check, where a worker ended would leave its
// items both on the ring and in its journal (released twice).
@inline function wake(ring: usize, tail: usize): void {
  atomic.add<u64>(ring, 1, W_WAKEUPS);
  atomic.notify(tail);
}

// ─── slot copies ──────────────────────────────────────────────────────────────────────────────────

@inline function copyItems<T>(dst: usize, src: usize, n: u32): void {
  // memory.copy is a call out of the generated code in V8: worth it only for long runs.
  if (n >= 64) {
    memory.copy(dst, src, <usize>n * sizeof<T>());
  } else {
    for (let i: usize = 0; i < <usize>n; i++) {
      store<T>(dst + i * sizeof<T>(), load<T>(src + i * sizeof<T>()));
    }
  }
}

@inline function copyIn<T>(ring: usize, head: u32, src: usize, k: u32): void {
  const slots = load<u32>(ring, R_SLOTS);
  const i = head & (slots - 1);
  const first = min(k, slots - i);
  const base = ring + RING_HEADER;
  copyItems<T>(base + <usize>i * sizeof<T>(), src, first);
  if (first < k) copyItems<T>(base, src + <usize>first * sizeof<T>(), k - first);
}

@inline function copyOut<T>(ring: usize, head: u32, dst: usize, k: u32): void {
  const slots = load<u32>(ring, R_SLOTS);
  const i = head & (slots - 1);
  const first = min(k, slots - i);
  const base = ring + RING_HEADER;
  copyItems<T>(dst, base + <usize>i * sizeof<T>(), first);
  if (first < k) copyItems<T>(dst + <usize>first * sizeof<T>(), base, k - first);
}

/** Files a claim in `claim` (see "Claims and worker death"): two stores, in the claim's stretch. */
@inline function fileClaim(claim: usize, ring: usize, list: usize, head: u32, k: u32): void {
  store<u64>(claim, (<u64>list << 32) | <u64>ring);
  store<u64>(claim, (<u64>k << 32) | <u64>head, 8);
}

@inline function enqueue<T>(ring: usize, src: usize, n: u32, bulk: bool, claim: usize): u32 {
  const r = prodReserve(ring, n, bulk);
  const k = <u32>r;
  if (k == 0) return 0;
  const head = <u32>(r >> 32);
  if (claim) fileClaim(claim, ring, src, head, k);
  copyIn<T>(ring, head, src, k);
  prodCommit(ring, head, k, claim);
  return k;
}

@inline function dequeue<T>(ring: usize, dst: usize, n: u32, bulk: bool, claim: usize): u32 {
  const r = consReserve(ring, n, bulk);
  const k = <u32>r;
  if (k == 0) return 0;
  const head = <u32>(r >> 32);
  if (claim) fileClaim(claim, ring | 1, dst, head, k);
  copyOut<T>(ring, head, dst, k);
  consCommit(ring, head, k, claim);
  return k;
}

// ─── waiting ──────────────────────────────────────────────────────────────────────────────────────

/** Timeouts are i32 microseconds (JS passes a plain number, not a BigInt); negative: no limit. */
@inline function sleepNs(timeoutUs: i32): i64 {
  return timeoutUs < 0 ? -1 : <i64>timeoutUs * 1000;
}

/** Consumer side: waits until the producer tail moves past the consumer head, or gives up. */
function awaitItems(ring: usize, timeoutUs: i32): void {
  for (let i: u32 = 0; i < SPIN_POLLS; i++) {
    if (atomic.load<u32>(ring, P_TAIL) != atomic.load<u32>(ring, C_HEAD)) return;
  }
  if ((load<u32>(ring, R_FLAGS) & RING_F_ADAPTIVE) == 0 || timeoutUs == 0) return;
  const seen = atomic.load<u32>(ring, P_TAIL);
  if (seen != atomic.load<u32>(ring, C_HEAD)) return;
  // Flag first, then sleep only while the tail still reads `seen` (wait32 compares atomically).
  atomic.add<u32>(ring, 1, W_CONSUMERS);
  atomic.wait<i32>(ring + P_TAIL, <i32>seen, sleepNs(timeoutUs));
  atomic.sub<u32>(ring, 1, W_CONSUMERS);
}

/** Producer side: waits until the consumer tail frees a slot, or gives up. */
function awaitSpace(ring: usize, timeoutUs: i32): void {
  const capacity = load<u32>(ring, R_CAPACITY);
  for (let i: u32 = 0; i < SPIN_POLLS; i++) {
    if (atomic.load<u32>(ring, P_HEAD) - atomic.load<u32>(ring, C_TAIL) < capacity) return;
  }
  if ((load<u32>(ring, R_FLAGS) & RING_F_ADAPTIVE) == 0 || timeoutUs == 0) return;
  const seen = atomic.load<u32>(ring, C_TAIL);
  if (atomic.load<u32>(ring, P_HEAD) - seen < capacity) return;
  atomic.add<u32>(ring, 1, W_PRODUCERS);
  atomic.wait<i32>(ring + C_TAIL, <i32>seen, sleepNs(timeoutUs));
  atomic.sub<u32>(ring, 1, W_PRODUCERS);
}

// ─── the API: 32-bit slots ────────────────────────────────────────────────────────────────────────

/** Enqueues as many of the `n` u32 at `src` as fit; returns how many. */
export function ringEnqueueBurst32(ring: usize, src: usize, n: u32): u32 {
  return enqueue<u32>(ring, src, n, false, 0);
}
/** Enqueues all `n` u32 at `src`, or none; returns n or 0. */
export function ringEnqueueBulk32(ring: usize, src: usize, n: u32): u32 {
  return enqueue<u32>(ring, src, n, true, 0);
}
/** Dequeues up to `n` u32 into `dst`; returns how many. */
export function ringDequeueBurst32(ring: usize, dst: usize, n: u32): u32 {
  return dequeue<u32>(ring, dst, n, false, 0);
}
/** Dequeues exactly `n` u32 into `dst`, or none; returns n or 0. */
export function ringDequeueBulk32(ring: usize, dst: usize, n: u32): u32 {
  return dequeue<u32>(ring, dst, n, true, 0);
}
/** Enqueues one u32 (e.g. a frame index); false when full. */
export function ringEnqueue32(ring: usize, value: u32): bool {
  return ringEnqueueJ32(ring, value, 0);
}
/** ringEnqueue32 with a claim record (the value is in its slot before any interrupt check: list 0). */
export function ringEnqueueJ32(ring: usize, value: u32, claim: usize): bool {
  const r = prodReserve(ring, 1, true);
  if (<u32>r == 0) return false;
  const head = <u32>(r >> 32);
  store<u32>(ring + RING_HEADER + (<usize>(head & load<u32>(ring, R_MASK)) << 2), value);
  if (claim) fileClaim(claim, ring, 0, head, 1);
  prodCommit(ring, head, 1, claim);
  return true;
}
/** Dequeues one u32; -1 when empty. */
export function ringDequeue32(ring: usize): i64 {
  return ringDequeueJ32(ring, 0);
}
/** ringDequeue32 with a claim record (list 0: the value the dead thread read is still in its slot). */
export function ringDequeueJ32(ring: usize, claim: usize): i64 {
  const r = consReserve(ring, 1, true);
  if (<u32>r == 0) return -1;
  const head = <u32>(r >> 32);
  if (claim) fileClaim(claim, ring | 1, 0, head, 1);
  const value = load<u32>(ring + RING_HEADER + (<usize>(head & load<u32>(ring, R_MASK)) << 2));
  consCommit(ring, head, 1, claim);
  return value;
}
/** Burst enqueue / dequeue with a claim record (see "Claims and worker death"). */
export function ringEnqueueBurstJ32(ring: usize, src: usize, n: u32, claim: usize): u32 {
  return enqueue<u32>(ring, src, n, false, claim);
}
export function ringDequeueBurstJ32(ring: usize, dst: usize, n: u32, claim: usize): u32 {
  return dequeue<u32>(ring, dst, n, false, claim);
}
export function ringEnqueueBurstJ64(ring: usize, src: usize, n: u32, claim: usize): u32 {
  return enqueue<u64>(ring, src, n, false, claim);
}
/**
 * Burst enqueue that waits for room when the ring is full: busy rings poll a bounded while, adaptive
 * rings then sleep up to `timeoutUs` microseconds (negative: no limit) until a consumer frees slots. Returns how many.
 */
export function ringEnqueueWait32(ring: usize, src: usize, n: u32, timeoutUs: i32): u32 {
  const k = enqueue<u32>(ring, src, n, false, 0);
  if (k != 0 || n == 0) return k;
  awaitSpace(ring, timeoutUs);
  return enqueue<u32>(ring, src, n, false, 0);
}
/** Burst dequeue that waits for items when the ring is empty (see ringEnqueueWait32). */
export function ringDequeueWait32(ring: usize, dst: usize, n: u32, timeoutUs: i32): u32 {
  const k = dequeue<u32>(ring, dst, n, false, 0);
  if (k != 0 || n == 0) return k;
  awaitItems(ring, timeoutUs);
  return dequeue<u32>(ring, dst, n, false, 0);
}

// ─── the API: 64-bit slots ────────────────────────────────────────────────────────────────────────

export function ringEnqueueBurst64(ring: usize, src: usize, n: u32): u32 {
  return enqueue<u64>(ring, src, n, false, 0);
}
export function ringEnqueueBulk64(ring: usize, src: usize, n: u32): u32 {
  return enqueue<u64>(ring, src, n, true, 0);
}
export function ringDequeueBurst64(ring: usize, dst: usize, n: u32): u32 {
  return dequeue<u64>(ring, dst, n, false, 0);
}
export function ringDequeueBulk64(ring: usize, dst: usize, n: u32): u32 {
  return dequeue<u64>(ring, dst, n, true, 0);
}
export function ringEnqueueWait64(ring: usize, src: usize, n: u32, timeoutUs: i32): u32 {
  const k = enqueue<u64>(ring, src, n, false, 0);
  if (k != 0 || n == 0) return k;
  awaitSpace(ring, timeoutUs);
  return enqueue<u64>(ring, src, n, false, 0);
}
export function ringDequeueWait64(ring: usize, dst: usize, n: u32, timeoutUs: i32): u32 {
  const k = dequeue<u64>(ring, dst, n, false, 0);
  if (k != 0 || n == 0) return k;
  awaitItems(ring, timeoutUs);
  return dequeue<u64>(ring, dst, n, false, 0);
}
