// The engine's side of an AF_XDP socket (native/afxdp.cc maps its rings into the shared memory;
// the UMEM is the engine's frame pool). Four single-producer single-consumer rings, each a
// producer index, a consumer index, a flags word and a power-of-two array of descriptors:
//
//   fill        we produce UMEM frame addresses the kernel may receive into      (u64)
//   rx          the kernel produces {addr, len, options} of received frames       (16 B)
//   tx          we produce {addr, len, options} of frames to send                 (16 B)
//   completion  the kernel produces addresses of frames it has sent               (u64)
//
// As in libxdp's xsk.h, each side caches the other side's index (`cachedProd` on rings we consume,
// `cachedCons` on rings we produce) and reads the shared one only when the cache says the ring
// looks empty or full, so the shared cache line crosses cores once per burst, not per frame.
// Indexes are free-running u32; `index & mask` picks the slot and `prod - cons` (mod 2^32) is
// the fill level, also across wrap-around.
//
// Barriers. WASM atomics are sequentially consistent (V8: xchg for stores), which covers the
// acquire/release pairs the kernel expects (it uses smp_load_acquire / smp_store_release):
//  - atomic.load of a producer index we consume (rx, completion): acquire, so the descriptors the
//    kernel wrote before moving its producer are visible to the loads after it;
//  - atomic.store of a producer index we own (fill, tx): release, so the descriptors (and frame
//    bytes) we wrote are visible before the kernel sees the new producer;
//  - atomic.store of a consumer index we own (rx, completion): release, so our reads of the
//    descriptors are done before the kernel may overwrite those slots;
//  - atomic.load of a consumer index of a ring we produce (fill, tx): acquire, so the kernel's
//    reads of those slots are done before we overwrite them.
//
// Queue state block (one per socket, owned by the one thread that runs the queue):
//
// | off | type | field                                                                |
// |-----|------|----------------------------------------------------------------------|
// | 0   | u32  | queue id written into the records                                     |
// | 4   | u32  | umem: address of the frame pool (UMEM offset 0) in the memory          |
// | 8   | u32  | frameShift: log2(frame size)                                           |
// | 12  | u32  | firstFrame: first pool frame of this queue                             |
// | 16  | u32  | rxFrames: frames given to the fill ring                                |
// | 20  | u32  | txFrames: frames kept for transmit                                     |
// | 24  | u32  | records: address of `burst` 64-byte metadata records of the burst      |
// | 28  | u32  | held: frames of the last RX burst, not yet released                    |
// | 32  | u64  | timestamp of the last burst (ns)                                       |
// | 64  | 32 B | rx ring   } each: producer, consumer, desc, flags (addresses), mask,   |
// | 96  | 32 B | fill ring }       size, cachedProd, cachedCons                        |
// | 128 | 32 B | tx ring   }                                                          |
// | 160 | 32 B | comp ring }                                                          |
// | 192 | u32  | free: address of the TX free-frame stack (u32 frame indexes)           |
// | 196 | u32  | freeCount                                                              |
// | 200 | u32  | txReserved: descriptors written by the last reserve                    |
// | 208 | u64  | rx packets | 216 | u64 rx bytes | 224 | u64 tx packets | 232 | u64 tx bytes |
// | 240 | u32  | fill shortfalls: frames that found no room in the fill ring (never, if sized right) |
// | 244 | u32  | engine mode: pool frames the kernel holds (on the fill ring or being received into) |
// | 248 | u32  | engine mode: forwarded frames on the TX ring, not completed yet              |

import { fillRxMeta } from '../meta';
import { XDP_RING_NEED_WAKEUP } from './uapi';

export const XSK_STATE_BYTES: usize = 256;
export const XS_QUEUE: usize = 0;
export const XS_UMEM: usize = 4;
export const XS_SHIFT: usize = 8;
export const XS_FIRST: usize = 12;
export const XS_RX_FRAMES: usize = 16;
export const XS_TX_FRAMES: usize = 20;
export const XS_META: usize = 24;
export const XS_HELD: usize = 28;
export const XSK_RX: usize = 64;
export const XSK_FILL: usize = 96;
export const XSK_TX: usize = 128;
export const XSK_COMP: usize = 160;
export const XS_FREE: usize = 192;
export const XS_FREE_COUNT: usize = 196;
export const XS_TX_RESERVED: usize = 200;
export const XS_RX_PKTS: usize = 208;
export const XS_RX_BYTES: usize = 216;
export const XS_TX_PKTS: usize = 224;
export const XS_TX_BYTES: usize = 232;
export const XS_FILL_SHORT: usize = 240;
export const XS_KERNEL_FRAMES: usize = 244;
export const XS_TX_INFLIGHT: usize = 248;

