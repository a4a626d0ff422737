// Recovery of a dead worker from its journal and claim record, on a fake engine: the journal and
// the claim are written here as a worker ended at that instruction would have left them.
import { claimSettle, CLAIM_BYTES, CLAIM_SKIP, recoverClaim, recoverWorker } from './recover';
import { eh, EH_DPDK_RETURN, EH_QUEUES, EH_WORKERS, EH_W_BURST, EH_W_FRAMES, EH_W_RECORDS, ehAddr, frameMeta, inRing, statsBlock, WC_BURST_COUNT, WC_RECORD_COUNT, WC_STAGE_COUNT, WC_TMP_N, WC_TMP_RING, workerBlock } from '../engine-map';
import { META_REFCNT, NEXT_NONE } from '../meta';
import { poolAlloc, poolAvailable, poolCache, poolFlush, PC_CLAIM } from '../pool';
import { C_HEAD, C_TAIL, P_HEAD, P_TAIL, ringCount, ringDequeueBurst32, ringEnqueueBurst32, ringInit, RING_HEADER } from '../ring';
import { STAT_DROPS, STAT_DROP_HANDLER_ERROR } from '../stats';
import { BURST_KEPT, REC_FRAME, REC_KEEP } from './journal';
import { dpdkReceived, fakeEngine, fakeEngineWithDpdk, zeroed } from '../testing/fake-engine';

const FRAMES: u32 = 64;

function handlerErrors(ctx: usize): u64 {
  const host = statsBlock(ctx, eh(ctx, EH_QUEUES) + eh(ctx, EH_WORKERS));
  return load<u64>(host, STAT_DROPS + (<usize>STAT_DROP_HANDLER_ERROR << 3));
}

/** Every frame is in the pool exactly once: allocating them all gives every index. */
function expectPoolWhole(ctx: usize): void {
  for (let c: u32 = 0; c <= eh(ctx, EH_WORKERS); c++) poolFlush(ctx, poolCache(ctx, c));
  const all = zeroed(4 * FRAMES);
  expect(poolAlloc(ctx, poolCache(ctx, 0), all, FRAMES)).toBe(FRAMES);
  const seen = zeroed(FRAMES);
  for (let i: u32 = 0; i < FRAMES; i++) store<u8>(seen + load<u32>(all + (<usize>i << 2)), 1);
  let distinct: u32 = 0;
  for (let i: u32 = 0; i < FRAMES; i++) distinct += load<u8>(seen + i);
  expect(distinct).toBe(FRAMES);
}

describe('recoverWorker', () => {
  it('gives back the burst, the stage list and the staged records, and counts the unfinished as handler_error', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    const wb = workerBlock(ctx, 1);
    const cache = poolCache(ctx, 1);
    const burst = wb + ehAddr(ctx, EH_W_BURST);
    const stage = wb + ehAddr(ctx, EH_W_FRAMES);
    expect(poolAlloc(ctx, cache, burst, 3)).toBe(3);
    store<u32>(wb, 3, WC_BURST_COUNT);
    expect(poolAlloc(ctx, cache, stage, 1)).toBe(1);
    store<u32>(stage + 4, NEXT_NONE); // the second left the stage list already (released or moved on)
    store<u32>(wb, 2, WC_STAGE_COUNT);
    // Two records: one holding its own reference (REC_FRAME), one as keep() staged it (none).
    const recs = wb + ehAddr(ctx, EH_W_RECORDS);
    const f0 = load<u32>(burst);
    const f1 = load<u32>(burst + 4);
    atomic.add<u32>(frameMeta(ctx, f0) + META_REFCNT, 1);
    store<u64>(recs, REC_FRAME | <u64>f0);
    store<u64>(recs + 8, REC_KEEP | <u64>f1);
    store<u32>(wb, 2, WC_RECORD_COUNT);
    const before = poolAvailable(ctx);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 1, claim)).toBe(0);
    expect(load<u32>(claim, CLAIM_SKIP)).toBe(NEXT_NONE);
    recoverWorker(ctx, 1, claim);
    // 3 burst + 1 stage frames, f0 once more for its record: all back, nothing twice.
    expect(poolAvailable(ctx)).toBe(before + 4);
    expect(poolAvailable(ctx)).toBe(FRAMES);
    expect(handlerErrors(ctx)).toBe(4);
    expectPoolWhole(ctx);
    expect(load<u32>(wb, WC_BURST_COUNT)).toBe(0);
    expect(load<u32>(wb, WC_RECORD_COUNT)).toBe(0);
  });
});

