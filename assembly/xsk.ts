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

import { writeCapture } from './capture';
import { frameMeta } from './engine-map';
import { frameRelease, poolAlloc } from './pool';
import { rxPublish } from './dispatch';
import { ringEnqueueBurst32 } from './ring';
import { statAdd, statDrop, STAT_DROP_RING_FULL, STAT_RX_BYTES, STAT_RX_PACKETS } from './stats';
import { ehAddr, EH_RX_TIME, statsBlock } from './engine-map';
import { META_CAPLEN, META_DATA, META_WIRELEN } from './meta';
import { txHold, txHoldDone, txHoldFill, txHoldShape } from './txhold';
import { STAT_TX_BYTES, STAT_TX_PACKETS } from './stats';

export const XSK_STATE_BYTES: usize = 256;
const S_QUEUE: usize = 0;
const S_UMEM: usize = 4;
const S_SHIFT: usize = 8;
const S_FIRST: usize = 12;
const S_RX_FRAMES: usize = 16;
const S_TX_FRAMES: usize = 20;
const S_META: usize = 24;
const S_HELD: usize = 28;
export const XSK_RX: usize = 64;
export const XSK_FILL: usize = 96;
export const XSK_TX: usize = 128;
export const XSK_COMP: usize = 160;
const S_FREE: usize = 192;
const S_FREE_COUNT: usize = 196;
const S_TX_RESERVED: usize = 200;
const S_RX_PKTS: usize = 208;
const S_RX_BYTES: usize = 216;
const S_TX_PKTS: usize = 224;
const S_TX_BYTES: usize = 232;
const S_FILL_SHORT: usize = 240;
const S_KERNEL_FRAMES: usize = 244;
const S_TX_INFLIGHT: usize = 248;

// A ring's 32-byte line in the state block.
const R_PROD: usize = 0;
const R_CONS: usize = 4;
const R_DESC: usize = 8;
const R_FLAGS: usize = 12;
const R_MASK: usize = 16;
const R_SIZE: usize = 20;
const R_CACHED_PROD: usize = 24;
const R_CACHED_CONS: usize = 28;

/** linux/if_xdp.h: the kernel wants a syscall (recvfrom / sendto) to make progress. */
const XDP_RING_NEED_WAKEUP: u32 = 1;

/** Fills one ring line of the state block; the host calls it per ring after open(). */
export function xskRing(st: usize, ring: usize, prod: usize, cons: usize, desc: usize, flags: usize, size: u32): void {
  const r = st + ring;
  store<u32>(r, <u32>prod, R_PROD);
  store<u32>(r, <u32>cons, R_CONS);
  store<u32>(r, <u32>desc, R_DESC);
  store<u32>(r, <u32>flags, R_FLAGS);
  store<u32>(r, size - 1, R_MASK);
  store<u32>(r, size, R_SIZE);
  // Start from the kernel's current indexes (both 0 on a fresh socket).
  store<u32>(r, atomic.load<u32>(prod), R_CACHED_PROD);
  store<u32>(r, atomic.load<u32>(cons), R_CACHED_CONS);
}

/**
 * Sets up the queue: gives its `rxFrames` frames to the fill ring and keeps `txFrames` on the
 * TX free stack at `free`. Call after the four xskRing lines are set. Returns the frames that
 * did not fit the fill ring (0 when it is sized right).
 */
