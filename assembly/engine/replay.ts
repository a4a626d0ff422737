// The replay source: a capture (host/engine/stream.ts writes it as a stream of records) put onto
// the engine's rx rings as a NIC would DMA it, paced by its timestamps × speed or by a shaper.
//
// Source state (128 B per receive queue; the host writes it before start, then only the replaying
// worker writes it):
// | 0 base | 4 end | 8 cursor | 12 loops left | 16 input ended | 20 worker | 24 flags | 28 done |
// | 32 speed f64 | 40 start ns f64 | 48 first ts u64 | 56 sent u64 |
//
// Stream record (8-byte aligned), as host/engine/stream.ts writes it:
// | 0 caplen u32 | 4 wirelen u32 | 8 timestamp ns u64 | 16 linktype u32 | 20 0 | 24 caplen bytes, padded to 8 |
//
// A refilled stream (SRC_F_REFILL: a capture file read as it plays, in bounded memory) is a ring the host
// refills between bursts: END is the host's write position, published after the records it covers;
// cursor == END is "nothing to read yet"; a record whose caplen is STREAM_WRAP sends the cursor back
// to BASE; the host sets "input ended" once the last record is published. The host writes only
// where the cursor has passed, so the cursor (stored atomically) is the backpressure.

import { eh, ehAddr, EH_QUEUES, EH_RX_TIME, EH_SOURCES, EH_WORKERS, EH_W_FRAMES, EH_W_STAGE, frameMeta, rxRing, rxShaper, statsBlock, WC_SOURCE_FIRST, WC_SOURCE_N, WC_SOURCE_PHASE, workerBlock } from '../engine-map';
import { META_LINKTYPE, META_MARK, META_QUEUE, META_TIMESTAMP, META_WIRELEN, NEXT_NONE } from '../meta';
import { frameRelease, poolCache, poolCopyIn, poolCopyInCached } from '../pool';
import { ringEnqueueBurst32, ringFree } from '../ring';
import { shaperRefill, shaperTake, shaperWaitNs } from '../shaper';
import { statAdd, statDrop, STAT_DROP_POOL_EMPTY, STAT_DROP_RING_FULL, STAT_RX_BYTES, STAT_RX_PACKETS } from '../stats';

export const SOURCE_BYTES: usize = 128;
export const SRC_BASE: usize = 0;
export const SRC_END: usize = 4;
export const SRC_CURSOR: usize = 8;
export const SRC_LOOPS: usize = 12;
export const SRC_INPUT_END: usize = 16;
export const STREAM_RECORD_HEADER: usize = 24;
export const SRC_WORKER: usize = 20;
export const SRC_FLAGS: usize = 24;
export const SRC_DONE: usize = 28;
export const SRC_SPEED: usize = 32;
export const SRC_START_NS: usize = 40;
export const SRC_FIRST_TS: usize = 48;
export const SRC_SENT: usize = 56;

/** Source flags: the queue has a stream to replay. */
export const SRC_F_ACTIVE: u32 = 1;
/** Pace by the capture's timestamps × speed. */
export const SRC_F_SPEED: u32 = 2;
/** Behave like a NIC: drop (pool empty, ring full) instead of waiting for room. */
export const SRC_F_LOSSY: u32 = 4;
/** Pace by the queue's rx shaper (--rate). */
export const SRC_F_RATE: u32 = 8;
/** The stream is a ring the host refills (see above). */
export const SRC_F_REFILL: u32 = 16;
/** A refilled stream's caplen that means: continue at BASE. */
export const STREAM_WRAP: u32 = 0xffffffff;

@inline export function sourceState(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SOURCES) + <usize>q * SOURCE_BYTES;
}

/**
 * Copies up to `max` records of queue q's stream into pool frames and onto rx ring q, as a NIC
 * would DMA them: one frame chain per record, meta filled (data, caplen, wirelen, timestamp,
 * linktype, queue), rx time stamped. Returns the frames put on the ring.
 */
