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

import { parseList } from '../parse/parse';
import { ringCount, ringDequeueBurst32, ringEnqueueBurstJ64 } from '../ring';
import { META_ERRORS, META_HASH, META_MARK, META_REFCNT, META_WIRELEN, NEXT_NONE } from '../meta';
import { frameRelease, poolCache, PC_CLAIM } from '../pool';
import {
  histBucket, statAdd, statDrop, STAT_BURSTS, STAT_DELIVERED, STAT_DELIVERED_BYTES, STAT_DROP_FILTERED, STAT_DROP_HANDLER_ERROR, STAT_DROP_PARSE_ERROR, STAT_DROP_RULE_DROP,
  STAT_DROP_RING_FULL, STAT_DROPS, STAT_LAT_COUNT, STAT_LAT_MAX, STAT_LAT_SUM, STAT_RECORDS_DROPPED,
} from '../stats';
import {
  eh, ehAddr, EH_BURST, EH_CLASSES, EH_FLOW_CONTROL, EH_FLOW_RULES, EH_FLOW_TABLES, EH_META, EH_OPTIONS, EH_PARSE_FLAGS, EH_QUEUES, EH_RECORDS_RING, EH_RETA,
  EH_RSS_TABLE, EH_RUN_STOP, EH_RX_TIME, EH_TX_QUEUES, EH_W_BURST, EH_W_FRAMES, EH_W_HIST, EH_W_RECORDS, EH_W_STAGE, EH_WORKERS, ENGINE_MAGIC, FC_ACTIVE,
  FC_COUNT0, FC_GENERATION, frameMeta, inRing, OPT_DROP_PARSE_ERRORS, OPT_FILTER, OPT_PAIRS, OPT_RSS, rxRing, statsBlock, WC_BURST_COUNT, WC_POLLS, WC_RECORD_COUNT,
  WC_RECORD_FIRST, WC_RX_PENDING, WC_SEEN_GENERATION, WC_STAGE_COUNT, WC_STATE, WC_TMP_N, WC_TMP_RING, WC_TMP_FIRST, workerBlock,
} from '../engine-map';
import { flowMatch, FLOW_A_CLASS, FLOW_A_DROP, FLOW_A_MARK, FLOW_A_QUEUE, FR_ACTION, FR_CLASS, FR_MARK, FR_QUEUE } from './flow';
import { BURST_KEPT, publishTmp, REC_FRAME, REC_KEEP, REC_KIND } from './journal';
import { sourcePoll, sourceState, SRC_WORKER } from './replay';
import { flushTx, txDrain } from './tx';

/** Worker states (WC_STATE). */
export const WS_RUNNING: u32 = 1;
/** Stop requested and nothing more to ingest: this worker will enqueue nothing more. */
export const WS_INGEST_DONE: u32 = 2;
export const WS_STOPPED: u32 = 3;

const DEST_DROPPED: u32 = 0xffffffff;

/**
 * The engine's filter expression, compiled to its own WASM module (host/filter/translate.ts
 * filterBurst) and linked in here at instantiation, so a burst is judged wasm-to-wasm with no JS
 * between: verdicts[i] (u32, 0 = reject) for the frame whose index is list[i] (its metadata at
 * metaBase + 64 * index). Called only when the header's options carry OPT_FILTER; an engine
 * without a filter links a function that is never called.
 */
// @ts-ignore: decorator
@external("filter", "burst")
declare function filterBurst(list: usize, count: u32, metaBase: usize, verdicts: usize): u32;

/**
 * Runs the filter over the n frames of the stage list, releasing the rejected ones (counted as
 * filtered) and moving the accepted ones down so they fill [0, kept). Returns kept. Each frame's
 * move or release is one stretch (the stage list stays n long until the end, every entry past a
 * moved one reading NEXT_NONE), so a worker ended anywhere leaves each frame listed once.
 */
function filterStage(ctx: usize, w: u32, wb: usize, frames: usize, n: u32, verdicts: usize): u32 {
  if (filterBurst(frames, n, ehAddr(ctx, EH_META), verdicts) == n) return n;
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
  const cache = poolCache(ctx, w);
  let kept: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const at = frames + (<usize>i << 2);
    const f = load<u32>(at);
    if (load<u32>(verdicts + (<usize>i << 2)) == 0) {
      frameRelease(ctx, cache, f);
      store<u32>(at, NEXT_NONE);
      statDrop(block, STAT_DROP_FILTERED, 1);
    } else {
      if (kept != i) {
        store<u32>(frames + (<usize>kept << 2), f);
        store<u32>(at, NEXT_NONE);
      }
      kept++;
    }
  }
  store<u32>(wb, kept, WC_STAGE_COUNT);
  return kept;
}

/** Checks the engine header; 0 when usable. */
export function engineCheck(ctx: usize): i32 {
  if (ctx == 0) return -1;
  if (load<u32>(ctx) != ENGINE_MAGIC) return -2;
  return 0;
}

/**
 * Ends the burst handed to the handler: its latency and bytes, the records it staged (flushRecords),
 * then delivered or handler_error, and the frames not kept released.
 */
function complete(ctx: usize, w: u32, wb: usize, nowNs: f64, handledOk: u32): void {
  const n = load<u32>(wb, WC_BURST_COUNT);
  const list = wb + ehAddr(ctx, EH_W_BURST);
  if (n == 0) {
    flushRecords(ctx, w, wb, list);
    return;
  }
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
  // After the figures: a kept frame is the main thread's once its record is on the ring.
  flushRecords(ctx, w, wb, list);
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
    const e = load<u32>(list + (<usize>i << 2));
    if ((e & BURST_KEPT) == 0) frameRelease(ctx, cache, e);
    store<u32>(wb, i + 1, WC_TMP_FIRST);
  }
  store<u32>(wb, 0, WC_TMP_N);
  store<u32>(wb, 0, WC_TMP_FIRST);
}