export function xskInit(st: usize, queue: u32, umem: usize, frameShift: u32, firstFrame: u32, rxFrames: u32,
  txFrames: u32, meta: usize, free: usize): u32 {
  store<u32>(st, queue, S_QUEUE);
  store<u32>(st, <u32>umem, S_UMEM);
  store<u32>(st, frameShift, S_SHIFT);
  store<u32>(st, firstFrame, S_FIRST);
  store<u32>(st, rxFrames, S_RX_FRAMES);
  store<u32>(st, txFrames, S_TX_FRAMES);
  store<u32>(st, <u32>meta, S_META);
  store<u32>(st, 0, S_HELD);
  store<u32>(st, <u32>free, S_FREE);
  store<u32>(st, 0, S_TX_RESERVED);
  memory.fill(st + S_RX_PKTS, 0, 44);
  const f = st + XSK_FILL;
  const room = load<u32>(f, R_SIZE) - (load<u32>(f, R_CACHED_PROD) - load<u32>(f, R_CACHED_CONS));
  const n = rxFrames < room ? rxFrames : room;
  const desc = <usize>load<u32>(f, R_DESC);
  const mask = load<u32>(f, R_MASK);
  let prod = load<u32>(f, R_CACHED_PROD);
  for (let i: u32 = 0; i < n; i++) {
    store<u64>(desc + (<usize>(prod & mask) << 3), <u64>(firstFrame + i) << frameShift);
    prod++;
  }
  store<u32>(f, prod, R_CACHED_PROD);
  // Release: the addresses are in the ring before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, R_PROD), prod);
  for (let i: u32 = 0; i < txFrames; i++) store<u32>(free + (<usize>i << 2), firstFrame + rxFrames + i);
  store<u32>(st, txFrames, S_FREE_COUNT);
  store<u32>(st, rxFrames - n, S_FILL_SHORT);
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
@inline function rxPeek(r: usize, max: u32): u32 {
  const cons = load<u32>(r, R_CACHED_CONS);
  let avail = load<u32>(r, R_CACHED_PROD) - cons;
  if (avail < max) {
    // Acquire: see the header; descriptors before the producer are now visible.
    const prod = atomic.load<u32>(<usize>load<u32>(r, R_PROD));
    store<u32>(r, prod, R_CACHED_PROD);
    avail = prod - cons;
  }
  return avail < max ? avail : max;
}

export function xskRx(st: usize, out: usize, max: u32, ts: u64): u32 {
  xskRelease(st);
  const r = st + XSK_RX;
  let cons = load<u32>(r, R_CACHED_CONS);
  const n = rxPeek(r, max);
  if (n == 0) return 0;
  const desc = <usize>load<u32>(r, R_DESC);
  const mask = load<u32>(r, R_MASK);
  const umem = <usize>load<u32>(st, S_UMEM);
  const meta = <usize>load<u32>(st, S_META);
  const queue = load<u32>(st, S_QUEUE);
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = desc + (<usize>(cons & mask) << 4);
    const addr = load<u64>(d);
    const len = load<u32>(d, 8);
    const m = meta + (<usize>i << 6);
    writeCapture(m, umem + <usize>addr, len, len, ts, queue, 0xffff);
    store<u32>(out + (<usize>i << 2), <u32>m);
    bytes += len;
    cons++;
  }
  store<u32>(st, n, S_HELD);
  store<u64>(st, ts, 32);
  store<u64>(st, load<u64>(st, S_RX_PKTS) + n, S_RX_PKTS);
  store<u64>(st, load<u64>(st, S_RX_BYTES) + bytes, S_RX_BYTES);
  return n;
}

/**
 * Releases the last RX burst: its frames go back on the fill ring and the RX consumer moves past
 * them. Returns 1 when the kernel asks for a wake-up (need_wakeup on the fill ring: call recvfrom
 * or poll), else 0.
 */
export function xskRelease(st: usize): u32 {
  const held = load<u32>(st, S_HELD);
  const f = st + XSK_FILL;
  if (held == 0) return atomic.load<u32>(<usize>load<u32>(f, R_FLAGS)) & XDP_RING_NEED_WAKEUP;
  const r = st + XSK_RX;
  const shift = load<u32>(st, S_SHIFT);
  const chunk: u64 = ~((<u64>1 << shift) - 1);
  let fprod = load<u32>(f, R_CACHED_PROD);
  if (load<u32>(f, R_SIZE) - (fprod - load<u32>(f, R_CACHED_CONS)) < held) {
    // Acquire: the kernel has taken the addresses in the slots we are about to reuse.
    store<u32>(f, atomic.load<u32>(<usize>load<u32>(f, R_CONS)), R_CACHED_CONS);
  }
  const room = load<u32>(f, R_SIZE) - (fprod - load<u32>(f, R_CACHED_CONS));
  const n = held < room ? held : room;
  const rdesc = <usize>load<u32>(r, R_DESC);
  const rmask = load<u32>(r, R_MASK);
  const fdesc = <usize>load<u32>(f, R_DESC);
  const fmask = load<u32>(f, R_MASK);
  let cons = load<u32>(r, R_CACHED_CONS);
  for (let i: u32 = 0; i < n; i++) {
    // The frame's base address: the RX descriptor points at the packet inside it.
    const addr = load<u64>(rdesc + (<usize>((cons + i) & rmask) << 4)) & chunk;
    store<u64>(fdesc + (<usize>(fprod & fmask) << 3), addr);
    fprod++;
  }
  store<u32>(f, fprod, R_CACHED_PROD);
  // Release: the fill addresses are in place before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, R_PROD), fprod);
  cons += held;
  store<u32>(r, cons, R_CACHED_CONS);
  // Release: we are done reading these RX descriptors before the kernel may reuse the slots.
  atomic.store<u32>(<usize>load<u32>(r, R_CONS), cons);
  if (n < held) store<u32>(st, load<u32>(st, S_FILL_SHORT) + held - n, S_FILL_SHORT);
  store<u32>(st, 0, S_HELD);
  return atomic.load<u32>(<usize>load<u32>(f, R_FLAGS)) & XDP_RING_NEED_WAKEUP;
}