export function sourcePoll(ctx: usize, w: u32, q: u32, nowNs: f64, max: u32): u32 {
  const src = sourceState(ctx, q);
  const flags = load<u32>(src, SRC_FLAGS);
  if ((flags & SRC_F_ACTIVE) == 0 || load<u32>(src, SRC_DONE) != 0) return 0;
  const ring = rxRing(ctx, q);
  const lossy = (flags & SRC_F_LOSSY) != 0;
  if (!lossy) max = min(max, ringFree(ring));
  if (max == 0) return 0;
  const wb = workerBlock(ctx, w);
  const list = wb + ehAddr(ctx, EH_W_FRAMES);
  const cache = poolCache(ctx, w);
  const qs = statsBlock(ctx, q);
  const rxTime = ehAddr(ctx, EH_RX_TIME);
  const nowInt = <u64>nowNs;
  if (load<f64>(src, SRC_START_NS) == 0) store<f64>(src, nowNs, SRC_START_NS);
  const speed = load<f64>(src, SRC_SPEED);
  const shaper = rxShaper(ctx, q);
  if (flags & SRC_F_RATE) shaperRefill(shaper, nowNs);
  let cursor = load<u32>(src, SRC_CURSOR);
  const refill = (flags & SRC_F_REFILL) != 0;
  const end = atomic.load<u32>(src, SRC_END);
  let n: u32 = 0;
  let pkts: u64 = 0;
  let bytes: u64 = 0;
  let poolEmpty: u64 = 0;
  while (pkts < <u64>max) {
    if (refill) {
      if (cursor == end) {
        // Done only if END, read again after "input ended", still has nothing beyond the cursor.
        if (atomic.load<u32>(src, SRC_INPUT_END) != 0 && atomic.load<u32>(src, SRC_END) == cursor) atomic.store<u32>(src, 1, SRC_DONE);
        break;
      }
      if (load<u32>(<usize>cursor) == STREAM_WRAP) {
        cursor = load<u32>(src, SRC_BASE);
        continue;
      }
    } else if (cursor >= end) {
      const loops = load<u32>(src, SRC_LOOPS);
      if (loops <= 1) {
        atomic.store<u32>(src, 1, SRC_DONE);
        break;
      }
      if (loops != 0xffffffff) store<u32>(src, loops - 1, SRC_LOOPS);
      cursor = load<u32>(src, SRC_BASE);
    }
    const rec = <usize>cursor;
    const caplen = load<u32>(rec);
    const wirelen = load<u32>(rec, 4);
    const ts = load<u64>(rec, 8);
    const linktype = <u16>load<u32>(rec, 16);
    if (flags & SRC_F_SPEED) {
      const due = <f64>(<i64>(ts - load<u64>(src, SRC_FIRST_TS))) / speed;
      if (nowNs - load<f64>(src, SRC_START_NS) < due) break;
    }
    if ((flags & SRC_F_RATE) && !shaperTake(shaper, wirelen)) break;
    // A chain under way is in the source journal from its first frame on (phase 0: released silently).
    let f = poolCopyInCached(ctx, cache, rec + STREAM_RECORD_HEADER, caplen, list + (<usize>n << 2), wb + WC_SOURCE_N, n);
    if (f == NEXT_NONE) f = poolCopyIn(ctx, cache, rec + STREAM_RECORD_HEADER, caplen, list + (<usize>n << 2), wb + ehAddr(ctx, EH_W_STAGE), wb + WC_SOURCE_N, n);
    if (f == NEXT_NONE) {
      if (!lossy) break; // wait for frames to come back: a replay loses nothing
      poolEmpty++;
    } else {
      const m = frameMeta(ctx, f);
      store<u32>(m, wirelen, META_WIRELEN);
      store<u64>(m, ts, META_TIMESTAMP);
      store<u16>(m, linktype, META_LINKTYPE);
      store<u16>(m, <u16>q, META_QUEUE);
      store<u32>(m, 0, META_MARK);
      store<u64>(rxTime + (<usize>f << 3), nowInt);
      n++;
    }
    pkts++;
    bytes += wirelen;
    cursor += (<u32>STREAM_RECORD_HEADER + caplen + 7) & ~7;
  }
  // One stretch: the records are consumed and counted, and the journal says so (phase 1).
  atomic.store<u32>(src, cursor, SRC_CURSOR);
  store<u64>(src, load<u64>(src, SRC_SENT) + pkts, SRC_SENT);
  statAdd(qs, STAT_RX_PACKETS, pkts);
  statAdd(qs, STAT_RX_BYTES, bytes);
  if (poolEmpty) statDrop(qs, STAT_DROP_POOL_EMPTY, poolEmpty);
  store<u32>(wb, 1, WC_SOURCE_PHASE);
  const put: u32 = n == 0 ? 0 : ringEnqueueBurst32(ring, list, n);
  // In the publish stretch: [0, put) are the ring's, the rest counted as ring_full (phase 2).
  if (n > put) statDrop(qs, STAT_DROP_RING_FULL, <u64>(n - put));
  store<u32>(wb, put, WC_SOURCE_FIRST);
  store<u32>(wb, 2, WC_SOURCE_PHASE);
  for (let i = put; i < n; i++) {
    frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
    store<u32>(wb, i + 1, WC_SOURCE_FIRST);
  }
  store<u32>(wb, 0, WC_SOURCE_N);
  store<u32>(wb, 0, WC_SOURCE_FIRST);
  store<u32>(wb, 0, WC_SOURCE_PHASE);
  return put;
}

