// An engine map built in the spec's own memory, as host/layout.ts and the host's setup would
// write it, small enough for a unit test: `frames` pool frames, `workers` workers (+ the host's
// cache), `queues` receive/transmit queues with their rx and tx rings, transmit hold lists and
// unlimited shapers, stats blocks, worker blocks and a records ring. Every address is a fresh
// allocation; nothing is shared between two engines.

import {
  EH_BURST, EH_CACHE_BYTES, EH_CACHES, EH_CLASSES, EH_EXT_BASE, EH_EXT_BYTES, EH_EXT_HOLDERS, EH_EXT_SHIFT, EH_EXT_STRIDE, EH_FRAME_COUNT, EH_FRAME_SIZE,
  EH_FRAMES, EH_FREE_RING, EH_META, EH_QUEUES, EH_RECORDS_RING, EH_RING_TABLE, EH_RX_TIME, EH_SHAPERS, EH_STATS, EH_TX_HOLD, EH_TX_QUEUES, EH_W_BURST,
  EH_W_FRAMES, EH_W_RECORDS, EH_W_STAGE, EH_W_TX, EH_WORKER_BLOCKS, EH_WORKER_BYTES, EH_WORKERS, ENGINE_MAGIC, RT_IN, RT_RX, RT_TX, TX_HOLD_BYTES,
  txShaper, EH_DPDK_BASE, EH_DPDK_COUNT, EH_DPDK_RETURN, EH_DPDK_RETURN_STRIDE, frameMeta,
} from '../engine-map';
import { META_NEXT, META_QUEUE, META_REFCNT, NEXT_NONE } from '../meta';
import { poolInit } from '../pool';
import { ringInit, RING_F_MC, RING_F_MP, RING_HEADER } from '../ring';
import { SHAPER_BYTES, shaperInit } from '../shaper';
import { STATS_BLOCK_BYTES } from '../stats';

export const FRAME_SIZE: u32 = 2048;
export const BURST: u32 = 32;
export const CACHE_SIZE: u32 = 4;
export const RX_SLOTS: u32 = 64;
export const WORKER_BYTES: u32 = 4096;

/** `bytes` of zeroed memory aligned to 64 (a cache line: rings require it). */
export function zeroed(bytes: usize): usize {
  const p = (heap.alloc(bytes + 64) + 63) & ~<usize>63;
  memory.fill(p, 0, bytes);
  return p;
}

function ring(slots: u32, slotBytes: u32, flags: u32): usize {
  const r = zeroed(RING_HEADER + <usize>slots * slotBytes);
  ringInit(r, slots, slotBytes, flags);
  return r;
}