/** Moves frames the kernel has finished sending from the completion ring to the free stack. */
export function xskReap(st: usize): u32 {
  const c = st + XSK_COMP;
  let cons = load<u32>(c, R_CACHED_CONS);
  // Acquire: completion entries before the producer are visible.
  const prod = atomic.load<u32>(<usize>load<u32>(c, R_PROD));
  const n = prod - cons;
  if (n == 0) return 0;
  const desc = <usize>load<u32>(c, R_DESC);
  const mask = load<u32>(c, R_MASK);
  const shift = load<u32>(st, S_SHIFT);
  const free = <usize>load<u32>(st, S_FREE);
  let count = load<u32>(st, S_FREE_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    store<u32>(free + (<usize>count << 2), <u32>(load<u64>(desc + (<usize>(cons & mask) << 3)) >> shift));
    count++;
    cons++;
  }
  store<u32>(st, count, S_FREE_COUNT);
  store<u32>(c, cons, R_CACHED_CONS);
  // Release: our reads of the entries are done before the kernel may overwrite them.
  atomic.store<u32>(<usize>load<u32>(c, R_CONS), cons);
  return n;
}

/**
 * Reserves up to `n` frames for transmit: takes them from the free stack, writes their TX
 * descriptors (length still 0) and their absolute addresses into `out`. Returns how many.
 */
export function xskTxReserve(st: usize, out: usize, n: u32): u32 {
  xskReap(st);
  const t = st + XSK_TX;
  const prod = load<u32>(t, R_CACHED_PROD);
  const size = load<u32>(t, R_SIZE);
  if (size - (prod - load<u32>(t, R_CACHED_CONS)) < n) {
    // Acquire: the kernel has read the descriptors in the slots we are about to reuse.
    store<u32>(t, atomic.load<u32>(<usize>load<u32>(t, R_CONS)), R_CACHED_CONS);
  }
  const room = size - (prod - load<u32>(t, R_CACHED_CONS));
  let count = load<u32>(st, S_FREE_COUNT);
  let k = n < room ? n : room;
  if (k > count) k = count;
  const desc = <usize>load<u32>(t, R_DESC);
  const mask = load<u32>(t, R_MASK);
  const shift = load<u32>(st, S_SHIFT);
  const umem = <usize>load<u32>(st, S_UMEM);
  const free = <usize>load<u32>(st, S_FREE);
  for (let i: u32 = 0; i < k; i++) {
    count--;
    const addr = <u64>load<u32>(free + (<usize>count << 2)) << shift;
    const d = desc + (<usize>((prod + i) & mask) << 4);
    store<u64>(d, addr);
    store<u64>(d, 0, 8); // len and options
    store<u32>(out + (<usize>i << 2), <u32>(umem + <usize>addr));
  }
  store<u32>(st, count, S_FREE_COUNT);
  store<u32>(st, k, S_TX_RESERVED);
  return k;
}

/**
 * Sends the first `k` reserved frames with the lengths at `lens`; reserved frames beyond k go
 * back to the free stack. Returns 1 when the kernel wants a sendto() to start sending, else 0.
 */
