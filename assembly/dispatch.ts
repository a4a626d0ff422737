// The worker's burst: receive -> parse -> classify -> dispatch -> deliver, in one WASM call per
// burst (enginePoll), so JS crosses into WASM once per burst and calls the user's handler once
// with the frames it returns.
//
//   source (replay stream / generator)      ─ sourcePoll: copy into pool frames, stamp rx time ─┐
//   rx ring q (SP; MC when several workers share queue q)                                        │
//        │ ingest: dequeue a burst, parseList, flowMatch, RSS via the reta                      ◄┘
//        ▼
//   in ring [target][source][class] (SPSC) ─ per target worker, source worker, priority class
//        │ deliver: class 0 first, then 1, … up to `burst` frames
//        ▼
//   burst list of worker w ──► JS handler(burst) ──► next enginePoll completes it:
//                                  latency (rx time -> end of handler) into the histogram,
//                                  delivered or handler_error, frameRelease
//
// Every frame that enters (rx packets of a queue's stats block) leaves exactly one way: delivered,
// or a drop counted under its reason in the stats block of the thread that dropped it.
//
// Source state (128 B per receive queue; the host writes it before start, then only the feeding
// worker writes it):
// | 0 base | 4 end | 8 cursor | 12 loops left | 16 (free) | 20 feeder | 24 flags | 28 done |
// | 32 speed f64 | 40 start ns f64 | 48 first ts u64 | 56 fed u64 | 64 loop shift ns u64 |
//
// Stream record (8-byte aligned), as host/engine/source.ts writes it:
// | 0 caplen u32 | 4 wirelen u32 | 8 timestamp ns u64 | 16 linktype u32 | 20 0 | 24 caplen bytes, padded to 8 |

import { parseList } from './parse';
import { PARSE_RSS } from './ptype';
import { ringCount, ringDequeueBurst32, ringEnqueueBurst32, ringEnqueueBurstJ32, ringEnqueueBurstJ64, ringFree } from './ring';
import { META_REFCNT, META_CAPLEN, META_DATA, META_ERRORS, META_HASH, META_LINKTYPE, META_MARK, META_QUEUE, META_TIMESTAMP, META_WIRELEN, NEXT_NONE } from './meta';
import { flowMatch, FLOW_A_CLASS, FLOW_A_DROP, FLOW_A_MARK, FLOW_A_QUEUE, FR_ACTION, FR_CLASS, FR_MARK, FR_QUEUE } from './flow';
import { frameRelease, poolCache, poolCopyIn, PC_CLAIM } from './pool';
import { shaperRefill, shaperTake } from './shaper';
import {
  histBucket, statAdd, statDrop, STAT_BURSTS, STAT_DELIVERED, STAT_DELIVERED_BYTES, STAT_DROP_FILTERED, STAT_DROP_HANDLER_ERROR, STAT_DROP_PARSE_ERROR,
  STAT_DROP_POOL_EMPTY, STAT_DROP_RING_FULL, STAT_LAT_COUNT, STAT_LAT_MAX, STAT_LAT_SUM, STAT_RX_BYTES, STAT_RX_PACKETS, STAT_TX_BYTES, STAT_TX_DROPPED,
  STAT_TX_PACKETS, STAT_DROP_KERNEL, STAT_DROPS,
} from './stats';
import {
  eh, ehAddr, EH_META, EH_BURST, EH_CLASSES, EH_FLOW_CONTROL, EH_FLOW_RULES, EH_FLOW_TABLES, EH_OPTIONS, EH_PARSE_FLAGS, EH_QUEUES, EH_RECORDS_RING, EH_RETA, EH_RING_TABLE,
  EH_RSS_TABLE, EH_RUN_STOP, EH_RX_TIME, EH_SHAPERS, EH_SOURCES, EH_W_BURST, EH_W_FRAMES, EH_W_HIST, EH_W_RECORDS, EH_W_STAGE, EH_WORKERS, ENGINE_MAGIC,
  FC_ACTIVE, FC_COUNT0, FC_GENERATION, frameMeta, OPT_DROP_PARSE_ERRORS, OPT_PAIRS, OPT_RSS, RT_IN, RT_RX, statsBlock, WC_BURST_COUNT, WC_POLLS, WC_RECORD_COUNT,
  WC_SEEN_GENERATION, WC_STAGE_COUNT, WC_STATE, workerBlock, EH_W_TX, EH_TX_QUEUES, EH_TX_HOLD, TX_HOLD_BYTES, WC_TX_COUNT, RT_TX, WC_RX_PENDING,
  WC_FEED_N, WC_FEED_FIRST, WC_FEED_PHASE, WC_TMP_N, WC_TMP_FIRST, WC_TMP_RING, WC_TMP_LIST, WC_RECORD_FIRST, TXH_COUNTED, TXH_RELEASED,
} from './engine-map';

