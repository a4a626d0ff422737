// The frame pool, in the manner of DPDK's rte_mempool: every free frame's index sits in one MPMC
// ring ("free"), and each thread keeps a small cache of indexes so that most allocations and frees
// touch only memory that thread owns. A frame is one frameSize slot of the frame region with its
// 64-byte metadata record (assembly/meta.ts) at the same index.
//
//   pool cache (one per worker, plus one for the host), one writer: its thread
//   +0  ┌ count u32 │ capacity u32 │ size u32 │ … │ +16 claim record (16 B) │ … ┐   one line
//   +64 │ slot[0..capacity) u32 frame indexes     │
//       └─────────────────────────────────────────┘
//
// Allocation takes from the cache; an empty cache first refills `size` frames from the ring in one
// burst. A free goes to the cache; when it holds 1.5 × size, it flushes back down to size in one
// burst. So a thread pays the ring's atomic publish once per `size / 2` frames at worst.
//
// Reference counts (meta refcnt, changed only atomically) let several consumers hold one frame: a
// frame comes out of the pool with refcnt 1, frameRetain adds holders, and frameRelease frees it
// when the last holder lets go. As in rte_pktmbuf_prefree_seg, a holder that sees refcnt == 1 is
// the only one and frees with a plain store, skipping the atomic read-modify-write.
//
// Scatter-gather: a packet longer than one frame is a chain of frames linked by meta `next`; the
// head's refcnt governs the whole chain, and releasing the head frees every segment.
//
// Worker death (assembly/engine/recover.ts). The claim record at +16 is the thread's ring claim in
// flight (assembly/ring.ts, "Claims and worker death"): every free-ring operation here files one, so
// a thread ended mid-operation never stalls the free ring, and the host tells the cache's count
// from it: a producer claim whose list lies in the slots means the slots from there on are the
// ring's (the count store that follows the publish never ran); a consumer claim's frames are still
// in the ring's slots and the count does not hold them yet. A last release walks a chain from its
// head and unlinks each segment only once it is in the cache, so a frame whose refcnt reads 0 while
// a dead thread's journal still names it is one whose release was under way: frameRecover finishes it.

import { ringCount, ringDequeueBurstJ32, ringDequeueJ32, ringEnqueue32, ringEnqueueBurstJ32, ringEnqueueJ32, ringInit, RING_F_MC, RING_F_MP } from './ring';
import { META_CAPLEN, META_DATA, META_NEXT, META_REFCNT, NEXT_NONE } from './meta';
import { dpdkReturn, extDetach } from './extbuf';
import { copyBytes } from './copy';
import { eh, ehAddr, EH_CACHE_BYTES, EH_CACHES, EH_FRAME_COUNT, EH_FRAME_SIZE, EH_FREE_RING, EH_META, EH_WORKERS, frameData, frameMeta } from './engine-map';

export const PC_COUNT: usize = 0;
export const PC_CAPACITY: usize = 4;
export const PC_SIZE: usize = 8;
export const PC_CLAIM: usize = 16;
export const PC_SLOTS: usize = 64;

/** Address of pool cache `i` (workers use their index; the host uses `workers`). */
@inline export function poolCache(ctx: usize, i: u32): usize {
  return ehAddr(ctx, EH_CACHES) + <usize>i * <usize>eh(ctx, EH_CACHE_BYTES);
}

/**
 * Formats the free ring with every frame, points each meta record at its frame and empties the
 * caches. Called once by the host before any worker starts. Returns 0 or the ring's error code.
 */
export function poolInit(ctx: usize, cacheSize: u32): i32 {
  const ring = ehAddr(ctx, EH_FREE_RING);
  const n = eh(ctx, EH_FRAME_COUNT);
  let slots: u32 = 2;
  while (slots < n) slots <<= 1;
  const rc = ringInit(ring, slots, 4, RING_F_MP | RING_F_MC);
  if (rc != 0) return rc;
  for (let f: u32 = 0; f < n; f++) {
    const m = frameMeta(ctx, f);
    memory.fill(m, 0, 64);
    store<u32>(m, <u32>frameData(ctx, f), META_DATA);
    store<u32>(m, NEXT_NONE, META_NEXT);
    ringEnqueue32(ring, f);
  }
  const caches = eh(ctx, EH_WORKERS) + 1;
  for (let i: u32 = 0; i < caches; i++) {
    const c = poolCache(ctx, i);
    store<u32>(c, 0, PC_COUNT);
    store<u32>(c, cacheSize * 2, PC_CAPACITY);
    store<u32>(c, cacheSize, PC_SIZE);
  }
  return 0;
}