export function xskTxSubmit(st: usize, lens: usize, k: u32): u32 {
  const t = st + XSK_TX;
  const reserved = load<u32>(st, S_TX_RESERVED);
  if (k > reserved) k = reserved;
  const desc = <usize>load<u32>(t, R_DESC);
  const mask = load<u32>(t, R_MASK);
  const prod = load<u32>(t, R_CACHED_PROD);
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < k; i++) {
    const len = load<u32>(lens + (<usize>i << 2));
    store<u32>(desc + (<usize>((prod + i) & mask) << 4), len, 8);
    bytes += len;
  }
  if (k < reserved) {
    const shift = load<u32>(st, S_SHIFT);
    const free = <usize>load<u32>(st, S_FREE);
    let count = load<u32>(st, S_FREE_COUNT);
    for (let i: u32 = k; i < reserved; i++) {
      store<u32>(free + (<usize>count << 2), <u32>(load<u64>(desc + (<usize>((prod + i) & mask) << 4)) >> shift));
      count++;
    }
    store<u32>(st, count, S_FREE_COUNT);
  }
  store<u32>(st, 0, S_TX_RESERVED);
  if (k == 0) return 0;
  store<u32>(t, prod + k, R_CACHED_PROD);
  // Release: descriptors and frame bytes are visible before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(t, R_PROD), prod + k);
  store<u64>(st, load<u64>(st, S_TX_PKTS) + k, S_TX_PKTS);
  store<u64>(st, load<u64>(st, S_TX_BYTES) + bytes, S_TX_BYTES);
  return atomic.load<u32>(<usize>load<u32>(t, R_FLAGS)) & XDP_RING_NEED_WAKEUP;
}

/** TX frames submitted and not yet completed (reaps first). */
export function xskTxPending(st: usize): u32 {
  xskReap(st);
  return load<u32>(st, S_TX_FRAMES) - load<u32>(st, S_FREE_COUNT);
}

/** Frames waiting on the RX ring, the last burst not counted (a cheap check for adaptive polling). */
export function xskRxReady(st: usize): u32 {
  const r = st + XSK_RX;
  return atomic.load<u32>(<usize>load<u32>(r, R_PROD)) - load<u32>(r, R_CACHED_CONS) - load<u32>(st, S_HELD);
}

// Engine mode: the UMEM is the engine's frame pool and the kernel receives straight into pool
// frames. The fill ring is stocked from the pool (poolAlloc) up to a target, an RX descriptor
// becomes that frame's own metadata record (data = UMEM address + the descriptor's offset) and
// the frame goes on the engine's rx ring; it comes back to the pool through frameRelease like
// any other frame, whenever its last holder lets go (a burst, a keep(), a plugin). So a held
// frame simply stays out of the fill ring, and no packet byte is copied in user space.

/**
 * Tops the fill ring up from the pool through `cache` until the kernel holds `target` frames
 * (at most the ring's room). `scratch` holds the allocated indexes (room for the fill ring's
 * size in u32). Returns the frames added; fewer than asked when the pool ran dry (the kernel
 * then drops at an empty fill ring and counts it: XDP_STATISTICS rx_fill_ring_empty_descs).
 */
export function xskEngineFill(st: usize, ctx: usize, cache: usize, target: u32, scratch: usize): u32 {
  const held = load<u32>(st, S_KERNEL_FRAMES);
  if (held >= target) return 0;
  const f = st + XSK_FILL;
  let fprod = load<u32>(f, R_CACHED_PROD);
  const size = load<u32>(f, R_SIZE);
  let want = target - held;
  if (size - (fprod - load<u32>(f, R_CACHED_CONS)) < want) {
    // Acquire: the kernel has taken the addresses in the slots we are about to reuse.
    store<u32>(f, atomic.load<u32>(<usize>load<u32>(f, R_CONS)), R_CACHED_CONS);
  }
  const room = size - (fprod - load<u32>(f, R_CACHED_CONS));
  if (want > room) want = room;
  if (want == 0) return 0;
  const got = poolAlloc(ctx, cache, scratch, want);
  if (got == 0) return 0;
  const fdesc = <usize>load<u32>(f, R_DESC);
  const fmask = load<u32>(f, R_MASK);
  const shift = load<u32>(st, S_SHIFT);
  for (let i: u32 = 0; i < got; i++) {
    store<u64>(fdesc + (<usize>(fprod & fmask) << 3), <u64>load<u32>(scratch + (<usize>i << 2)) << shift);
    fprod++;
  }
  store<u32>(f, fprod, R_CACHED_PROD);
  // Release: the fill addresses are in place before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, R_PROD), fprod);
  store<u32>(st, held + got, S_KERNEL_FRAMES);
  return got;
}

