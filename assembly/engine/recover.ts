// Recovery of a dead worker, beside the code that writes its journal. V8 ends a worker only at an
// interrupt check (a function entry or a loop header), and every hand-off in the worker files
// its frames in the same straight-line stretch that moves them, so the journal in the worker's
// control line (assembly/engine-map.ts WC_SOURCE_* .. WC_RECORD_FIRST) and its pool cache's claim
// record (assembly/ring.ts, "Claims and worker death") say exactly what it held wherever it
// stopped. The host calls these from its own thread, after the worker's exit:
//
//   recoverClaim(ctx, w, claim)  take the ring claim w left open (items into their slots);
//   claimSettle(claim, scratch)  publish it once the ring's tail reaches it (earlier claimers
//                                first, as ever): the host calls it until it returns 1;
//   recoverWorker(ctx, w, claim) release everything else w held, count what it failed.
//
// Open claim record (16 B, in the host's memory, kept until claimSettle returns 1):
//   | 0 ring (bit 0: consumer side; 0: none) | 4 head | 8 count | 12 skip |
// `skip` is a frame a single-frame claim already put back (a capacity-0 cache's free to the free
// ring, or a DPDK frame to its queue's return ring), which recoverWorker must not put back again:
// once the claim is published the frame may be allocated again, so its refcnt tells nothing.
//
// This touches only the dead worker's block and cache, the host's cache and stats block, and
// frames no other thread can reach; the other workers keep running.

import {
  eh, ehAddr, EH_FREE_RING, EH_QUEUES, EH_RECORDS_RING, EH_TX_QUEUES, EH_W_BURST, EH_W_FRAMES, EH_W_RECORDS, EH_W_STAGE, EH_W_TX, EH_WORKERS, statsBlock, txHold,
  TXH_COUNTED, TXH_LIST, TXH_RELEASED, WC_BURST_COUNT, WC_SOURCE_FIRST, WC_SOURCE_N, WC_SOURCE_PHASE, WC_RECORD_COUNT, WC_RECORD_FIRST, WC_STAGE_COUNT, WC_TMP_FIRST,
  WC_TMP_LIST, WC_TMP_N, WC_TMP_RING, WC_TX_COUNT, workerBlock,
} from '../engine-map';
import { NEXT_NONE } from '../meta';
import { frameRecover, PC_CAPACITY, PC_CLAIM, PC_COUNT, PC_SLOTS, poolCache, poolFlush } from '../pool';
import { C_DEQUEUED, C_HEAD, C_TAIL, P_ENQUEUED, P_HEAD, P_TAIL, R_FLAGS, R_MASK, R_SLOT_BYTES, RING_F_MC, RING_F_MP, RING_HEADER, ringEnqueueBurst32 } from '../ring';
import { statAdd, statDrop, STAT_DROP_HANDLER_ERROR, STAT_TX_DROPPED } from '../stats';
import { BURST_KEPT, REC_FRAME, REC_KIND, TX_NONE } from './journal';

export const CLAIM_RING: usize = 0;
export const CLAIM_HEAD: usize = 4;
export const CLAIM_COUNT: usize = 8;
export const CLAIM_SKIP: usize = 12;
export const CLAIM_BYTES: usize = 16;

/** Slot i of `ring` after `head`. */
@inline function claimSlot(ring: usize, head: u32, i: u32): usize {
  return ring + RING_HEADER + <usize>((head + i) & load<u32>(ring, R_MASK)) * <usize>load<u32>(ring, R_SLOT_BYTES);
}

/**
 * Takes the ring claim worker w left open out of its pool cache's claim record into the open
 * claim record at `claim`: a producer's items go into their claimed slots now (the worker's
 * lists are reused by its successor); a consumer's stay in the slots until claimSettle. A claim
 * on the free ring from the worker's own cache also fixes the cache's count (those slots are the
 * ring's; the count store never ran). Returns 1 when there was a claim to settle, else 0 (the
 * record then says none).
 */