export const SOURCE_BYTES: usize = 128;
export const SRC_BASE: usize = 0;
export const SRC_END: usize = 4;
export const SRC_CURSOR: usize = 8;
export const SRC_LOOPS: usize = 12;
export const STREAM_RECORD_HEADER: usize = 24;
export const SRC_FEEDER: usize = 20;
export const SRC_FLAGS: usize = 24;
export const SRC_DONE: usize = 28;
export const SRC_SPEED: usize = 32;
export const SRC_START_NS: usize = 40;
export const SRC_FIRST_TS: usize = 48;
export const SRC_FED: usize = 56;
export const SRC_LOOP_SHIFT: usize = 64;

/** Source flags: the queue has a stream to replay. */
export const SRC_F_ACTIVE: u32 = 1;
/** Pace by the capture's timestamps × speed. */
export const SRC_F_SPEED: u32 = 2;
/** Behave like a NIC: drop (pool empty, ring full) instead of waiting for room. */
export const SRC_F_LOSSY: u32 = 4;
/** Pace by the queue's rx shaper (--rate). */
export const SRC_F_RATE: u32 = 8;

/** Worker states (WC_STATE). */
export const WS_RUNNING: u32 = 1;
/** Stop requested and nothing more to ingest: this worker will enqueue nothing more. */
export const WS_INGEST_DONE: u32 = 2;
export const WS_STOPPED: u32 = 3;

const DEST_DROPPED: u32 = 0xffffffff;
const REC_FRAME: u64 = 0x8000000000000000;
/** A frame record as keep() stages it: no reference of its own yet (flushRecords takes one). */
const REC_KEEP: u64 = 0x8000000100000000;
const REC_KIND: u64 = 0xffffffff00000000;
const TX_NONE: u32 = 0xffffffff;

/** Checks the engine header; 0 when usable. */
export function engineCheck(ctx: usize): i32 {
  if (ctx == 0) return -1;
  if (load<u32>(ctx) != ENGINE_MAGIC) return -2;
  return 0;
}

@inline export function rxRing(ctx: usize, q: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_RX + (<usize>q << 2));
}
/**
 * A live feeder's burst of `n` received frames (`bytes` on the wire) onto queue q's rx ring,
 * counted in the queue's stats block: received, and ring_full for those the ring had no room for
 * (released at once). Returns how many went in.
 */