/**
 * Worker 1 of a fresh engine ended in flushRecords: a burst of 2 frames whose first (returned) was
 * kept, its burst entry marked BURST_KEPT and record 0 given the burst's reference. Each test adds
 * what else the records held, then recover() finishes the worker, as the host would.
 */
function keptBurst(ctx: usize): u32 {
  const wb = workerBlock(ctx, 1);
  const burst = wb + ehAddr(ctx, EH_W_BURST);
  expect(poolAlloc(ctx, poolCache(ctx, 1), burst, 2)).toBe(2);
  store<u32>(wb, 2, WC_BURST_COUNT);
  const f0 = load<u32>(burst);
  store<u32>(burst, f0 | BURST_KEPT);
  store<u64>(wb + ehAddr(ctx, EH_W_RECORDS), REC_FRAME | <u64>f0);
  store<u32>(wb, 1, WC_RECORD_COUNT);
  return f0;
}

function recover(ctx: usize): void {
  const claim = zeroed(CLAIM_BYTES);
  recoverClaim(ctx, 1, claim);
  recoverWorker(ctx, 1, claim);
}

/** Appends a record to worker 1's staged records. */
function addRecord(ctx: usize, r: u64): void {
  const wb = workerBlock(ctx, 1);
  const n = load<u32>(wb, WC_RECORD_COUNT);
  store<u64>(wb + ehAddr(ctx, EH_W_RECORDS) + (<usize>n << 3), r);
  store<u32>(wb, n + 1, WC_RECORD_COUNT);
}

describe('recoverWorker: kept frames', () => {
  it('releases a kept frame once, through its record, not through the burst entry that gave the reference', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    keptBurst(ctx);
    recover(ctx);
    expect(poolAvailable(ctx)).toBe(FRAMES);
    expect(handlerErrors(ctx)).toBe(2);
    expectPoolWhole(ctx);
  });

  it('a frame kept twice: both records released, the kept burst entry skipped, the frame back in the pool once', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    const f0 = keptBurst(ctx);
    // The second record of the frame took a reference of its own.
    atomic.store<u32>(frameMeta(ctx, f0) + META_REFCNT, 2);
    addRecord(ctx, REC_FRAME | <u64>f0);
    recover(ctx);
    expect(poolAvailable(ctx)).toBe(FRAMES);
    expectPoolWhole(ctx);
  });

  it('a frame kept twice, the worker ended before the second record took its reference: released once', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    keptBurst(ctx);
    // The second keep of burst slot 0, still as the handler staged it: no reference of its own.
    addRecord(ctx, REC_KEEP | 0);
    recover(ctx);
    expect(poolAvailable(ctx)).toBe(FRAMES);
    expectPoolWhole(ctx);
  });

  it('skips kept entries of the burst list as the tmp journal (complete releasing the rest)', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    const wb = workerBlock(ctx, 1);
    const cache = poolCache(ctx, 1);
    const burst = wb + ehAddr(ctx, EH_W_BURST);
    expect(poolAlloc(ctx, cache, burst, 3)).toBe(3);
    // complete() counted the burst and ended before its release loop; frame 1 went to a record
    // already on the records ring (the main thread's: held here for it).
    const f1 = load<u32>(burst + 4);
    store<u32>(burst + 4, f1 | BURST_KEPT);
    store<u32>(wb, 3, WC_TMP_N);
    const claim = zeroed(CLAIM_BYTES);
    recoverClaim(ctx, 1, claim);
    const before = poolAvailable(ctx);
    recoverWorker(ctx, 1, claim);
    expect(poolAvailable(ctx)).toBe(before + 2);
    expect(handlerErrors(ctx)).toBe(0);
    expect(atomic.load<u32>(frameMeta(ctx, f1) + META_REFCNT)).toBe(1);
  });
});