export function recoverClaim(ctx: usize, w: u32, claim: usize): u32 {
  const cache = poolCache(ctx, w);
  const rec = cache + PC_CLAIM;
  const word = load<u32>(rec);
  store<u32>(claim, 0, CLAIM_RING);
  store<u32>(claim, 0, CLAIM_HEAD);
  store<u32>(claim, 0, CLAIM_COUNT);
  store<u32>(claim, NEXT_NONE, CLAIM_SKIP);
  if (word == 0) return 0;
  const ring = <usize>(word & ~1);
  const consumer = (word & 1) != 0;
  const list = <usize>load<u32>(rec, 4);
  const head = load<u32>(rec, 8);
  const count = load<u32>(rec, 12);
  memory.fill(rec, 0, 16);
  const slotBytes = <usize>load<u32>(ring, R_SLOT_BYTES);
  const free = ehAddr(ctx, EH_FREE_RING);
  if (!consumer) {
    if (list != 0) {
      for (let i: u32 = 0; i < count; i++) memory.copy(claimSlot(ring, head, i), list + <usize>i * slotBytes, slotBytes);
      const slots = cache + PC_SLOTS;
      if (ring == free && list >= slots && list < slots + (<usize>load<u32>(cache, PC_CAPACITY) << 2)) store<u32>(cache, <u32>((list - slots) >> 2), PC_COUNT);
    } else store<u32>(claim, load<u32>(claimSlot(ring, head, 0)), CLAIM_SKIP);
  }
  store<u32>(claim, word, CLAIM_RING);
  store<u32>(claim, head, CLAIM_HEAD);
  store<u32>(claim, count, CLAIM_COUNT);
  return 1;
}

/**
 * Publishes the open claim at `claim` when its turn has come (the ring's tail on its side has
 * reached its head): counts it, moves the tail past it and wakes any sleeper. A consumer's
 * claimed items are put back on the ring (through `scratch`, room for count u32): the dead
 * consumer never took them. Returns 1 when published (or there is none), 0 while earlier
 * claimers have not published yet.
 */
export function claimSettle(claim: usize, scratch: usize): u32 {
  const word = load<u32>(claim, CLAIM_RING);
  if (word == 0) return 1;
  const ring = <usize>(word & ~1);
  const consumer = (word & 1) != 0;
  const head = load<u32>(claim, CLAIM_HEAD);
  const count = load<u32>(claim, CLAIM_COUNT);
  const tail = ring + (consumer ? C_TAIL : P_TAIL);
  if (atomic.load<u32>(tail) != head) return 0;
  if (consumer) for (let i: u32 = 0; i < count; i++) store<u32>(scratch + (<usize>i << 2), load<u32>(claimSlot(ring, head, i)));
  const counter = ring + (consumer ? C_DEQUEUED : P_ENQUEUED);
  store<u64>(counter, load<u64>(counter) + count);
  // A multi-producer (consumer) side moved its head in the claim's compare-and-swap; a single one
  // moves it in the publish, which the dead thread never reached: its head still reads `head`, and
  // the side's next thread (the dead one's replacement) would claim the same slots again and
  // write over the items published here. So the publish moves the head too, as the dead one would.
  if ((load<u32>(ring, R_FLAGS) & (consumer ? RING_F_MC : RING_F_MP)) == 0) store<u32>(ring + (consumer ? C_HEAD : P_HEAD), head + count);
  atomic.store<u32>(tail, head + count);
  atomic.notify(tail);
  if (consumer && count > 0) ringEnqueueBurst32(ring, scratch, count);
  return 1;
}

/**
 * Releases the frames of list entries [from, to) for a dead worker, but those of BURST_KEPT entries
 * (their records hold them). Returns the frames released.
 */
function recoverList(ctx: usize, host: usize, list: usize, from: u32, to: u32, skip: u32): u32 {
  let released: u32 = 0;
  for (let i = from; i < to; i++) {
    const e = load<u32>(list + (<usize>i << 2));
    if (e & BURST_KEPT) continue;
    frameRecover(ctx, host, e, skip);
    released++;
  }
  return released;
}

/**
 * Releases every frame dead worker w held, as its journal names them, to the pool through the
 * host's cache, after recoverClaim took its claim into `claim`. Frames whose fate was not
 * counted yet count as handler_error (the worker failed them), staged forwards as tx_dropped,
 * both in the host's stats block; transmit hold lists w drained are closed up; w's journal is
 * cleared and its pool cache flushed. Returns the frames recovered (held + flushed).
 */