@inline export function rxPublish(ctx: usize, q: u32, cache: usize, list: usize, n: u32, bytes: u64): u32 {
  const put = ringEnqueueBurst32(rxRing(ctx, q), list, n);
  for (let i = put; i < n; i++) frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
  const qs = statsBlock(ctx, q);
  statAdd(qs, STAT_RX_PACKETS, n);
  statAdd(qs, STAT_RX_BYTES, bytes);
  if (n > put) statDrop(qs, STAT_DROP_RING_FULL, <u64>(n - put));
  return put;
}
@inline function inRing(ctx: usize, target: u32, source: u32, c: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_IN + (<usize>((target << 8) | (source << 2) | c) << 2));
}
@inline function txRing(ctx: usize, q: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_TX + (<usize>q << 2));
}
@inline function txShaper(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SHAPERS) + (<usize>q << 6);
}
@inline export function sourceState(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SOURCES) + <usize>q * SOURCE_BYTES;
}
@inline function rxShaper(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SHAPERS) + (<usize>(64 + q) << 6);
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
  const end = load<u32>(src, SRC_END);
  let n: u32 = 0;
  let pkts: u64 = 0;
  let bytes: u64 = 0;
  let poolEmpty: u64 = 0;
  while (pkts < <u64>max) {
    if (cursor >= end) {
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
    // A chain under way is in the feed journal from its first frame on (phase 0: released silently).
    const f = poolCopyIn(ctx, cache, rec + STREAM_RECORD_HEADER, caplen, list + (<usize>n << 2), wb + ehAddr(ctx, EH_W_STAGE), wb + WC_FEED_N, n);
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
  store<u32>(src, cursor, SRC_CURSOR);
  store<u64>(src, load<u64>(src, SRC_FED) + pkts, SRC_FED);
  statAdd(qs, STAT_RX_PACKETS, pkts);
  statAdd(qs, STAT_RX_BYTES, bytes);
  if (poolEmpty) statDrop(qs, STAT_DROP_POOL_EMPTY, poolEmpty);
  store<u32>(wb, 1, WC_FEED_PHASE);
  const put: u32 = n == 0 ? 0 : ringEnqueueBurst32(ring, list, n);
  // In the publish stretch: [0, put) are the ring's, the rest counted as ring_full (phase 2).
  if (n > put) statDrop(qs, STAT_DROP_RING_FULL, <u64>(n - put));
  store<u32>(wb, put, WC_FEED_FIRST);
  store<u32>(wb, 2, WC_FEED_PHASE);
  for (let i = put; i < n; i++) {
    frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
    store<u32>(wb, i + 1, WC_FEED_FIRST);
  }
  store<u32>(wb, 0, WC_FEED_N);
  store<u32>(wb, 0, WC_FEED_FIRST);
  store<u32>(wb, 0, WC_FEED_PHASE);
  return put;
}

/**
 * A live backend's burst into the engine (called by the thread that owns the backend): each frame
 * the kernel left in its ring (meta records at the `n` addresses at `addrs`) is copied once into a
 * pool frame chain through `cache`, its meta filled and rx time stamped, and the burst put on rx
 * ring q. A NIC cannot wait: no frame is pool_empty, no ring room is ring_full. `list` is scratch
 * for `n` + 1 u32. Returns the frames put on the ring.
 */
export function backendIngest(ctx: usize, q: u32, cache: usize, addrs: usize, n: u32, list: usize, nowNs: f64): u32 {
  const qs = statsBlock(ctx, q);
  const rxTime = ehAddr(ctx, EH_RX_TIME);
  const nowInt = <u64>nowNs;
  const one = list + (<usize>n << 2);
  let k: u32 = 0;
  let bytes: u64 = 0;
  let poolEmpty: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const src = <usize>load<u32>(addrs + (<usize>i << 2));
    const caplen = load<u32>(src, META_CAPLEN);
    const wirelen = max(load<u32>(src, META_WIRELEN), caplen);
    bytes += wirelen;
    const f = poolCopyIn(ctx, cache, <usize>load<u32>(src, META_DATA), caplen, one, one, 0, 0);
    if (f == NEXT_NONE) {
      poolEmpty++;
      continue;
    }
    const m = frameMeta(ctx, f);
    store<u32>(m, wirelen, META_WIRELEN);
    store<u64>(m, load<u64>(src, META_TIMESTAMP), META_TIMESTAMP);
    store<u16>(m, load<u16>(src, META_LINKTYPE), META_LINKTYPE);
    store<u16>(m, <u16>q, META_QUEUE);
    store<u32>(m, 0, META_MARK);
    store<u64>(rxTime + (<usize>f << 3), nowInt);
    store<u32>(list + (<usize>k << 2), f);
    k++;
  }
  const put: u32 = k == 0 ? 0 : ringEnqueueBurst32(rxRing(ctx, q), list, k);
  for (let i = put; i < k; i++) frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
  statAdd(qs, STAT_RX_PACKETS, n);
  statAdd(qs, STAT_RX_BYTES, bytes);
  if (poolEmpty) statDrop(qs, STAT_DROP_POOL_EMPTY, poolEmpty);
  if (k > put) statDrop(qs, STAT_DROP_RING_FULL, <u64>(k - put));
  return put;
}

