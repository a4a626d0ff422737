// Frames that describe bytes outside the pool. A pool frame may serve only as the descriptor of
// bytes a kernel ring owns (as DPDK's rte_pktmbuf_attach_extbuf): its metadata `data` points at
// a packet inside a TPACKET_V3 block and its own slot stays unused. The pool calls extDetach for
// every frame it takes back; a frame whose data lies in the engine map's ext region lets go of
// its block here, and the block goes back to the kernel when its last frame does, on whatever
// thread that happens. The walker that hands the blocks out is assembly/engine/tpacket.ts.
//
// Where the holder count lives. The kernel rewrites a block's whole header (version, offsets,
// num_pkts, blk_len, seq_num, timestamps) when it opens the block again (af_packet.c
// prb_open_block); only the optional private area (tp_sizeof_priv) is left to user space. A
// count kept in seq_num would be overwritten the moment the block is handed back, and then the
// walker could no longer tell a block still held from one the kernel filled again (both read
// TP_STATUS_USER). The private area would work, but asking for it is a socket option in
// native/afpacket.cc and puts engine state in pages the kernel maps. So the counts live in our
// own memory, one cache line per block, after the queue's I/O area (host/backends/afpacket.ts):
//
//   holder line of block k (64 B; the walker and every releaser of the block's frames write it)
//   +0  u32  0 = the kernel's block (or never seen) | HELD | frames of the block still held (+1
//            while the walker is still handing out its packets)
//
// Protocol (all atomics: sequentially consistent, so at least acquire/release):
//  - walker opens block k only if holder[k] == 0 (loaded first) and then block_status has
//    TP_STATUS_USER (acquire: the kernel's writes to the block are visible); it sets
//    holder[k] = HELD | (num_pkts + 1) before any frame of the block is published on a ring;
//  - every release subtracts; the one that brings it to HELD | 0 stores block_status =
//    TP_STATUS_KERNEL (release: every read of the block's packets happened before), then
//    holder[k] = 0. Seen from the walker, holder == 0 means the KERNEL store is done, so a
//    USER status it reads afterwards is the kernel's new fill, never the old one;
//  - blocks come back in any order. The kernel walks its blocks in ring order: it waits on a
//    block still held (the queue "freezes"), dropping what arrives meanwhile and counting it in
//    PACKET_STATISTICS tp_drops (tp_freeze_q_cnt counts the freezes), which the engine reports
//    as kernel drops. A block returned out of order simply waits until the kernel gets to it.
//    So a handler that keeps frames pins their blocks: keep() across bursts costs ring space.

import { eh, ehAddr, EH_EXT_BASE, EH_EXT_BYTES, EH_EXT_HOLDERS, EH_EXT_SHIFT, EH_EXT_STRIDE, frameData, frameMeta } from './engine-map';
import { META_DATA } from './meta';
import { BLK_STATUS, TP_STATUS_KERNEL } from './kernel/uapi';

/** Holder line bit: the block is the engine's; the low bits count the frames still holding it. */
export const HELD: u32 = 0x80000000;

// @ts-ignore: decorator
@inline
export function blockPut(holder: usize, blk: usize, n: u32): void {
  if (atomic.sub<u32>(holder, n) == (HELD | n)) {
    atomic.store<u32>(blk, TP_STATUS_KERNEL, BLK_STATUS);
    atomic.store<u32>(holder, 0);
  }
}

/**
 * Called for every frame going back to the pool (poolPut): when its data lies
 * in a kernel ring region, it lets go of its packet's block and points the frame at its own slot
 * again. One load and one compare for every other frame (ext bytes is 0 without zero-copy).
 */
// @ts-ignore: decorator
@inline
export function extDetach(ctx: usize, f: u32): void {
  const m = frameMeta(ctx, f);
  const off = load<u32>(m, META_DATA) - eh(ctx, EH_EXT_BASE);
  if (off < eh(ctx, EH_EXT_BYTES)) extRelease(ctx, m, f, off);
}

function extRelease(ctx: usize, m: usize, f: u32, off: u32): void {
  const stride = eh(ctx, EH_EXT_STRIDE);
  const q = off / stride;
  const region = ehAddr(ctx, EH_EXT_BASE) + <usize>q * <usize>stride;
  const shift = eh(ctx, EH_EXT_SHIFT);
  const k = <usize>((off - q * stride) >> shift);
  blockPut(region + <usize>eh(ctx, EH_EXT_HOLDERS) + (k << 6), region + (k << shift), 1);
  store<u32>(m, <u32>frameData(ctx, f), META_DATA);
}