export function recoverWorker(ctx: usize, w: u32, claim: usize): u32 {
  const wb = workerBlock(ctx, w);
  const workers = eh(ctx, EH_WORKERS);
  const host = poolCache(ctx, workers);
  const word = load<u32>(claim, CLAIM_RING);
  const claimRing: u32 = (word & 1) != 0 ? 0 : word & ~1;
  const claimCount = load<u32>(claim, CLAIM_COUNT);
  const skip = load<u32>(claim, CLAIM_SKIP);
  let failed: u64 = 0;
  let txDropped: u64 = 0;
  let held: u32 = 0;
  // source: sourcePoll's frames (phase 0: not received yet, the records are replayed again; 1: received;
  // 2: counted ring_full).
  const frames = wb + ehAddr(ctx, EH_W_FRAMES);
  const srcN = load<u32>(wb, WC_SOURCE_N);
  const srcFirst = load<u32>(wb, WC_SOURCE_FIRST);
  for (let i = srcFirst; i < srcN; i++) frameRecover(ctx, host, load<u32>(frames + (<usize>i << 2)), skip);
  if (srcN > srcFirst) {
    if (load<u32>(wb, WC_SOURCE_PHASE) == 1) failed += srcN - srcFirst;
    held += srcN - srcFirst;
  }
  // stage: ingest's burst off the rx ring; entries that left read NEXT_NONE.
  const stageN = load<u32>(wb, WC_STAGE_COUNT);
  for (let i: u32 = 0; i < stageN; i++) {
    const f = load<u32>(frames + (<usize>i << 2));
    if (f == NEXT_NONE) continue;
    frameRecover(ctx, host, f, skip);
    failed++;
    held++;
  }
  // tmp: frames leaving through the burst list (to an in ring) or the stage list (to a tx ring).
  const tmpN = load<u32>(wb, WC_TMP_N);
  const ring = load<u32>(wb, WC_TMP_RING);
  const tx = load<u32>(wb, WC_TMP_LIST) == 1;
  const tmp = wb + ehAddr(ctx, tx ? EH_W_STAGE : EH_W_BURST);
  let first = load<u32>(wb, WC_TMP_FIRST);
  if (ring != 0) first = claimRing == ring ? min(tmpN, claimCount) : 0;
  const released = recoverList(ctx, host, tmp, first, tmpN, skip);
  if (tmpN > first && ring != 0) {
    if (tx) txDropped += tmpN - first;
    else failed += tmpN - first;
  }
  held += released;
  // staged forwards not moved yet: no reference of their own (flushTx takes it), never sent.
  const txN = load<u32>(wb, WC_TX_COUNT);
  const txList = wb + ehAddr(ctx, EH_W_TX);
  for (let i: u32 = 0; i < txN; i++) if (load<u32>(txList + (<usize>i << 2)) != TX_NONE) txDropped++;
  // burst: the handler's, failed with it (kept frames are their records').
  const n = load<u32>(wb, WC_BURST_COUNT);
  held += recoverList(ctx, host, wb + ehAddr(ctx, EH_W_BURST), 0, n, skip);
  failed += n;
  // records staged and not published: the frames they hold (REC_KEEP ones hold none yet).
  const recs = load<u32>(wb, WC_RECORD_COUNT);
  const recFirst = claimRing == eh(ctx, EH_RECORDS_RING) ? claimCount : load<u32>(wb, WC_RECORD_FIRST);
  const records = wb + ehAddr(ctx, EH_W_RECORDS);
  for (let i = recFirst; i < recs; i++) {
    const r = load<u64>(records + (<usize>i << 3));
    if ((r & REC_KIND) == REC_FRAME) frameRecover(ctx, host, <u32>r, skip);
  }
  // transmit hold lists this worker drained: finish the releases it counted, close the list up.
  const txQueues = eh(ctx, EH_TX_QUEUES);
  for (let q = w; q < txQueues; q += workers) {
    const hold = txHold(ctx, q);
    const counted = load<u32>(hold, TXH_COUNTED);
    if (counted == 0) continue;
    const list = hold + TXH_LIST;
    for (let i = load<u32>(hold, TXH_RELEASED); i < counted; i++) frameRecover(ctx, host, load<u32>(list + (<usize>i << 2)), skip);
    const count = load<u32>(hold);
    if (counted < count) memory.copy(list, list + (<usize>counted << 2), <usize>(count - counted) << 2);
    store<u32>(hold, count - counted);
    store<u32>(hold, 0, TXH_COUNTED);
    store<u32>(hold, 0, TXH_RELEASED);
  }
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + workers);
  if (failed) statDrop(block, STAT_DROP_HANDLER_ERROR, failed);
  if (txDropped) statAdd(block, STAT_TX_DROPPED, txDropped);
  // The journal: every word from the burst count to the record first, except the worker's state,
  // seen generation and poll count.
  store<u32>(wb, 0, WC_BURST_COUNT);
  store<u32>(wb, 0, WC_RECORD_COUNT);
  store<u32>(wb, 0, WC_STAGE_COUNT);
  store<u32>(wb, 0, WC_TX_COUNT);
  memory.fill(wb + WC_SOURCE_N, 0, WC_RECORD_FIRST + 4 - WC_SOURCE_N);
  return held + poolFlush(ctx, poolCache(ctx, w));
}