/**
 * Allocates up to `n` frames through `cache`, writing their indexes at `out`; returns how many
 * (fewer only when the pool ran dry). Each comes with refcnt 1 and no next segment; its data address is the caller's to set.
 */
export function poolAlloc(ctx: usize, cache: usize, out: usize, n: u32): u32 {
  const ring = ehAddr(ctx, EH_FREE_RING);
  const slots = cache + PC_SLOTS;
  const metaBase = ehAddr(ctx, EH_META);
  let count = load<u32>(cache, PC_COUNT);
  if (count < n) {
    // Refill to `size` beyond this request, as far as the cache holds.
    const capacity = load<u32>(cache, PC_CAPACITY);
    const want = min(n - count + load<u32>(cache, PC_SIZE), capacity - count);
    if (want > 0) {
      count += ringDequeueBurstJ32(ring, slots + (<usize>count << 2), want, cache + PC_CLAIM);
      // In the ring's release stretch: a worker terminated from here on leaves these in its cache.
      store<u32>(cache, count, PC_COUNT);
    }
  }
  // Meta first, the count last: until the count drops, the frames are still the cache's (a free
  // frame's refcnt reads 0 or 1 anyway), and the caller files them before its next interrupt check.
  let got = min(n, count);
  for (let i: u32 = 0; i < got; i++) {
    const f = load<u32>(slots + (<usize>(--count) << 2));
    store<u32>(out + (<usize>i << 2), f);
    const m = metaBase + (<usize>f << 6);
    store<u32>(m, 1, META_REFCNT);
    store<u32>(m, NEXT_NONE, META_NEXT);
  }
  store<u32>(cache, count, PC_COUNT);
  if (got < n) {
    // A request larger than the cache goes to the ring for the rest (a cache of 0: one at a time,
    // so nothing sits between the ring's release and the caller filing the frame).
    if (n - got == 1) {
      const v = ringDequeueJ32(ring, cache + PC_CLAIM);
      if (v < 0) return got;
      const m = metaBase + (<usize>v << 6);
      store<u32>(m, 1, META_REFCNT);
      store<u32>(m, NEXT_NONE, META_NEXT);
      store<u32>(out + (<usize>got << 2), <u32>v);
      return got + 1;
    }
    const more = ringDequeueBurstJ32(ring, out + (<usize>got << 2), n - got, cache + PC_CLAIM);
    for (let i = got; i < got + more; i++) {
      const m = metaBase + (<usize>load<u32>(out + (<usize>i << 2)) << 6);
      store<u32>(m, 1, META_REFCNT);
      store<u32>(m, NEXT_NONE, META_NEXT);
    }
    got += more;
  }
  return got;
}

/** Returns frame `f` (refcnt already 0) to `cache`, flushing the cache's excess to the ring. */
@inline export function poolPut(ctx: usize, cache: usize, f: u32): void {
  if (dpdkReturn(ctx, f, cache + PC_CLAIM)) return; // a DPDK mbuf goes back to its queue's return ring
  extDetach(ctx, f); // a frame describing a packet in a kernel ring lets go of its block
  const capacity = load<u32>(cache, PC_CAPACITY);
  if (capacity == 0) {
    ringEnqueueJ32(ehAddr(ctx, EH_FREE_RING), f, cache + PC_CLAIM);
    return;
  }
  let count = load<u32>(cache, PC_COUNT);
  if (count >= capacity) {
    const size = load<u32>(cache, PC_SIZE);
    // The free ring has a slot for every frame, so it always has room for these: the enqueue is whole.
    ringEnqueueBurstJ32(ehAddr(ctx, EH_FREE_RING), cache + PC_SLOTS + (<usize>size << 2), count - size, cache + PC_CLAIM);
    count = size;
    // In the ring's publish stretch: never a frame both in the ring and counted in the cache.
    store<u32>(cache, count, PC_COUNT);
  }
  store<u32>(cache + PC_SLOTS + (<usize>count << 2), f);
  store<u32>(cache, count + 1, PC_COUNT);
}