/**
 * Nanoseconds until the next record of the streams worker w replays is due (its queue's shaper
 * or the capture's timing × speed), the soonest of them; 0 when one is due now, when one of the
 * worker's queues that has not ended has no paced stream (a live source the worker cannot
 * foresee), or when every stream has ended. The worker's idle wait: a paced replay has nothing to do until then.
 */
export function replayWaitNs(ctx: usize, w: u32, nowNs: f64): f64 {
  const workers = eh(ctx, EH_WORKERS);
  const queues = eh(ctx, EH_QUEUES);
  let wait: f64 = Infinity;
  for (let q: u32 = w; q < queues; q += workers) {
    const src = sourceState(ctx, q);
    // A queue with no stream of its own (RSS left it empty) starts done and is never due.
    if (load<u32>(src, SRC_DONE) != 0) continue;
    const flags = load<u32>(src, SRC_FLAGS);
    if ((flags & SRC_F_ACTIVE) == 0 || (flags & (SRC_F_RATE | SRC_F_SPEED)) == 0 || load<u32>(src, SRC_WORKER) != w) return 0;
    // The next record is the one at the cursor; a stream at its end (looping or waiting for a refill) is not foreseen.
    const cursor = load<u32>(src, SRC_CURSOR);
    const end = atomic.load<u32>(src, SRC_END);
    if ((flags & SRC_F_REFILL ? cursor == end : cursor >= end) || load<u32>(<usize>cursor) == STREAM_WRAP) return 0;
    let due: f64 = 0;
    if (flags & SRC_F_SPEED) {
      const ts = load<u64>(<usize>cursor, 8);
      due = <f64>(<i64>(ts - load<u64>(src, SRC_FIRST_TS))) / load<f64>(src, SRC_SPEED) - (nowNs - load<f64>(src, SRC_START_NS));
    }
    if (flags & SRC_F_RATE) due = max(due, shaperWaitNs(rxShaper(ctx, q), nowNs, load<u32>(<usize>cursor, 4)));
    if (due <= 0) return 0;
    wait = min(wait, due);
  }
  return wait == Infinity ? 0 : wait;
}