/** Frames the kernel dropped on queue q before the engine saw them: they count as received and dropped. */
export function kernelDrops(ctx: usize, q: u32, n: u32): void {
  const qs = statsBlock(ctx, q);
  statAdd(qs, STAT_RX_PACKETS, n);
  statDrop(qs, STAT_DROP_KERNEL, n);
}

/** Ends the burst handed to the handler: latency, delivered or handler_error, frames released. */
function complete(ctx: usize, w: u32, wb: usize, nowNs: f64, handledOk: u32): void {
  const n = load<u32>(wb, WC_BURST_COUNT);
  if (n == 0) return;
  const list = wb + ehAddr(ctx, EH_W_BURST);
  const hist = wb + ehAddr(ctx, EH_W_HIST);
  const rxTime = ehAddr(ctx, EH_RX_TIME);
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
  const cache = poolCache(ctx, w);
  const now = <u64>nowNs;
  let sum: u64 = 0;
  let peak = load<u64>(block, STAT_LAT_MAX);
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const f = load<u32>(list + (<usize>i << 2));
    const t = load<u64>(rxTime + (<usize>f << 3));
    const lat = now > t ? now - t : 0;
    const slot = hist + (<usize>histBucket(lat) << 3);
    store<u64>(slot, load<u64>(slot) + 1);
    sum += lat;
    if (lat > peak) peak = lat;
    bytes += load<u32>(frameMeta(ctx, f), META_WIRELEN);
  }
  // One stretch: the burst's fate is counted and the frames move from the burst to the tmp
  // journal (counted: released silently), so a worker ended anywhere counts them once.
  statAdd(block, STAT_LAT_COUNT, n);
  statAdd(block, STAT_LAT_SUM, sum);
  store<u64>(block, peak, STAT_LAT_MAX);
  if (handledOk) {
    statAdd(block, STAT_DELIVERED, n);
    statAdd(block, STAT_DELIVERED_BYTES, bytes);
  } else statDrop(block, STAT_DROP_HANDLER_ERROR, n);
  statAdd(block, STAT_BURSTS, 1);
  store<u32>(wb, 0, WC_TMP_FIRST);
  store<u32>(wb, n, WC_TMP_N);
  store<u32>(wb, 0, WC_BURST_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
    store<u32>(wb, i + 1, WC_TMP_FIRST);
  }
  store<u32>(wb, 0, WC_TMP_N);
  store<u32>(wb, 0, WC_TMP_FIRST);
}

/**
 * Moves the records the handler staged onto the records ring; frames that find no room are released.
 *
 * keep() in JS only writes the record (REC_KEEP) and then the count: a handler ended between the two
 * leaves nothing to undo. The frame's own reference is taken here, each in the stretch that turns its
 * record into REC_FRAME, while the burst still holds the frame (this runs before complete()): so
 * every REC_FRAME record in the list holds exactly one reference and every REC_KEEP none.
 */