/** Adds `n` holders to frame `f`. */
export function frameRetain(ctx: usize, f: u32, n: u32): void {
  atomic.add<u32>(frameMeta(ctx, f) + META_REFCNT, n);
}

/**
 * Drops one holder of frame `f`; when it was the last, frees the frame and every segment chained
 * after it. Returns the number of frames freed.
 */
export function frameRelease(ctx: usize, cache: usize, f: u32): u32 {
  const m = frameMeta(ctx, f);
  // Sole holder of a single frame: nobody else can change refcnt, so there is nothing to write
  // (rte_mbuf's fast path, one step further: the frame goes back to the pool without its meta
  // line being written here, so a frame freed by another worker does not drag the line over).
  // A free frame's refcnt reads 1 until poolAlloc sets it again.
  if (atomic.load<u32>(m + META_REFCNT) == 1) {
    if (load<u32>(m, META_NEXT) == NEXT_NONE) {
      poolPut(ctx, cache, f);
      return 1;
    }
    store<u32>(m, 0, META_REFCNT);
  } else if (atomic.sub<u32>(m + META_REFCNT, 1) != 1) return 0;
  return chainFree(ctx, cache, f);
}

/**
 * Frees frame `f` (refcnt 0: its last holder let go) and its chain. Segments go first, each
 * unlinked from the head only once it sits in the cache, the head last: wherever the thread is
 * ended, the head (refcnt 0) still reaches every segment not yet freed (see "Worker death").
 */
function chainFree(ctx: usize, cache: usize, f: u32): u32 {
  const m = frameMeta(ctx, f);
  let freed: u32 = 0;
  const limit = eh(ctx, EH_FRAME_COUNT);
  let seg = load<u32>(m, META_NEXT);
  while (seg != NEXT_NONE && freed < limit) {
    const sm = frameMeta(ctx, seg);
    const next = load<u32>(sm, META_NEXT);
    store<u32>(sm, 0, META_REFCNT);
    poolPut(ctx, cache, seg);
    // In poolPut's stretch: the segment is the cache's, the head now starts past it.
    store<u32>(m, next, META_NEXT);
    store<u32>(sm, NEXT_NONE, META_NEXT);
    freed++;
    seg = next;
  }
  store<u32>(m, NEXT_NONE, META_NEXT);
  poolPut(ctx, cache, f);
  return freed + 1;
}

/**
 * Releases, for a dead thread, one holder of frame `f` that its journal names: as frameRelease,
 * except that a refcnt of 0 means that thread was inside the last release (after the drop, before
 * the head reached the cache), so the release is finished rather than counted again.
 * `skip` (NEXT_NONE if none) is a frame the host already put back through the dead thread's claim:
 * the dead thread's release of it is complete, whatever its refcnt reads now.
 */
export function frameRecover(ctx: usize, cache: usize, f: u32, skip: u32): u32 {
  if (f == skip) return 0;
  const m = frameMeta(ctx, f);
  if (atomic.load<u32>(m + META_REFCNT) != 0) return frameRelease(ctx, cache, f);
  let freed: u32 = 0;
  const limit = eh(ctx, EH_FRAME_COUNT);
  let seg = load<u32>(m, META_NEXT);
  store<u32>(m, NEXT_NONE, META_NEXT);
  while (seg != NEXT_NONE && freed < limit) {
    const sm = frameMeta(ctx, seg);
    const next = load<u32>(sm, META_NEXT);
    store<u32>(sm, NEXT_NONE, META_NEXT);
    if (seg != skip) {
      store<u32>(sm, 0, META_REFCNT);
      poolPut(ctx, cache, seg);
      freed++;
    }
    seg = next;
  }
  poolPut(ctx, cache, f);
  return freed + 1;
}

/** Releases the `n` frames whose indexes are at `list`. */
export function frameReleaseList(ctx: usize, cache: usize, list: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
}

/** Moves every frame of `cache` back to the free ring (at stop, or for a dead worker's cache). */
export function poolFlush(ctx: usize, cache: usize): u32 {
  const count = load<u32>(cache, PC_COUNT);
  const capacity = load<u32>(cache, PC_CAPACITY);
  const n = count > capacity ? capacity : count;
  const moved = ringEnqueueBurstJ32(ehAddr(ctx, EH_FREE_RING), cache + PC_SLOTS, n, cache + PC_CLAIM);
  store<u32>(cache, 0, PC_COUNT);
  return moved;
}