// A ring's 32-byte line in the state block.
export const XR_PROD: usize = 0;
export const XR_CONS: usize = 4;
export const XR_DESC: usize = 8;
export const XR_FLAGS: usize = 12;
export const XR_MASK: usize = 16;
export const XR_SIZE: usize = 20;
export const XR_CACHED_PROD: usize = 24;
export const XR_CACHED_CONS: usize = 28;

/** Fills one ring line of the state block; the host calls it per ring after open(). */
export function xskRing(st: usize, ring: usize, prod: usize, cons: usize, desc: usize, flags: usize, size: u32): void {
  const r = st + ring;
  store<u32>(r, <u32>prod, XR_PROD);
  store<u32>(r, <u32>cons, XR_CONS);
  store<u32>(r, <u32>desc, XR_DESC);
  store<u32>(r, <u32>flags, XR_FLAGS);
  store<u32>(r, size - 1, XR_MASK);
  store<u32>(r, size, XR_SIZE);
  // Start from the kernel's current indexes (both 0 on a fresh socket).
  store<u32>(r, atomic.load<u32>(prod), XR_CACHED_PROD);
  store<u32>(r, atomic.load<u32>(cons), XR_CACHED_CONS);
}

/**
 * Sets up the queue: gives its `rxFrames` frames to the fill ring and keeps `txFrames` on the
 * TX free stack at `free`. Call after the four xskRing lines are set. Returns the frames that
 * did not fit the fill ring (0 when it is sized right).
 */
export function xskInit(st: usize, queue: u32, umem: usize, frameShift: u32, firstFrame: u32, rxFrames: u32,
  txFrames: u32, meta: usize, free: usize): u32 {
  store<u32>(st, queue, XS_QUEUE);
  store<u32>(st, <u32>umem, XS_UMEM);
  store<u32>(st, frameShift, XS_SHIFT);
  store<u32>(st, firstFrame, XS_FIRST);
  store<u32>(st, rxFrames, XS_RX_FRAMES);
  store<u32>(st, txFrames, XS_TX_FRAMES);
  store<u32>(st, <u32>meta, XS_META);
  store<u32>(st, 0, XS_HELD);
  store<u32>(st, <u32>free, XS_FREE);
  store<u32>(st, 0, XS_TX_RESERVED);
  memory.fill(st + XS_RX_PKTS, 0, 44);
  const f = st + XSK_FILL;
  const room = load<u32>(f, XR_SIZE) - (load<u32>(f, XR_CACHED_PROD) - load<u32>(f, XR_CACHED_CONS));
  const n = rxFrames < room ? rxFrames : room;
  const desc = <usize>load<u32>(f, XR_DESC);
  const mask = load<u32>(f, XR_MASK);
  let prod = load<u32>(f, XR_CACHED_PROD);
  for (let i: u32 = 0; i < n; i++) {
    store<u64>(desc + (<usize>(prod & mask) << 3), <u64>(firstFrame + i) << frameShift);
    prod++;
  }
  store<u32>(f, prod, XR_CACHED_PROD);
  // Release: the addresses are in the ring before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, XR_PROD), prod);
  for (let i: u32 = 0; i < txFrames; i++) store<u32>(free + (<usize>i << 2), firstFrame + rxFrames + i);
  store<u32>(st, txFrames, XS_FREE_COUNT);
  store<u32>(st, rxFrames - n, XS_FILL_SHORT);
  return rxFrames - n;
}

/**
 * Receives up to `max` frames: peeks the RX ring, writes a metadata record per frame (`data`
 * points into the UMEM frame) stamped `ts` into the queue's burst records, and each record's
 * address into `out`. The previous burst is released first. Returns the count.
 *
 * The records live in a small per-queue area rather than at each pool frame's own record: a
 * frame's record would live no longer (the frame goes back to the fill ring on release), and
 * 64 hot bytes per burst slot cost no cache miss where 2048-byte-strided records cost one each.
 */
/**
 * How many RX descriptors (at most `max`) are ready from the cached consumer index. The kernel's
 * producer index is read only when the cached one does not already cover `max`.
 */
// @ts-ignore: decorator
@inline export function rxPeek(r: usize, max: u32): u32 {
  const cons = load<u32>(r, XR_CACHED_CONS);
  let avail = load<u32>(r, XR_CACHED_PROD) - cons;
  if (avail < max) {
    // Acquire: see the header; descriptors before the producer are now visible.
    const prod = atomic.load<u32>(<usize>load<u32>(r, XR_PROD));
    store<u32>(r, prod, XR_CACHED_PROD);
    avail = prod - cons;
  }
  return avail < max ? avail : max;
}