/** A ready engine map (pool formatted); returns its ctx. */
export function fakeEngine(frames: u32, workers: u32, queues: u32): usize {
  const ctx = zeroed(512);
  store<u32>(ctx, ENGINE_MAGIC);
  store<u32>(ctx + EH_WORKERS, workers);
  store<u32>(ctx + EH_QUEUES, queues);
  store<u32>(ctx + EH_CLASSES, 1);
  store<u32>(ctx + EH_BURST, BURST);
  store<u32>(ctx + EH_FRAME_SIZE, FRAME_SIZE);
  store<u32>(ctx + EH_FRAME_COUNT, frames);
  store<u32>(ctx + EH_FRAMES, <u32>zeroed(<usize>frames * FRAME_SIZE));
  store<u32>(ctx + EH_META, <u32>zeroed(<usize>frames << 6));
  let slots: u32 = 2;
  while (slots < frames) slots <<= 1;
  store<u32>(ctx + EH_FREE_RING, <u32>zeroed(RING_HEADER + (<usize>slots << 2)));
  store<u32>(ctx + EH_RECORDS_RING, <u32>ring(64, 8, RING_F_MP));
  store<u32>(ctx + EH_STATS, <u32>zeroed(<usize>(queues + workers + 1) * STATS_BLOCK_BYTES));
  store<u32>(ctx + EH_RX_TIME, <u32>zeroed(<usize>frames << 3));
  const cacheBytes: u32 = 64 + CACHE_SIZE * 2 * 4;
  store<u32>(ctx + EH_CACHES, <u32>zeroed(<usize>(workers + 1) * cacheBytes));
  store<u32>(ctx + EH_CACHE_BYTES, cacheBytes);
  store<u32>(ctx + EH_SHAPERS, <u32>zeroed(128 * SHAPER_BYTES));
  store<u32>(ctx + EH_TX_HOLD, <u32>zeroed(<usize>queues * TX_HOLD_BYTES));
  store<u32>(ctx + EH_TX_QUEUES, queues);
  store<u32>(ctx + EH_WORKER_BLOCKS, <u32>zeroed(<usize>workers * WORKER_BYTES));
  store<u32>(ctx + EH_WORKER_BYTES, WORKER_BYTES);
  // Worker block: control line, then its lists (offsets from the block).
  store<u32>(ctx + EH_W_BURST, 64);
  store<u32>(ctx + EH_W_FRAMES, 64 + 256);
  store<u32>(ctx + EH_W_STAGE, 64 + 512);
  store<u32>(ctx + EH_W_TX, 64 + 768);
  store<u32>(ctx + EH_W_RECORDS, 64 + 1024);
  const table = zeroed(4096);
  store<u32>(ctx + EH_RING_TABLE, <u32>table);
  for (let q: u32 = 0; q < queues; q++) {
    store<u32>(table + RT_RX + (<usize>q << 2), <u32>ring(RX_SLOTS, 4, 0));
    store<u32>(table + RT_TX + (<usize>q << 2), <u32>ring(RX_SLOTS, 4, RING_F_MP));
    shaperInit(txShaper(ctx, q), 0, 1, 0, 1, 0);
  }
  for (let w: u32 = 0; w < workers; w++) store<u32>(table + RT_IN + (<usize>(w << 8) << 2), <u32>ring(RX_SLOTS, 4, RING_F_MP | RING_F_MC));
  poolInit(ctx, CACHE_SIZE);
  return ctx;
}

/** Declares the kernel ring region [base, base + bytes) (one queue) whose packets frames may describe. */
export function fakeExtRegion(ctx: usize, base: usize, bytes: u32, blockShift: u32, holders: u32): void {
  store<u32>(ctx + EH_EXT_BASE, <u32>base);
  store<u32>(ctx + EH_EXT_BYTES, bytes);
  store<u32>(ctx + EH_EXT_STRIDE, bytes);
  store<u32>(ctx + EH_EXT_SHIFT, blockShift);
  store<u32>(ctx + EH_EXT_HOLDERS, holders);
}

/**
 * A ready engine map whose frames `frames` .. `frames + dpdk - 1` are DPDK mbufs, with one return
 * ring (multi-producer, a slot for every DPDK frame) per queue, `dpdkReturnStride` apart.
 */
export function fakeEngineWithDpdk(frames: u32, dpdk: u32, workers: u32, queues: u32): usize {
  const ctx = fakeEngine(frames, workers, queues);
  const meta = zeroed(<usize>(frames + dpdk) << 6);
  memory.copy(meta, <usize>load<u32>(ctx + EH_META), <usize>frames << 6);
  store<u32>(ctx + EH_META, <u32>meta);
  const stride = dpdkReturnStride(dpdk);
  const rings = zeroed(<usize>queues * stride);
  for (let q: u32 = 0; q < queues; q++) ringInit(rings + <usize>q * stride, dpdk, 4, RING_F_MP);
  store<u32>(ctx + EH_DPDK_RETURN, <u32>rings);
  store<u32>(ctx + EH_DPDK_RETURN_STRIDE, <u32>stride);
  store<u32>(ctx + EH_DPDK_BASE, frames);
  store<u32>(ctx + EH_DPDK_COUNT, dpdk);
  return ctx;
}

export function dpdkReturnStride(dpdk: u32): usize {
  return RING_HEADER + (<usize>dpdk << 2);
}

/** What the poll thread writes for a received DPDK frame: one holder, no chain, its queue. */
export function dpdkReceived(ctx: usize, f: u32, q: u32): void {
  const m = frameMeta(ctx, f);
  store<u32>(m, 1, META_REFCNT);
  store<u32>(m, NEXT_NONE, META_NEXT);
  store<u32>(m, q, META_QUEUE);
}