/**
 * One burst of queue `q` into the engine: up to `max` RX descriptors become pool frames (their
 * own metadata records, stamped `ts`, rx time `nowNs`) put on the engine's rx ring q; the RX
 * consumer moves past them at once (the frames are the pool's now, not the ring's); then the
 * fill ring is topped up to `target` through `cache`. `list` is scratch for max(max, fill size)
 * u32. Frames the rx ring has no room for are released and counted ring_full. Returns the
 * frames received, plus 1 << 31 when the kernel asks for a wake-up on the fill ring.
 */
export function xskEngineRx(st: usize, ctx: usize, q: u32, cache: usize, list: usize, max: u32, ts: u64, nowNs: f64, target: u32): u32 {
  const r = st + XSK_RX;
  let cons = load<u32>(r, R_CACHED_CONS);
  const n = rxPeek(r, max);
  if (n > 0) {
    const desc = <usize>load<u32>(r, R_DESC);
    const mask = load<u32>(r, R_MASK);
    const umem = <usize>load<u32>(st, S_UMEM);
    const shift = load<u32>(st, S_SHIFT);
    const rxTime = ehAddr(ctx, EH_RX_TIME);
    const nowInt = <u64>nowNs;
    let bytes: u64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const d = desc + (<usize>(cons & mask) << 4);
      const addr = load<u64>(d);
      const len = load<u32>(d, 8);
      const fr = <u32>(addr >> shift);
      writeCapture(frameMeta(ctx, fr), umem + <usize>addr, len, len, ts, q, 0xffff);
      store<u64>(rxTime + (<usize>fr << 3), nowInt);
      store<u32>(list + (<usize>i << 2), fr);
      bytes += len;
      cons++;
    }
    store<u32>(r, cons, R_CACHED_CONS);
    // Release: our reads of the descriptors are done before the kernel may reuse the slots.
    atomic.store<u32>(<usize>load<u32>(r, R_CONS), cons);
    store<u32>(st, load<u32>(st, S_KERNEL_FRAMES) - n, S_KERNEL_FRAMES);
    store<u64>(st, load<u64>(st, S_RX_PKTS) + n, S_RX_PKTS);
    store<u64>(st, load<u64>(st, S_RX_BYTES) + bytes, S_RX_BYTES);
    rxPublish(ctx, q, cache, list, n, <u64>bytes);
  }
  xskEngineFill(st, ctx, cache, target, list);
  return n | ((atomic.load<u32>(<usize>load<u32>(st + XSK_FILL, R_FLAGS)) & XDP_RING_NEED_WAKEUP) << 31);
}

/**
 * At stop, after the program is detached and the RX ring drained: the frames still on the fill
 * ring (between the kernel's consumer and our producer) go back to the pool. Returns how many;
 * the kernel-held count keeps any the kernel took and never posted (none in copy mode).
 */
export function xskEngineReclaim(st: usize, ctx: usize, cache: usize): u32 {
  const f = st + XSK_FILL;
  const prod = load<u32>(f, R_CACHED_PROD);
  let cons = atomic.load<u32>(<usize>load<u32>(f, R_CONS));
  const fdesc = <usize>load<u32>(f, R_DESC);
  const fmask = load<u32>(f, R_MASK);
  const shift = load<u32>(st, S_SHIFT);
  let n: u32 = 0;
  while (cons != prod) {
    frameRelease(ctx, cache, <u32>(load<u64>(fdesc + (<usize>(cons & fmask) << 3)) >> shift));
    cons++;
    n++;
  }
  // The consumer index is the kernel's: only our cached copy moves (the socket closes next).
  store<u32>(f, cons, R_CACHED_CONS);
  store<u32>(st, load<u32>(st, S_KERNEL_FRAMES) - n, S_KERNEL_FRAMES);
  return n;
}

/** Pool frames the kernel holds on queue state `st` (engine mode). */
export function xskEngineKernelFrames(st: usize): u32 {
  return load<u32>(st, S_KERNEL_FRAMES);
}