/**
 * Moves the records the handler staged onto the records ring; frames that find no room are released.
 *
 * keep(i) in JS only writes the record (REC_KEEP, burst slot i) and then the count: a handler ended
 * between the two leaves nothing to undo. The record gets its reference here, in the stretch that
 * turns it into REC_FRAME, while the burst still holds the frame: the burst's own, the entry marked
 * BURST_KEPT, so keeping costs no reference count change; a frame kept twice takes one more for its
 * second record. So every REC_FRAME record in the list holds exactly one reference, every REC_KEEP
 * none, and a BURST_KEPT entry none.
 */
function flushRecords(ctx: usize, w: u32, wb: usize, burst: usize): void {
  const n = load<u32>(wb, WC_RECORD_COUNT);
  if (n == 0) return;
  const recs = wb + ehAddr(ctx, EH_W_RECORDS);
  const metaBase = ehAddr(ctx, EH_META);
  for (let i: u32 = 0; i < n; i++) {
    const at = recs + (<usize>i << 3);
    const r = load<u64>(at);
    if ((r & REC_KIND) != REC_KEEP) continue;
    const slot = burst + (<usize><u32>r << 2);
    const e = load<u32>(slot);
    const f = e & ~BURST_KEPT;
    if (e & BURST_KEPT) atomic.add<u32>(metaBase + (<usize>f << 6) + META_REFCNT, 1);
    else store<u32>(slot, e | BURST_KEPT);
    store<u64>(at, REC_FRAME | <u64>f);
  }
  const cache = poolCache(ctx, w);
  // The records ring has many producers: the claim record lets the host finish a claim cut short.
  const put = ringEnqueueBurstJ64(ehAddr(ctx, EH_RECORDS_RING), recs, n, cache + PC_CLAIM);
  // In the publish stretch: [0, put) are the ring's now.
  store<u32>(wb, put, WC_RECORD_FIRST);
  if (put < n) {
    // Records lost for want of room: counted as records_dropped.
    const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
    statAdd(block, STAT_RECORDS_DROPPED, <u64>(n - put));
    for (let i = put; i < n; i++) {
      const r = load<u64>(recs + (<usize>i << 3));
      if (r & REC_FRAME) frameRelease(ctx, cache, <u32>r);
      store<u32>(wb, i + 1, WC_RECORD_FIRST);
    }
  }
  store<u32>(wb, 0, WC_RECORD_COUNT);
  store<u32>(wb, 0, WC_RECORD_FIRST);
}

/** Dequeues a burst from rx ring q, parses, classifies and routes it. Returns frames taken. */
function ingest(ctx: usize, w: u32, wb: usize, q: u32, active: u32): u32 {
  const burst = eh(ctx, EH_BURST);
  const frames = wb + ehAddr(ctx, EH_W_FRAMES);
  const taken = ringDequeueBurst32(rxRing(ctx, q), frames, burst);
  if (taken == 0) return 0;
  store<u32>(wb, taken, WC_STAGE_COUNT);
  const stage = wb + ehAddr(ctx, EH_W_STAGE);
  const options = eh(ctx, EH_OPTIONS);
  // The stage list is free until parsing: it takes the verdicts.
  const n = (options & OPT_FILTER) ? filterStage(ctx, w, wb, frames, taken, stage) : taken;
  for (let i: u32 = 0; i < n; i++) store<u32>(stage + (<usize>i << 2), <u32>frameMeta(ctx, load<u32>(frames + (<usize>i << 2))));
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
  let ruleDrops: u64 = 0;
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
      // Without rules, no call per frame.
      const hit = rules == 0 ? -1 : flowMatch(table, rules, m);
      if (hit >= 0) {
        const r = table + (<usize>hit << 6);
        const act = load<u32>(r, FR_ACTION);
        if (act & FLOW_A_MARK) store<u32>(m, load<u32>(r, FR_MARK), META_MARK);
        if (act & FLOW_A_QUEUE) target = <u32>load<u16>(r, FR_QUEUE) % workers;
        if (act & FLOW_A_CLASS) cls = min(<u32>load<u8>(r, FR_CLASS), defaultClass);
        if (act & FLOW_A_DROP) {
          ruleDrops++;
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
      if (ruleDrops) statDrop(block, STAT_DROP_RULE_DROP, ruleDrops);
      parseErrors = 0;
      ruleDrops = 0;
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
  return taken;
}

/**
 * One burst of worker w. Sends what the handler forwarded last time, completes its burst
 * (`handledOk` 0 when it threw) with the records it staged, replays the sources this worker replays, ingests from the
 * rx rings it reads, then fills its burst list from its in rings, class 0 first. Returns the
 * frames in the new burst (their indexes in the burst list; WC_BURST_COUNT holds the count).
 *
 * Stop: once the host sets the stop word, replay ends; a worker marks itself ingest-done when its
 * rx rings are empty, and returns 0xffffffff (finished) once every worker is ingest-done and its
 * own in rings are empty: from then on nobody can enqueue to it.
 */
export function enginePoll(ctx: usize, w: u32, nowNs: f64, handledOk: u32): u32 {
  const wb = workerBlock(ctx, w);
  // Forwards first: they take their frames' references while the burst still holds every frame.
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
  // replaying worker rewrites every poll, would pull that line across cores on every poll.
  for (let q: u32 = w; q < queues; q += workers) {
    if (!stopping && load<u32>(sourceState(ctx, q), SRC_WORKER) == w) sourcePoll(ctx, w, q, nowNs, burst);
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