function flushRecords(ctx: usize, w: u32, wb: usize): void {
  const n = load<u32>(wb, WC_RECORD_COUNT);
  if (n == 0) return;
  const recs = wb + ehAddr(ctx, EH_W_RECORDS);
  const metaBase = ehAddr(ctx, EH_META);
  for (let i: u32 = 0; i < n; i++) {
    const at = recs + (<usize>i << 3);
    const r = load<u64>(at);
    if ((r & REC_KIND) != REC_KEEP) continue;
    atomic.add<u32>(metaBase + (<usize><u32>r << 6) + META_REFCNT, 1);
    store<u64>(at, REC_FRAME | (r & 0xffffffff));
  }
  const cache = poolCache(ctx, w);
  // The records ring has many producers: the claim record lets the host finish a claim cut short.
  const put = ringEnqueueBurstJ64(ehAddr(ctx, EH_RECORDS_RING), recs, n, cache + PC_CLAIM);
  // In the publish stretch: [0, put) are the ring's now.
  store<u32>(wb, put, WC_RECORD_FIRST);
  if (put < n) {
    // Records lost for want of room: the line's free word counts them.
    const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
    statAdd(block, 56, <u64>(n - put));
    for (let i = put; i < n; i++) {
      const r = load<u64>(recs + (<usize>i << 3));
      if (r & REC_FRAME) frameRelease(ctx, cache, <u32>r);
      store<u32>(wb, i + 1, WC_RECORD_FIRST);
    }
  }
  store<u32>(wb, 0, WC_RECORD_COUNT);
  store<u32>(wb, 0, WC_RECORD_FIRST);
}

/**
 * Publishes the tmp journal's frames [0, k) on `ring` under the worker's claim record. In the
 * publish stretch [0, put) become the ring's and the rest are counted under the stats field
 * `overflow`; those are then released one by one, the journal's first moving past each in the
 * stretch of its release, so a kill anywhere leaves the journal exact. Inlined: a call would add
 * an interrupt check between the publish and the journal stores.
 */
@inline function publishTmp(ctx: usize, wb: usize, cache: usize, ring: usize, tmp: usize, k: u32, block: usize, overflow: usize): void {
  const put = ringEnqueueBurstJ32(ring, tmp, k, cache + PC_CLAIM);
  if (k > put) statAdd(block, overflow, <u64>(k - put));
  store<u32>(wb, put, WC_TMP_FIRST);
  store<u32>(wb, 0, WC_TMP_RING);
  for (let j = put; j < k; j++) {
    frameRelease(ctx, cache, load<u32>(tmp + (<usize>j << 2)));
    store<u32>(wb, j + 1, WC_TMP_FIRST);
  }
  store<u32>(wb, 0, WC_TMP_N);
  store<u32>(wb, 0, WC_TMP_FIRST);
}

/**
 * Moves the frames the handler forwarded (staged as (queue << 24) | frame) onto their transmit
 * rings, one burst per queue; a full ring drops them (counted as tx_dropped).
 *
 * As with keep(), forward() stages without a reference; the frame's is taken here, in the stretch
 * that moves its entry from the staged list to the tmp journal (list: the stage list, WC_TMP_LIST 1),
 * while the burst still holds the frame. A frame in the tmp journal holds one reference; the staged
 * entries left hold none (the host counts them tx_dropped).
 */
function flushTx(ctx: usize, w: u32, wb: usize): void {
  const n = load<u32>(wb, WC_TX_COUNT);
  if (n == 0) return;
  const list = wb + ehAddr(ctx, EH_W_TX);
  const tmp = wb + ehAddr(ctx, EH_W_STAGE);
  const cache = poolCache(ctx, w);
  const metaBase = ehAddr(ctx, EH_META);
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
  store<u32>(wb, 1, WC_TMP_LIST);
  for (let i: u32 = 0; i < n; i++) {
    const e = load<u32>(list + (<usize>i << 2));
    if (e == TX_NONE) continue;
    const q = e >> 24;
    const ring = txRing(ctx, q);
    store<u32>(wb, <u32>ring, WC_TMP_RING);
    let k: u32 = 0;
    for (let j = i; j < n; j++) {
      const x = load<u32>(list + (<usize>j << 2));
      if (x == TX_NONE || x >> 24 != q) continue;
      const f = x & 0xffffff;
      atomic.add<u32>(metaBase + (<usize>f << 6) + META_REFCNT, 1);
      store<u32>(tmp + (<usize>k << 2), f);
      store<u32>(list + (<usize>j << 2), TX_NONE);
      k++;
      store<u32>(wb, k, WC_TMP_N);
    }
    publishTmp(ctx, wb, cache, ring, tmp, k, block, STAT_TX_DROPPED);
  }
  store<u32>(wb, 0, WC_TX_COUNT);
  store<u32>(wb, 0, WC_TMP_LIST);
}