// Engine mode transmit, zero-copy: a frame the handler forwarded is a UMEM frame already, so its
// descriptor goes on the TX ring as it is ({data - umem, caplen}); the frame's reference (taken
// by forward()) is held by the kernel until the completion ring hands the address back, then
// released to the pool. The feeder thread, which owns the socket's four rings, runs this in place
// of the workers' txDrain (the engine sets the header's tx queue count to 0 for afxdp), with the
// same hold list and token bucket: shaping delays, it does not drop.

/**
 * Transmit queue `q` of the engine on this socket: reaps completions (frames back to the pool
 * through `cache`), then takes frames off the engine's tx ring q into its hold list and puts as
 * many as the shaper and the TX ring allow on the TX ring. Returns the frames still waiting or in
 * flight, plus 1 << 31 when the kernel wants a sendto() (need_wakeup, or copy mode: always).
 */
export function xskEngineTx(st: usize, ctx: usize, q: u32, cache: usize, nowNs: f64): u32 {
  const shift = load<u32>(st, S_SHIFT);
  let inflight = load<u32>(st, S_TX_INFLIGHT);
  if (inflight) {
    const c = st + XSK_COMP;
    let cons = load<u32>(c, R_CACHED_CONS);
    // Acquire: the completion entries before the producer are visible.
    const prod = atomic.load<u32>(<usize>load<u32>(c, R_PROD));
    const cdesc = <usize>load<u32>(c, R_DESC);
    const cmask = load<u32>(c, R_MASK);
    while (cons != prod) {
      frameRelease(ctx, cache, <u32>(load<u64>(cdesc + (<usize>(cons & cmask) << 3)) >> shift));
      cons++;
      inflight--;
    }
    store<u32>(c, cons, R_CACHED_CONS);
    // Release: our reads of the entries are done before the kernel may overwrite them.
    atomic.store<u32>(<usize>load<u32>(c, R_CONS), cons);
  }
  const n = txHoldFill(ctx, q);
  let k: u32 = 0;
  if (n > 0) {
    const t = st + XSK_TX;
    const prod = load<u32>(t, R_CACHED_PROD);
    const size = load<u32>(t, R_SIZE);
    if (size - (prod - load<u32>(t, R_CACHED_CONS)) < n) {
      // Acquire: the kernel has read the descriptors in the slots we are about to reuse.
      store<u32>(t, atomic.load<u32>(<usize>load<u32>(t, R_CONS)), R_CACHED_CONS);
    }
    k = txHoldShape(ctx, q, n, size - (prod - load<u32>(t, R_CACHED_CONS)), nowNs);
    const list = txHold(ctx, q) + 64;
    const desc = <usize>load<u32>(t, R_DESC);
    const mask = load<u32>(t, R_MASK);
    const umem = load<u32>(st, S_UMEM);
    let bytes: u64 = 0;
    for (let i: u32 = 0; i < k; i++) {
      const m = frameMeta(ctx, load<u32>(list + (<usize>i << 2)));
      const d = desc + (<usize>((prod + i) & mask) << 4);
      store<u64>(d, <u64>(load<u32>(m, META_DATA) - umem));
      store<u64>(d, <u64>load<u32>(m, META_CAPLEN), 8); // len, options 0
      bytes += load<u32>(m, META_WIRELEN);
    }
    if (k > 0) {
      store<u32>(t, prod + k, R_CACHED_PROD);
      // Release: descriptors (and the frames' bytes) are visible before the kernel sees the producer move.
      atomic.store<u32>(<usize>load<u32>(t, R_PROD), prod + k);
      txHoldDone(ctx, q, k);
      inflight += k;
      const qs = statsBlock(ctx, q);
      statAdd(qs, STAT_TX_PACKETS, k);
      statAdd(qs, STAT_TX_BYTES, bytes);
      store<u64>(st, load<u64>(st, S_TX_PKTS) + k, S_TX_PKTS);
      store<u64>(st, load<u64>(st, S_TX_BYTES) + bytes, S_TX_BYTES);
    }
  }
  store<u32>(st, inflight, S_TX_INFLIGHT);
  const wake = inflight > 0 && (atomic.load<u32>(<usize>load<u32>(st + XSK_TX, R_FLAGS)) & XDP_RING_NEED_WAKEUP) != 0;
  return (n - k + inflight) | (<u32>wake << 31);
}

/** Engine mode: forwarded frames on the TX ring of this socket not completed yet. */
export function xskEngineTxInflight(st: usize): u32 {
  return load<u32>(st, S_TX_INFLIGHT);
}