export function xskRx(st: usize, out: usize, max: u32, ts: u64): u32 {
  xskRelease(st);
  const r = st + XSK_RX;
  let cons = load<u32>(r, XR_CACHED_CONS);
  const n = rxPeek(r, max);
  if (n == 0) return 0;
  const desc = <usize>load<u32>(r, XR_DESC);
  const mask = load<u32>(r, XR_MASK);
  const umem = <usize>load<u32>(st, XS_UMEM);
  const meta = <usize>load<u32>(st, XS_META);
  const queue = load<u32>(st, XS_QUEUE);
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = desc + (<usize>(cons & mask) << 4);
    const addr = load<u64>(d);
    const len = load<u32>(d, 8);
    const m = meta + (<usize>i << 6);
    fillRxMeta(m, umem + <usize>addr, len, len, ts, queue, 0xffff);
    store<u32>(out + (<usize>i << 2), <u32>m);
    bytes += len;
    cons++;
  }
  store<u32>(st, n, XS_HELD);
  store<u64>(st, ts, 32);
  store<u64>(st, load<u64>(st, XS_RX_PKTS) + n, XS_RX_PKTS);
  store<u64>(st, load<u64>(st, XS_RX_BYTES) + bytes, XS_RX_BYTES);
  return n;
}

/**
 * Releases the last RX burst: its frames go back on the fill ring and the RX consumer moves past
 * them. Returns 1 when the kernel asks for a wake-up (need_wakeup on the fill ring: call recvfrom
 * or poll), else 0.
 */
export function xskRelease(st: usize): u32 {
  const held = load<u32>(st, XS_HELD);
  const f = st + XSK_FILL;
  if (held == 0) return atomic.load<u32>(<usize>load<u32>(f, XR_FLAGS)) & XDP_RING_NEED_WAKEUP;
  const r = st + XSK_RX;
  const shift = load<u32>(st, XS_SHIFT);
  const chunk: u64 = ~((<u64>1 << shift) - 1);
  let fprod = load<u32>(f, XR_CACHED_PROD);
  if (load<u32>(f, XR_SIZE) - (fprod - load<u32>(f, XR_CACHED_CONS)) < held) {
    // Acquire: the kernel has taken the addresses in the slots we are about to reuse.
    store<u32>(f, atomic.load<u32>(<usize>load<u32>(f, XR_CONS)), XR_CACHED_CONS);
  }
  const room = load<u32>(f, XR_SIZE) - (fprod - load<u32>(f, XR_CACHED_CONS));
  const n = held < room ? held : room;
  const rdesc = <usize>load<u32>(r, XR_DESC);
  const rmask = load<u32>(r, XR_MASK);
  const fdesc = <usize>load<u32>(f, XR_DESC);
  const fmask = load<u32>(f, XR_MASK);
  let cons = load<u32>(r, XR_CACHED_CONS);
  for (let i: u32 = 0; i < n; i++) {
    // The frame's base address: the RX descriptor points at the packet inside it.
    const addr = load<u64>(rdesc + (<usize>((cons + i) & rmask) << 4)) & chunk;
    store<u64>(fdesc + (<usize>(fprod & fmask) << 3), addr);
    fprod++;
  }
  store<u32>(f, fprod, XR_CACHED_PROD);
  // Release: the fill addresses are in place before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, XR_PROD), fprod);
  cons += held;
  store<u32>(r, cons, XR_CACHED_CONS);
  // Release: we are done reading these RX descriptors before the kernel may reuse the slots.
  atomic.store<u32>(<usize>load<u32>(r, XR_CONS), cons);
  if (n < held) store<u32>(st, load<u32>(st, XS_FILL_SHORT) + held - n, XS_FILL_SHORT);
  store<u32>(st, 0, XS_HELD);
  return atomic.load<u32>(<usize>load<u32>(f, XR_FLAGS)) & XDP_RING_NEED_WAKEUP;
}

/** Moves frames the kernel has finished sending from the completion ring to the free stack. */
export function xskReap(st: usize): u32 {
  const c = st + XSK_COMP;
  let cons = load<u32>(c, XR_CACHED_CONS);
  // Acquire: completion entries before the producer are visible.
  const prod = atomic.load<u32>(<usize>load<u32>(c, XR_PROD));
  const n = prod - cons;
  if (n == 0) return 0;
  const desc = <usize>load<u32>(c, XR_DESC);
  const mask = load<u32>(c, XR_MASK);
  const shift = load<u32>(st, XS_SHIFT);
  const free = <usize>load<u32>(st, XS_FREE);
  let count = load<u32>(st, XS_FREE_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    store<u32>(free + (<usize>count << 2), <u32>(load<u64>(desc + (<usize>(cons & mask) << 3)) >> shift));
    count++;
    cons++;
  }
  store<u32>(st, count, XS_FREE_COUNT);
  store<u32>(c, cons, XR_CACHED_CONS);
  // Release: our reads of the entries are done before the kernel may overwrite them.
  atomic.store<u32>(<usize>load<u32>(c, XR_CONS), cons);
  return n;
}