/** Free frames: in the ring plus in every cache (a snapshot; exact when every thread is idle). */
export function poolAvailable(ctx: usize): u32 {
  let n = ringCount(ehAddr(ctx, EH_FREE_RING));
  const caches = eh(ctx, EH_WORKERS) + 1;
  for (let i: u32 = 0; i < caches; i++) n += load<u32>(poolCache(ctx, i), PC_COUNT);
  return n;
}

/**
 * Where a copy of `len` bytes into frame f starts. Frames sit at a power-of-two stride, so their
 * first lines would all fall on a few cache sets (two of an L1's 64 at 2 KiB frames), and the frames
 * of a burst would evict each other between the copy in and the parse or the records' copy out.
 * So the copy starts 0 to 15 lines in, by the frame's index, where the frame has room for that.
 */
@inline export function frameCopyAt(ctx: usize, f: u32, len: u32): usize {
  let spread: u32 = (f & 15) << 6;
  if (spread + len > eh(ctx, EH_FRAME_SIZE)) spread = 0;
  return frameData(ctx, f) + <usize>spread;
}

/**
 * poolCopyIn's common case, inlined into a source's loop so that it costs no call: `len` bytes that
 * fit one frame, the frame taken from `cache` alone. NEXT_NONE, with nothing done, when the bytes
 * need a chain or the cache is empty (the caller then takes poolCopyIn). `slot`, `filed` and `n`
 * as for poolCopyIn: the frame is filed in the stretch that takes it.
 */
@inline export function poolCopyInCached(ctx: usize, cache: usize, src: usize, len: u32, slot: usize, filed: usize, n: u32): u32 {
  const count = load<u32>(cache, PC_COUNT);
  if (count == 0 || len > eh(ctx, EH_FRAME_SIZE)) return NEXT_NONE;
  const f = load<u32>(cache + PC_SLOTS + (<usize>(count - 1) << 2));
  const m = frameMeta(ctx, f);
  store<u32>(m, 1, META_REFCNT);
  store<u32>(m, NEXT_NONE, META_NEXT);
  store<u32>(slot, f);
  store<u32>(cache, count - 1, PC_COUNT);
  if (filed) store<u32>(filed, n + 1);
  const data = frameCopyAt(ctx, f, len);
  copyBytes(data, src, len);
  store<u32>(m, <u32>data, META_DATA);
  store<u32>(m, len, META_CAPLEN);
  return f;
}

/**
 * Copies `len` bytes from `src` into a new chain of frames; returns the head's index, or
 * NEXT_NONE when the pool ran dry (nothing is kept then). Each segment's caplen is the bytes in it.
 * The head goes to `slot`, later segments pass through the 4-byte `scratch`. With `filed` != 0, the
 * u32 there is set to `n` + 1 in the stretch that allocates the head (and back to `n` if the chain
 * is given up): a caller's recovery journal then names the partial chain, which is well formed at
 * every interrupt check (each segment is linked in the stretch that allocates it).
 */
export function poolCopyIn(ctx: usize, cache: usize, src: usize, len: u32, slot: usize, scratch: usize, filed: usize, n: u32): u32 {
  const frameSize = eh(ctx, EH_FRAME_SIZE);
  let head = NEXT_NONE;
  let tail = NEXT_NONE;
  let off: u32 = 0;
  do {
    const one = tail == NEXT_NONE ? slot : scratch;
    if (poolAlloc(ctx, cache, one, 1) == 0) {
      if (head != NEXT_NONE) {
        frameRelease(ctx, cache, head);
        if (filed) store<u32>(filed, n);
      }
      return NEXT_NONE;
    }
    const f = load<u32>(one);
    if (filed && tail == NEXT_NONE) store<u32>(filed, n + 1);
    const m = frameMeta(ctx, f);
    const k = min(frameSize, len - off);
    // A chain's segments are whole frames from their start.
    const data = len <= frameSize ? frameCopyAt(ctx, f, len) : frameData(ctx, f);
    copyBytes(data, src + off, k);
    store<u32>(m, <u32>data, META_DATA);
    store<u32>(m, k, META_CAPLEN);
    if (tail == NEXT_NONE) head = f;
    else store<u32>(frameMeta(ctx, tail), f, META_NEXT);
    tail = f;
    off += k;
  } while (off < len);
  return head;
}