/**
 * Transmit queue q: takes frames off its ring into its hold list and sends (counts, then frees:
 * the replay backends have no wire) as many as its token bucket allows, in order. Frames the
 * bucket holds back wait in the hold list for the next poll: shaping delays, it does not drop.
 */
function txDrain(ctx: usize, w: u32, q: u32, nowNs: f64): void {
  const hold = ehAddr(ctx, EH_TX_HOLD) + <usize>q * TX_HOLD_BYTES;
  const list = hold + 64;
  let n = load<u32>(hold);
  const burst = eh(ctx, EH_BURST);
  if (n < burst) {
    n += ringDequeueBurst32(txRing(ctx, q), list + (<usize>n << 2), burst - n);
    // In the dequeue's release stretch: the frames are the hold list's (recovery journal).
    store<u32>(hold, n);
  }
  if (n == 0) return;
  const sh = txShaper(ctx, q);
  shaperRefill(sh, nowNs);
  let k: u32 = 0;
  let bytes: u64 = 0;
  while (k < n) {
    const len = load<u32>(frameMeta(ctx, load<u32>(list + (<usize>k << 2))), META_WIRELEN);
    if (!shaperTake(sh, len)) break;
    bytes += len;
    k++;
  }
  if (k == 0) return;
  // One stretch: [0, k) are sent and counted (the journal's "counted"); then each is released in
  // the stretch that advances "released", and the list closes up with both back to 0.
  const qs = statsBlock(ctx, q);
  statAdd(qs, STAT_TX_PACKETS, k);
  statAdd(qs, STAT_TX_BYTES, bytes);
  store<u32>(hold, k, TXH_COUNTED);
  const cache = poolCache(ctx, w);
  for (let i: u32 = 0; i < k; i++) {
    frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
    store<u32>(hold, i + 1, TXH_RELEASED);
  }
  if (k < n) memory.copy(list, list + (<usize>k << 2), <usize>(n - k) << 2);
  store<u32>(hold, n - k);
  store<u32>(hold, 0, TXH_COUNTED);
  store<u32>(hold, 0, TXH_RELEASED);
}