/**
 * Reserves up to `n` frames for transmit: takes them from the free stack, writes their TX
 * descriptors (length still 0) and their absolute addresses into `out`. Returns how many.
 */
export function xskTxReserve(st: usize, out: usize, n: u32): u32 {
  xskReap(st);
  const t = st + XSK_TX;
  const prod = load<u32>(t, XR_CACHED_PROD);
  const size = load<u32>(t, XR_SIZE);
  if (size - (prod - load<u32>(t, XR_CACHED_CONS)) < n) {
    // Acquire: the kernel has read the descriptors in the slots we are about to reuse.
    store<u32>(t, atomic.load<u32>(<usize>load<u32>(t, XR_CONS)), XR_CACHED_CONS);
  }
  const room = size - (prod - load<u32>(t, XR_CACHED_CONS));
  let count = load<u32>(st, XS_FREE_COUNT);
  let k = n < room ? n : room;
  if (k > count) k = count;
  const desc = <usize>load<u32>(t, XR_DESC);
  const mask = load<u32>(t, XR_MASK);
  const shift = load<u32>(st, XS_SHIFT);
  const umem = <usize>load<u32>(st, XS_UMEM);
  const free = <usize>load<u32>(st, XS_FREE);
  for (let i: u32 = 0; i < k; i++) {
    count--;
    const addr = <u64>load<u32>(free + (<usize>count << 2)) << shift;
    const d = desc + (<usize>((prod + i) & mask) << 4);
    store<u64>(d, addr);
    store<u64>(d, 0, 8); // len and options
    store<u32>(out + (<usize>i << 2), <u32>(umem + <usize>addr));
  }
  store<u32>(st, count, XS_FREE_COUNT);
  store<u32>(st, k, XS_TX_RESERVED);
  return k;
}

/**
 * Sends the first `k` reserved frames with the lengths at `lens`; reserved frames beyond k go
 * back to the free stack. Returns 1 when the kernel wants a sendto() to start sending, else 0.
 */
export function xskTxSubmit(st: usize, lens: usize, k: u32): u32 {
  const t = st + XSK_TX;
  const reserved = load<u32>(st, XS_TX_RESERVED);
  if (k > reserved) k = reserved;
  const desc = <usize>load<u32>(t, XR_DESC);
  const mask = load<u32>(t, XR_MASK);
  const prod = load<u32>(t, XR_CACHED_PROD);
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < k; i++) {
    const len = load<u32>(lens + (<usize>i << 2));
    store<u32>(desc + (<usize>((prod + i) & mask) << 4), len, 8);
    bytes += len;
  }
  if (k < reserved) {
    const shift = load<u32>(st, XS_SHIFT);
    const free = <usize>load<u32>(st, XS_FREE);
    let count = load<u32>(st, XS_FREE_COUNT);
    for (let i: u32 = k; i < reserved; i++) {
      store<u32>(free + (<usize>count << 2), <u32>(load<u64>(desc + (<usize>((prod + i) & mask) << 4)) >> shift));
      count++;
    }
    store<u32>(st, count, XS_FREE_COUNT);
  }
  store<u32>(st, 0, XS_TX_RESERVED);
  if (k == 0) return 0;
  store<u32>(t, prod + k, XR_CACHED_PROD);
  // Release: descriptors and frame bytes are visible before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(t, XR_PROD), prod + k);
  store<u64>(st, load<u64>(st, XS_TX_PKTS) + k, XS_TX_PKTS);
  store<u64>(st, load<u64>(st, XS_TX_BYTES) + bytes, XS_TX_BYTES);
  return atomic.load<u32>(<usize>load<u32>(t, XR_FLAGS)) & XDP_RING_NEED_WAKEUP;
}

/** TX frames submitted and not yet completed (reaps first). */
export function xskTxPending(st: usize): u32 {
  xskReap(st);
  return load<u32>(st, XS_TX_FRAMES) - load<u32>(st, XS_FREE_COUNT);
}

/** Frames waiting on the RX ring, the last burst not counted (a cheap check for adaptive polling). */
export function xskRxReady(st: usize): u32 {
  const r = st + XSK_RX;
  return atomic.load<u32>(<usize>load<u32>(r, XR_PROD)) - load<u32>(r, XR_CACHED_CONS) - load<u32>(st, XS_HELD);
}