describe('recoverClaim / claimSettle', () => {
  it('finishes an enqueue the worker claimed but never published, after the earlier claimer publishes', () => {
    const ctx = fakeEngine(FRAMES, 2, 1);
    const wb = workerBlock(ctx, 1);
    const cache = poolCache(ctx, 1);
    const ring = inRing(ctx, 0, 0, 0);
    const tmp = wb + ehAddr(ctx, EH_W_BURST);
    expect(poolAlloc(ctx, cache, tmp, 3)).toBe(3);
    // An earlier claimer holds slot 0 unpublished; the dead worker claimed [1, 3) for two of its frames.
    store<u32>(ring + P_HEAD, 3);
    store<u64>(cache + PC_CLAIM, (<u64>tmp << 32) | <u64>ring);
    store<u64>(cache + PC_CLAIM + 8, (<u64>2 << 32) | 1);
    store<u32>(wb, <u32>ring, WC_TMP_RING);
    store<u32>(wb, 3, WC_TMP_N);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 1, claim)).toBe(1);
    expect(load<u64>(cache + PC_CLAIM)).toBe(0);
    const scratch = zeroed(256);
    expect(claimSettle(claim, scratch)).toBe(0); // slot 0's claimer has not published
    store<u32>(ring + 256, 63); // ... which it now does
    atomic.store<u32>(ring + P_TAIL, 1);
    expect(claimSettle(claim, scratch)).toBe(1);
    expect(load<u32>(ring + P_TAIL)).toBe(3);
    expect(ringCount(ring)).toBe(3);
    const out = zeroed(16);
    expect(ringDequeueBurst32(ring, out, 4)).toBe(3);
    expect(load<u32>(out + 4)).toBe(load<u32>(tmp));
    expect(load<u32>(out + 8)).toBe(load<u32>(tmp + 4));
    // The journal's third frame never went in: released and counted as failed.
    const before = poolAvailable(ctx);
    recoverWorker(ctx, 1, claim);
    expect(poolAvailable(ctx)).toBe(before + 1);
    expect(handlerErrors(ctx)).toBe(1);
  });

  it('puts a consumer claim back on the ring for the next consumer', () => {
    const ctx = fakeEngine(FRAMES, 1, 1);
    const items = zeroed(32);
    store<u32>(items, 7);
    store<u32>(items + 4, 8);
        const r = inRing(ctx, 0, 0, 0);
    expect(ringEnqueueBurst32(r, items, 2)).toBe(2);
    // The dead consumer claimed both (consumer head moved), never published its tail.
    store<u32>(r + 128, 2);
    const cache = poolCache(ctx, 0);
    store<u64>(cache + PC_CLAIM, <u64>(r | 1));
    store<u64>(cache + PC_CLAIM + 8, (<u64>2 << 32) | 0);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 0, claim)).toBe(1);
    expect(claimSettle(claim, zeroed(64))).toBe(1);
    const out = zeroed(16);
    expect(ringDequeueBurst32(r, out, 4)).toBe(2);
    expect(load<u32>(out)).toBe(7);
    expect(load<u32>(out + 4)).toBe(8);
  });

  // A single-producer ring (an in ring of a worker pair, a tx ring with one worker) moves its head
  // in the publish, not in the claim: a producer ended inside its copy leaves the head where it
  // was. Publishing only the tail would leave the head behind it, and the next producer would
  // write its burst over the recovered one.
  it('finishes a claim on a single-producer ring: the next producer enqueues after it, not over it', () => {
    const ctx = fakeEngine(FRAMES, 1, 1);
    const ring = zeroed(RING_HEADER + 16 * 4);
    expect(ringInit(ring, 16, 4, 0)).toBe(0);
    const items = zeroed(32);
    store<u32>(items, 5);
    expect(ringEnqueueBurst32(ring, items, 1)).toBe(1);
    // The dead producer filed its claim for [1, 3) and copied part of it: head and tail still 1.
    store<u32>(items, 11);
    store<u32>(items + 4, 12);
    const cache = poolCache(ctx, 0);
    store<u64>(cache + PC_CLAIM, (<u64>items << 32) | <u64>ring);
    store<u64>(cache + PC_CLAIM + 8, (<u64>2 << 32) | 1);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 0, claim)).toBe(1);
    expect(claimSettle(claim, zeroed(64))).toBe(1);
    expect(load<u32>(ring + P_TAIL)).toBe(3);
    expect(load<u32>(ring + P_HEAD)).toBe(3);
    // Its replacement produces on.
    const next = zeroed(16);
    store<u32>(next, 13);
    expect(ringEnqueueBurst32(ring, next, 1)).toBe(1);
    const out = zeroed(32);
    expect(ringDequeueBurst32(ring, out, 8)).toBe(4);
    expect(load<u32>(out)).toBe(5);
    expect(load<u32>(out + 4)).toBe(11);
    expect(load<u32>(out + 8)).toBe(12);
    expect(load<u32>(out + 12)).toBe(13);
  });

  it('puts a single-consumer claim back once: the next consumer reads each item once', () => {
    const ctx = fakeEngine(FRAMES, 1, 1);
    const ring = zeroed(RING_HEADER + 16 * 4);
    expect(ringInit(ring, 16, 4, 0)).toBe(0);
    const items = zeroed(32);
    store<u32>(items, 7);
    store<u32>(items + 4, 8);
    expect(ringEnqueueBurst32(ring, items, 2)).toBe(2);
    // The dead consumer filed its claim for [0, 2) and was copying: a single consumer's head
    // moves in its release, so it is still 0.
    const cache = poolCache(ctx, 0);
    store<u64>(cache + PC_CLAIM, <u64>(ring | 1));
    store<u64>(cache + PC_CLAIM + 8, (<u64>2 << 32) | 0);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 0, claim)).toBe(1);
    expect(claimSettle(claim, zeroed(64))).toBe(1);
    expect(load<u32>(ring + C_HEAD)).toBe(load<u32>(ring + C_TAIL));
    const out = zeroed(32);
    expect(ringDequeueBurst32(ring, out, 8)).toBe(2);
    expect(load<u32>(out)).toBe(7);
    expect(load<u32>(out + 4)).toBe(8);
  });
});