/** Dequeues a burst from rx ring q, parses, classifies and routes it. Returns frames taken. */
function ingest(ctx: usize, w: u32, wb: usize, q: u32, active: u32): u32 {
  const burst = eh(ctx, EH_BURST);
  const frames = wb + ehAddr(ctx, EH_W_FRAMES);
  const n = ringDequeueBurst32(rxRing(ctx, q), frames, burst);
  if (n == 0) return 0;
  store<u32>(wb, n, WC_STAGE_COUNT);
  const stage = wb + ehAddr(ctx, EH_W_STAGE);
  for (let i: u32 = 0; i < n; i++) store<u32>(stage + (<usize>i << 2), <u32>frameMeta(ctx, load<u32>(frames + (<usize>i << 2))));
  const options = eh(ctx, EH_OPTIONS);
  parseList(stage, n, eh(ctx, EH_PARSE_FLAGS), ehAddr(ctx, EH_RSS_TABLE));

  // Classify: the destination of each frame (worker * 4 + class) replaces its stage entry.
  const fc = ehAddr(ctx, EH_FLOW_CONTROL);
  const rules = load<u32>(fc + FC_COUNT0 + (<usize>active << 2));
  const table = ehAddr(ctx, EH_FLOW_TABLES) + <usize>active * <usize>eh(ctx, EH_FLOW_RULES) * 64;
  const workers = eh(ctx, EH_WORKERS);
  const classes = eh(ctx, EH_CLASSES);
  const defaultClass = classes - 1;
  const reta = ehAddr(ctx, EH_RETA);
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
  const cache = poolCache(ctx, w);
  let parseErrors: u64 = 0;
  let filtered: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const f = load<u32>(frames + (<usize>i << 2));
    const m = frameMeta(ctx, f);
    let dest: u32;
    if ((options & OPT_DROP_PARSE_ERRORS) && load<u32>(m, META_ERRORS) != 0) {
      parseErrors++;
      dest = DEST_DROPPED;
    } else {
      let target = (options & OPT_RSS) ? load<u32>(reta + (<usize>(load<u32>(m, META_HASH) & 127) << 2)) : w;
      let cls = defaultClass;
      const hit = flowMatch(table, rules, m);
      if (hit >= 0) {
        const r = table + (<usize>hit << 6);
        const act = load<u32>(r, FR_ACTION);
        if (act & FLOW_A_MARK) store<u32>(m, load<u32>(r, FR_MARK), META_MARK);
        if (act & FLOW_A_QUEUE) target = <u32>load<u16>(r, FR_QUEUE) % workers;
        if (act & FLOW_A_CLASS) cls = min(<u32>load<u8>(r, FR_CLASS), defaultClass);
        if (act & FLOW_A_DROP) {
          filtered++;
          target = DEST_DROPPED;
        }
      }
      dest = target == DEST_DROPPED ? DEST_DROPPED : target * 4 + cls;
    }
    if (dest == DEST_DROPPED) {
      frameRelease(ctx, cache, f);
      // In the release stretch: the frame leaves the stage list and its drop is counted.
      store<u32>(frames + (<usize>i << 2), NEXT_NONE);
      if (parseErrors) statDrop(block, STAT_DROP_PARSE_ERROR, parseErrors);
      if (filtered) statDrop(block, STAT_DROP_FILTERED, filtered);
      parseErrors = 0;
      filtered = 0;
    }
    store<u32>(stage + (<usize>i << 2), dest);
  }

  // Route: one ring burst per destination present, through the tmp journal (the burst list is
  // free between bursts): each frame moves from the stage list to it in one stretch.
  const tmp = wb + ehAddr(ctx, EH_W_BURST);
  for (let i: u32 = 0; i < n; i++) {
    const dest = load<u32>(stage + (<usize>i << 2));
    if (dest == DEST_DROPPED) continue;
    const ring = inRing(ctx, dest >> 2, w, dest & 3);
    // While the ring is named here, the enqueue's claim record says how many went in (none
    // without one): set before the first frame moves over.
    store<u32>(wb, <u32>ring, WC_TMP_RING);
    let k: u32 = 0;
    for (let j = i; j < n; j++) {
      if (load<u32>(stage + (<usize>j << 2)) != dest) continue;
      store<u32>(tmp + (<usize>k << 2), load<u32>(frames + (<usize>j << 2)));
      store<u32>(stage + (<usize>j << 2), DEST_DROPPED);
      store<u32>(frames + (<usize>j << 2), NEXT_NONE);
      k++;
      store<u32>(wb, k, WC_TMP_N);
    }
    publishTmp(ctx, wb, cache, ring, tmp, k, block, STAT_DROPS + (<usize>STAT_DROP_RING_FULL << 3));
  }
  store<u32>(wb, 0, WC_STAGE_COUNT);
  return n;
}

/**
 * Does worker w read rx queue q? One reader per queue, worker q mod workers (its feeder too), so
 * every rx ring is single-consumer: workers sharing a queue through a compare-and-swap head
 * would fight over one cache line per burst and wait on each other's publishes. Workers beyond
 * the queues get their frames from software RSS (OPT_RSS), through their in rings.
 */
@inline export function serves(w: u32, q: u32, workers: u32): bool {
  return q % workers == w;
}

/**
 * One burst of worker w. Completes the burst the handler was given last time (`handledOk` 0 when
 * it threw), flushes the records it staged, feeds the queues this worker feeds, ingests from the
 * rx rings it reads, then fills its burst list from its in rings, class 0 first. Returns the
 * frames in the new burst (their indexes in the burst list; WC_BURST_COUNT holds the count).
 *
 * Stop: once the host sets the stop word, feeding ends; a worker marks itself ingest-done when its
 * rx rings are empty, and returns 0xffffffff (finished) once every worker is ingest-done and its
 * own in rings are empty: from then on nobody can enqueue to it.
 */
export function enginePoll(ctx: usize, w: u32, nowNs: f64, handledOk: u32): u32 {
  const wb = workerBlock(ctx, w);
  // Records and forwards first: they take their frames' references while the burst still holds them.
  flushRecords(ctx, w, wb);
  flushTx(ctx, w, wb);
  complete(ctx, w, wb, nowNs, handledOk);
  store<u32>(wb, load<u32>(wb, WC_POLLS) + 1, WC_POLLS);
  const workers = eh(ctx, EH_WORKERS);
  const queues = eh(ctx, EH_QUEUES);
  const burst = eh(ctx, EH_BURST);
  const stopping = atomic.load<u32>(ctx, EH_RUN_STOP) != 0;
  // Read-copy-update of the rule tables: publish the generation seen before reading which table
  // is active, so a host that sees every worker at generation g knows none reads the older table.
  const fc = ehAddr(ctx, EH_FLOW_CONTROL);
  atomic.store<u32>(wb, atomic.load<u32>(fc, FC_GENERATION), WC_SEEN_GENERATION);
  const active = atomic.load<u32>(fc, FC_ACTIVE) & 1;
  let pending: u32 = 0;
  const txQueues = eh(ctx, EH_TX_QUEUES);
  // Transmit queue q is sent by worker q mod workers, the writer of queue q's stats block.
  for (let q: u32 = w; q < txQueues; q += workers) txDrain(ctx, w, q, nowNs);
  // Only this worker's queues (q ≡ w mod workers): reading another queue's source line, which its
  // feeder rewrites every poll, would pull that line across cores on every poll.
  for (let q: u32 = w; q < queues; q += workers) {
    if (!stopping && load<u32>(sourceState(ctx, q), SRC_FEEDER) == w) sourcePoll(ctx, w, q, nowNs, burst);
    ingest(ctx, w, wb, q, active);
    pending += ringCount(rxRing(ctx, q));
  }
  store<u32>(wb, pending, WC_RX_PENDING);
  if (stopping && pending == 0 && load<u32>(wb, WC_STATE) == WS_RUNNING) atomic.store<u32>(wb, WS_INGEST_DONE, WC_STATE);

  const list = wb + ehAddr(ctx, EH_W_BURST);
  const classes = eh(ctx, EH_CLASSES);
  const sources = (eh(ctx, EH_OPTIONS) & OPT_PAIRS) ? workers : 1;
  // Within a class, start at a different source each poll so no source waits behind another.
  const first = load<u32>(wb, WC_POLLS) % sources;
  let n: u32 = 0;
  for (let c: u32 = 0; c < classes && n < burst; c++) {
    for (let k: u32 = 0; k < sources && n < burst; k++) {
      const s = first + k < sources ? first + k : first + k - sources;
      n += ringDequeueBurst32(inRing(ctx, w, s, c), list + (<usize>n << 2), burst - n);
      // In the ring's release stretch: the frames are this burst's (recovery journal).
      store<u32>(wb, n, WC_BURST_COUNT);
    }
  }
  if (n == 0 && stopping && load<u32>(wb, WC_STATE) == WS_INGEST_DONE) {
    for (let o: u32 = 0; o < workers; o++) if (atomic.load<u32>(workerBlock(ctx, o), WC_STATE) < WS_INGEST_DONE) return 0;
    for (let c: u32 = 0; c < classes; c++) for (let s: u32 = 0; s < sources; s++) if (ringCount(inRing(ctx, w, s, c)) != 0) return 0;
    return 0xffffffff;
  }
  return n;
}

/** Marks worker w running (a restarted worker too). */
export function engineWorkerStart(ctx: usize, w: u32): void {
  atomic.store<u32>(workerBlock(ctx, w), WS_RUNNING, WC_STATE);
}

/** Marks worker w stopped. */
export function engineWorkerStop(ctx: usize, w: u32): void {
  atomic.store<u32>(workerBlock(ctx, w), WS_STOPPED, WC_STATE);
}