describe('recovery of a DPDK frame returned through a claim', () => {
  it('a worker ended inside the return of a DPDK frame: the claim puts it back once, recovery does not put it back again', () => {
    const POOL: u32 = 64;
    const DPDK: u32 = 32;
    const ctx = fakeEngineWithDpdk(POOL, DPDK, 1, 1);
    const wb = workerBlock(ctx, 0);
    const cache = poolCache(ctx, 0);
    const ret = <usize>load<u32>(ctx + EH_DPDK_RETURN);
    // The worker's burst holds DPDK frame f, its only holder; its release reached the return ring:
    // it claimed slot 0, wrote f there (list 0: a single frame, already in its slot) and was ended
    // before publishing (e.g. waiting for an earlier producer's tail).
    const f = POOL + 5;
    dpdkReceived(ctx, f, 0);
    store<u32>(wb + ehAddr(ctx, EH_W_BURST), f);
    store<u32>(wb, 1, WC_BURST_COUNT);
    store<u32>(ret + RING_HEADER, f);
    store<u32>(ret + P_HEAD, 1);
    store<u64>(cache + PC_CLAIM, <u64>ret);
    store<u64>(cache + PC_CLAIM + 8, (<u64>1 << 32) | 0);
    const claim = zeroed(CLAIM_BYTES);
    expect(recoverClaim(ctx, 0, claim)).toBe(1);
    expect(load<u32>(claim, CLAIM_SKIP)).toBe(f);
    expect(claimSettle(claim, zeroed(64))).toBe(1);
    expect(ringCount(ret)).toBe(1);
    // The poll thread may receive f again at once: its refcnt then reads 1, as if the worker held it.
    dpdkReceived(ctx, f, 0);
    recoverWorker(ctx, 0, claim);
    expect(ringCount(ret)).toBe(1);
    expect(handlerErrors(ctx)).toBe(1);
    expect(load<u32>(frameMeta(ctx, f) + META_REFCNT)).toBe(1);
  });
});
