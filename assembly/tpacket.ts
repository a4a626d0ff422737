// The engine's side of AF_PACKET's PACKET_MMAP rings (mapped into the shared memory by
// native/afpacket.cc): TPACKET_V3 receive (the kernel fills whole blocks of packets and hands a
// block over at once), TPACKET_V2 receive (one frame per packet, handed over one by one) and the
// TPACKET_V2 transmit ring. No packet byte is copied: each received packet gets a metadata record
// whose `data` points into the ring.
//
// Ownership is a status word the two sides pass back and forth (Documentation/networking/
// packet_mmap.rst). The kernel writes a block or frame, then sets TP_STATUS_USER with a release
// store (smp_wmb + store); we read the status with an acquire load before touching the contents,
// and give it back by storing TP_STATUS_KERNEL after we are done with the contents. WASM atomics
// are sequentially consistent, which is at least acquire/release, so atomic.load / atomic.store
// on the status words are the barriers. They are paid once per block (V3) or frame (V2), and the
// returns once per burst.
//
// Queue state block (one per queue, owned by the one thread that receives on that queue):
//
// | off | type | field                                                         |
// |-----|------|---------------------------------------------------------------|
// | 0   | u32  | version: 2 or 3                                               |
// | 4   | u32  | ring: address of the RX ring in the memory                    |
// | 8   | u32  | unit: block size (V3) or frame size (V2), bytes               |
// | 12  | u32  | count: blocks (V3) or frames (V2)                             |
// | 16  | u32  | cur: block (V3) / frame (V2) being read                       |
// | 20  | u32  | rel: first block / frame not yet given back to the kernel     |
// | 24  | u32  | left: V3, packets not yet read in block cur                   |
// | 28  | u32  | off: V3, offset of the next packet in block cur               |
// | 32  | u32  | open: V3, 1 when block cur is ours and being read              |
// | 36  | u32  | queue id written into the records                             |
// | 40  | u32  | records: address of `burst` 64-byte metadata records          |
// | 44  | u32  | held: frames of the last burst (V2: frames to give back)      |
// | 48  | u64  | rx packets   | 56 | u64 | rx bytes                             |
// | 64  | u32  | txRing: address of the TX ring (0: none)                      |
// | 68  | u32  | txFrameSize | 72 | u32 | txFrameCount | 76 | u32 | txHead    |
// | 80  | u32  | txReserved: slots handed out by the last reserve              |
// | 88  | u64  | tx packets   | 96 | u64 | tx bytes                             |
// | 104 | u32  | holders: engine zero-copy, address of the block holder lines (0: off) |
// | 108 | u32  | txInflight: engine transmit, slots before txHead the kernel has not sent yet |

import { writeCapture } from './capture';
import { eh, ehAddr, EH_EXT_BASE, EH_EXT_BYTES, EH_EXT_HOLDERS, EH_EXT_SHIFT, EH_EXT_STRIDE, EH_RX_TIME, frameData, frameMeta, statsBlock } from './engine-map';
import { META_CAPLEN, META_DATA } from './meta';
import { frameRelease, poolAlloc } from './pool';
import { rxPublish } from './dispatch';
import { ringEnqueueBurst32 } from './ring';
import { statAdd, statDrop, STAT_DROP_POOL_EMPTY, STAT_DROP_RING_FULL, STAT_RX_BYTES, STAT_RX_PACKETS, STAT_TX_BYTES, STAT_TX_DROPPED, STAT_TX_PACKETS } from './stats';
import { txHold, txHoldDone, txHoldFill, txHoldShape } from './txhold';

export const TP_STATE_BYTES: usize = 128;
const S_VERSION: usize = 0;
const S_RING: usize = 4;
const S_UNIT: usize = 8;
const S_COUNT: usize = 12;
const S_CUR: usize = 16;
const S_REL: usize = 20;
const S_LEFT: usize = 24;
const S_OFF: usize = 28;
const S_OPEN: usize = 32;
const S_QUEUE: usize = 36;
const S_RECORDS: usize = 40;
const S_HELD: usize = 44;
const S_RX: usize = 48;
const S_RX_BYTES: usize = 56;
const S_TX_RING: usize = 64;
const S_TX_FRAME: usize = 68;
const S_TX_COUNT: usize = 72;
const S_TX_HEAD: usize = 76;
const S_TX_RESERVED: usize = 80;
const S_TX: usize = 88;
const S_TX_BYTES: usize = 96;
const S_HOLDERS: usize = 104;
const S_TX_INFLIGHT: usize = 108;

// linux/if_packet.h
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1 << 0;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1 << 0;
const TP_STATUS_WRONG_FORMAT: u32 = 1 << 2;

// struct tpacket_block_desc (V3): version u32, offset_to_priv u32, then tpacket_hdr_v1:
const BLK_STATUS: usize = 8;
const BLK_NUM_PKTS: usize = 12;
const BLK_FIRST: usize = 16;
// struct tpacket3_hdr
const H3_NEXT: usize = 0;
const H3_SEC: usize = 4;
const H3_NSEC: usize = 8;
const H3_SNAPLEN: usize = 12;
const H3_LEN: usize = 16;
const H3_STATUS: usize = 20;
const H3_MAC: usize = 24;
const H3_VLAN_TCI: usize = 32;
// struct tpacket2_hdr
const H2_STATUS: usize = 0;
const H2_LEN: usize = 4;
const H2_SNAPLEN: usize = 8;
const H2_MAC: usize = 12;
const H2_SEC: usize = 16;
const H2_NSEC: usize = 20;
const H2_VLAN_TCI: usize = 24;
/** TX data starts at TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 52 - 20 (no PACKET_TX_HAS_OFF). */
export const TP_TX_DATA_OFFSET: usize = 32;

// @ts-ignore: decorator
@inline
function next(i: u32, count: u32): u32 {
  return i + 1 == count ? 0 : i + 1;
}

/** Sets up a queue's state block; ring addresses and sizes come from the host's open(). */
export function tpacketInit(st: usize, version: u32, ring: usize, unit: u32, count: u32, queue: u32, records: usize,
  txRing: usize, txFrameSize: u32, txFrameCount: u32): void {
  memory.fill(st, 0, TP_STATE_BYTES);
  store<u32>(st, version, S_VERSION);
  store<u32>(st, <u32>ring, S_RING);
  store<u32>(st, unit, S_UNIT);
  store<u32>(st, count, S_COUNT);
  store<u32>(st, queue, S_QUEUE);
  store<u32>(st, <u32>records, S_RECORDS);
  store<u32>(st, <u32>txRing, S_TX_RING);
  store<u32>(st, txFrameSize, S_TX_FRAME);
  store<u32>(st, txFrameCount, S_TX_COUNT);
}

/**
 * Receives up to `max` packets: writes a metadata record per packet into the queue's records
 * and its address into `out` (u32 each). Gives the previous burst back first. Returns the count.
 */
export function tpacketRx(st: usize, out: usize, max: u32): u32 {
  tpacketRelease(st);
  return load<u32>(st, S_VERSION) == 3 ? rxV3(st, out, max) : rxV2(st, out, max);
}

function rxV3(st: usize, out: usize, max: u32): u32 {
  const ring = <usize>load<u32>(st, S_RING);
  const unit = load<u32>(st, S_UNIT);
  const count = load<u32>(st, S_COUNT);
  const rel = load<u32>(st, S_REL);
  const queue = load<u32>(st, S_QUEUE);
  const records = <usize>load<u32>(st, S_RECORDS);
  let cur = load<u32>(st, S_CUR);
  let left = load<u32>(st, S_LEFT);
  let off = load<u32>(st, S_OFF);
  let open = load<u32>(st, S_OPEN);
  let bytes: u64 = 0;
  let n: u32 = 0;
  while (n < max) {
    if (left == 0) {
      if (open) {
        // Block cur is read to its end; it stays ours (its packets may be in this burst) until
        // release. Never hold every block: the kernel needs one to write into, and rel == cur
        // must keep meaning "nothing held".
        const nxt = next(cur, count);
        if (nxt == rel) break;
        cur = nxt;
        open = 0;
      }
      const blk = ring + <usize>cur * unit;
      // Acquire: the kernel fills the block, then publishes it with TP_STATUS_USER; nothing in
      // the block may be read before this load sees that bit.
      if ((atomic.load<u32>(blk, BLK_STATUS) & TP_STATUS_USER) == 0) break;
      left = load<u32>(blk, BLK_NUM_PKTS);
      off = load<u32>(blk, BLK_FIRST);
      open = 1;
      continue;
    }
    const hdr = ring + <usize>cur * unit + off;
    const status = load<u32>(hdr, H3_STATUS);
    const caplen = load<u32>(hdr, H3_SNAPLEN);
    const ts = <u64>load<u32>(hdr, H3_SEC) * 1_000_000_000 + <u64>load<u32>(hdr, H3_NSEC);
    const vlan: u32 = status & TP_STATUS_VLAN_VALID ? <u32>load<u16>(hdr, H3_VLAN_TCI) & 0xfff : 0xffff;
    const m = records + (<usize>n << 6);
    writeCapture(m, hdr + <usize>load<u16>(hdr, H3_MAC), caplen, load<u32>(hdr, H3_LEN), ts, queue, vlan);
    store<u32>(out + (<usize>n << 2), <u32>m);
    bytes += caplen;
    off += load<u32>(hdr, H3_NEXT);
    left--;
    n++;
  }
  store<u32>(st, cur, S_CUR);
  store<u32>(st, left, S_LEFT);
  store<u32>(st, off, S_OFF);
  store<u32>(st, open, S_OPEN);
  store<u32>(st, n, S_HELD);
  store<u64>(st, load<u64>(st, S_RX) + n, S_RX);
  store<u64>(st, load<u64>(st, S_RX_BYTES) + bytes, S_RX_BYTES);
  return n;
}

function rxV2(st: usize, out: usize, max: u32): u32 {
  const ring = <usize>load<u32>(st, S_RING);
  const unit = load<u32>(st, S_UNIT);
  const count = load<u32>(st, S_COUNT);
  const queue = load<u32>(st, S_QUEUE);
  const records = <usize>load<u32>(st, S_RECORDS);
  let cur = load<u32>(st, S_CUR);
  let bytes: u64 = 0;
  let n: u32 = 0;
  if (max > count) max = count;
  while (n < max) {
    const hdr = ring + <usize>cur * unit;
    // Acquire: the frame's header and bytes are the kernel's until this load sees TP_STATUS_USER.
    const status = atomic.load<u32>(hdr, H2_STATUS);
    if ((status & TP_STATUS_USER) == 0) break;
    const caplen = load<u32>(hdr, H2_SNAPLEN);
    const ts = <u64>load<u32>(hdr, H2_SEC) * 1_000_000_000 + <u64>load<u32>(hdr, H2_NSEC);
    const vlan: u32 = status & TP_STATUS_VLAN_VALID ? <u32>load<u16>(hdr, H2_VLAN_TCI) & 0xfff : 0xffff;
    const m = records + (<usize>n << 6);
    writeCapture(m, hdr + <usize>load<u16>(hdr, H2_MAC), caplen, load<u32>(hdr, H2_LEN), ts, queue, vlan);
    store<u32>(out + (<usize>n << 2), <u32>m);
    bytes += caplen;
    cur = next(cur, count);
    n++;
  }
  store<u32>(st, cur, S_CUR);
  store<u32>(st, n, S_HELD);
  store<u64>(st, load<u64>(st, S_RX) + n, S_RX);
  store<u64>(st, load<u64>(st, S_RX_BYTES) + bytes, S_RX_BYTES);
  return n;
}

/** Gives the blocks (V3) or frames (V2) of the last burst back to the kernel. */
export function tpacketRelease(st: usize): void {
  const ring = <usize>load<u32>(st, S_RING);
  const unit = load<u32>(st, S_UNIT);
  const count = load<u32>(st, S_COUNT);
  let rel = load<u32>(st, S_REL);
  if (load<u32>(st, S_VERSION) == 3) {
    const cur = load<u32>(st, S_CUR);
    // Release: our reads of a block's packets are complete before the kernel may refill it.
    while (rel != cur) {
      atomic.store<u32>(ring + <usize>rel * unit, TP_STATUS_KERNEL, BLK_STATUS);
      rel = next(rel, count);
    }
    if (load<u32>(st, S_OPEN) && load<u32>(st, S_LEFT) == 0) {
      atomic.store<u32>(ring + <usize>cur * unit, TP_STATUS_KERNEL, BLK_STATUS);
      rel = next(cur, count);
      store<u32>(st, rel, S_CUR);
      store<u32>(st, 0, S_OPEN);
    }
  } else {
    let held = load<u32>(st, S_HELD);
    // Release: the same, per frame.
    while (held > 0) {
      atomic.store<u32>(ring + <usize>rel * unit, TP_STATUS_KERNEL, H2_STATUS);
      rel = next(rel, count);
      held--;
    }
  }
  store<u32>(st, rel, S_REL);
  store<u32>(st, 0, S_HELD);
}

/**
 * Reserves up to `n` TX ring slots: writes the address where each frame's bytes go into `out`.
 * Returns how many are free (a slot is free again once the kernel has sent it).
 */
export function tpacketTxReserve(st: usize, out: usize, n: u32): u32 {
  const ring = <usize>load<u32>(st, S_TX_RING);
  const size = load<u32>(st, S_TX_FRAME);
  const count = load<u32>(st, S_TX_COUNT);
  let head = load<u32>(st, S_TX_HEAD);
  let k: u32 = 0;
  if (n > count) n = count;
  while (k < n) {
    const slot = ring + <usize>head * size;
    // Acquire: the kernel hands a slot back by clearing its status after it sent the frame.
    const status = atomic.load<u32>(slot);
    if (status != TP_STATUS_AVAILABLE && status != TP_STATUS_WRONG_FORMAT) break;
    store<u32>(out + (<usize>k << 2), <u32>(slot + TP_TX_DATA_OFFSET));
    head = next(head, count);
    k++;
  }
  store<u32>(st, k, S_TX_RESERVED);
  return k;
}

/** Hands the first `k` reserved slots to the kernel with the lengths at `lens`; returns k. */
export function tpacketTxSubmit(st: usize, lens: usize, k: u32): u32 {
  const ring = <usize>load<u32>(st, S_TX_RING);
  const size = load<u32>(st, S_TX_FRAME);
  const count = load<u32>(st, S_TX_COUNT);
  let head = load<u32>(st, S_TX_HEAD);
  const reserved = load<u32>(st, S_TX_RESERVED);
  if (k > reserved) k = reserved;
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < k; i++) {
    const slot = ring + <usize>head * size;
    const len = load<u32>(lens + (<usize>i << 2));
    store<u32>(slot, len, H2_LEN);
    store<u32>(slot, len, H2_SNAPLEN);
    // Release: the frame bytes and its length are visible before the kernel sees the request.
    atomic.store<u32>(slot, TP_STATUS_SEND_REQUEST, H2_STATUS);
    head = next(head, count);
    bytes += len;
  }
  store<u32>(st, head, S_TX_HEAD);
  store<u32>(st, 0, S_TX_RESERVED);
  store<u64>(st, load<u64>(st, S_TX) + k, S_TX);
  store<u64>(st, load<u64>(st, S_TX_BYTES) + bytes, S_TX_BYTES);
  return k;
}

/** TX slots the kernel has not finished with (0 when everything submitted was sent). */
export function tpacketTxPending(st: usize): u32 {
  const ring = <usize>load<u32>(st, S_TX_RING);
  const size = load<u32>(st, S_TX_FRAME);
  const count = load<u32>(st, S_TX_COUNT);
  let pending: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const s = atomic.load<u32>(ring + <usize>i * size);
    if (s != TP_STATUS_AVAILABLE && s != TP_STATUS_WRONG_FORMAT) pending++;
  }
  return pending;
}

/** Packets waiting (V3: in the open or next block; V2: consecutive ready frames, up to 16). No state changes. */
export function tpacketRxReady(st: usize): u32 {
  const ring = <usize>load<u32>(st, S_RING);
  const unit = load<u32>(st, S_UNIT);
  const count = load<u32>(st, S_COUNT);
  let cur = load<u32>(st, S_CUR);
  if (load<u32>(st, S_VERSION) == 3) {
    if (load<u32>(st, S_OPEN)) {
      const left = load<u32>(st, S_LEFT);
      if (left > 0) return left;
      cur = next(cur, count);
    }
    // Engine zero-copy: a block still held reads USER from before; it is not new.
    const holders = <usize>load<u32>(st, S_HOLDERS);
    if (holders != 0 && atomic.load<u32>(holders + (<usize>cur << 6)) != 0) return 0;
    const blk = ring + <usize>cur * unit;
    return atomic.load<u32>(blk, BLK_STATUS) & TP_STATUS_USER ? load<u32>(blk, BLK_NUM_PKTS) : 0;
  }
  // V2: the walker only needs to know whether a burst is worth taking (16, the coalescing
  // threshold): each frame header is a cache miss, so look no further.
  let n: u32 = 0;
  while (n < 16 && n < count && atomic.load<u32>(ring + <usize>cur * unit, H2_STATUS) & TP_STATUS_USER) {
    cur = next(cur, count);
    n++;
  }
  return n;
}

// ─── Zero-copy engine source (TPACKET_V3) ─────────────────────────────────────────────────────
//
// Each packet of a V3 block becomes an engine frame without a copy: a pool frame serves as its
// descriptor only (as DPDK's rte_pktmbuf_attach_extbuf), its metadata `data` pointing at the
// packet inside the kernel's block; the frame's own slot stays unused. A block goes back to the
// kernel when the last frame describing one of its packets is released, on whatever thread that
// happens (frameRelease -> extDetach).
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

const HELD: u32 = 0x80000000;

// @ts-ignore: decorator
@inline
function blockPut(holder: usize, blk: usize, n: u32): void {
  if (atomic.sub<u32>(holder, n) == (HELD | n)) {
    atomic.store<u32>(blk, TP_STATUS_KERNEL, BLK_STATUS);
    atomic.store<u32>(holder, 0);
  }
}

/**
 * Called for every frame going back to the pool (assembly/pool.ts poolPut): when its data lies
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

/** Engine zero-copy mode for a V3 queue: its `count` holder lines at `holders` (zeroed here). */
export function tpacketEngineInit(st: usize, holders: usize): void {
  memory.fill(holders, 0, <usize>load<u32>(st, S_COUNT) << 6);
  store<u32>(st, <u32>holders, S_HOLDERS);
}

/**
 * One burst of queue `q` into the engine, zero-copy: up to `max` packets become pool frames
 * (allocated through `cache`, their indexes in `list`, rx time `nowNs`) whose data points into
 * the block, put on the engine's rx ring q. A frame the rx ring has no room for is released
 * (ring_full). When the pool has no frame the walk stops there and the packets wait in the
 * block: the kernel then drops at a full ring, and counts it. Returns the frames received.
 */
export function tpacketEngineRx(st: usize, ctx: usize, q: u32, cache: usize, list: usize, max: u32, nowNs: f64): u32 {
  const ring = <usize>load<u32>(st, S_RING);
  const unit = load<u32>(st, S_UNIT);
  const count = load<u32>(st, S_COUNT);
  const holders = <usize>load<u32>(st, S_HOLDERS);
  const rxTime = ehAddr(ctx, EH_RX_TIME);
  const nowInt = <u64>nowNs;
  let cur = load<u32>(st, S_CUR);
  let left = load<u32>(st, S_LEFT);
  let off = load<u32>(st, S_OFF);
  let open = load<u32>(st, S_OPEN);
  let bytes: u64 = 0;
  let n: u32 = 0;
  let have: u32 = 0;
  while (n < max) {
    if (left == 0) {
      if (open) {
        // Every packet of block cur is handed out: the walker's own hold goes.
        blockPut(holders + (<usize>cur << 6), ring + <usize>cur * unit, 1);
        cur = next(cur, count);
        open = 0;
      }
      const h = holders + (<usize>cur << 6);
      // Held since the last lap: its USER status is the old one (see the protocol above).
      if (atomic.load<u32>(h) != 0) break;
      const blk = ring + <usize>cur * unit;
      if ((atomic.load<u32>(blk, BLK_STATUS) & TP_STATUS_USER) == 0) break;
      left = load<u32>(blk, BLK_NUM_PKTS);
      off = load<u32>(blk, BLK_FIRST);
      atomic.store<u32>(h, HELD | (left + 1));
      open = 1;
      continue;
    }
    if (have == 0) {
      const want = max - n < left ? max - n : left;
      have = poolAlloc(ctx, cache, list + (<usize>n << 2), want);
      if (have == 0) break;
    }
    const f = load<u32>(list + (<usize>n << 2));
    const hdr = ring + <usize>cur * unit + off;
    const status = load<u32>(hdr, H3_STATUS);
    const caplen = load<u32>(hdr, H3_SNAPLEN);
    const ts = <u64>load<u32>(hdr, H3_SEC) * 1_000_000_000 + <u64>load<u32>(hdr, H3_NSEC);
    const vlan: u32 = status & TP_STATUS_VLAN_VALID ? <u32>load<u16>(hdr, H3_VLAN_TCI) & 0xfff : 0xffff;
    const wirelen = load<u32>(hdr, H3_LEN);
    writeCapture(frameMeta(ctx, f), hdr + <usize>load<u16>(hdr, H3_MAC), caplen, wirelen, ts, q, vlan);
    store<u64>(rxTime + (<usize>f << 3), nowInt);
    bytes += wirelen;
    off += load<u32>(hdr, H3_NEXT);
    left--;
    have--;
    n++;
  }
  if (open && left == 0) {
    // Read to its end: do not keep the block for the next call (the feeder may sleep first).
    blockPut(holders + (<usize>cur << 6), ring + <usize>cur * unit, 1);
    cur = next(cur, count);
    open = 0;
  }
  store<u32>(st, cur, S_CUR);
  store<u32>(st, left, S_LEFT);
  store<u32>(st, off, S_OFF);
  store<u32>(st, open, S_OPEN);
  if (n == 0) return 0;
  store<u64>(st, load<u64>(st, S_RX) + n, S_RX);
  store<u64>(st, load<u64>(st, S_RX_BYTES) + bytes, S_RX_BYTES);
  rxPublish(ctx, q, cache, list, n, <u64>bytes);
  return n;
}

/**
 * At stop, after the last tpacketEngineRx: packets of the open block that found no pool frame are
 * counted as received and dropped (pool_empty), and the walker lets go of the block. Returns them.
 */
export function tpacketEngineStop(st: usize, ctx: usize, q: u32): u32 {
  if (load<u32>(st, S_OPEN) == 0) return 0;
  const cur = load<u32>(st, S_CUR);
  const left = load<u32>(st, S_LEFT);
  blockPut(<usize>load<u32>(st, S_HOLDERS) + (<usize>cur << 6), <usize>load<u32>(st, S_RING) + <usize>cur * load<u32>(st, S_UNIT), left + 1);
  store<u32>(st, 0, S_OPEN);
  store<u32>(st, 0, S_LEFT);
  store<u32>(st, next(cur, load<u32>(st, S_COUNT)), S_CUR);
  if (left) {
    const qs = statsBlock(ctx, q);
    statAdd(qs, STAT_RX_PACKETS, left);
    statDrop(qs, STAT_DROP_POOL_EMPTY, left);
  }
  return left;
}

/**
 * Engine zero-copy: 1 when poll() on the socket can sleep. The kernel reports POLLIN while the
 * block before the one it fills is not TP_STATUS_KERNEL (af_packet.c packet_poll), so while the
 * engine holds that block, poll() returns at once and the feeder must sleep by the clock instead.
 */
export function tpacketEnginePollable(st: usize): u32 {
  const count = load<u32>(st, S_COUNT);
  const cur = load<u32>(st, S_CUR);
  const prev = cur == 0 ? count - 1 : cur - 1;
  return atomic.load<u32>(<usize>load<u32>(st, S_HOLDERS) + (<usize>prev << 6)) == 0 ? 1 : 0;
}

/** Blocks of the queue held by the engine (frames describing their packets, or being walked). */
export function tpacketEngineHeld(st: usize): u32 {
  const holders = <usize>load<u32>(st, S_HOLDERS);
  const count = load<u32>(st, S_COUNT);
  let n: u32 = 0;
  for (let k: u32 = 0; k < count; k++) if (atomic.load<u32>(holders + (<usize>k << 6)) != 0) n++;
  return n;
}

// ─── Engine transmit ──────────────────────────────────────────────────────────────────────────
//
// The frames handlers forward go out through the queue's TPACKET_V2 TX ring, run by the feeder
// (which owns the socket) in place of the workers' txDrain (the engine sets the header's tx queue
// count to 0), with the same hold list and token bucket (assembly/txhold.ts). Each frame is copied
// into a TX slot and released to the pool at once, so a zero-copy frame gives its RX block back
// as soon as it is on its way. A slot is the kernel's from SEND_REQUEST until it clears the status
// after sending; tpacket_snd walks the ring in order from its head, so the slots not sent yet are
// the `txInflight` ones just before txHead, and the oldest of them is the next to come back.
// A full TX ring holds frames in the hold list (shaping delays, it does not drop); a frame the
// kernel would reject (shorter than an Ethernet header, longer than a slot) is counted tx_dropped:
// left in the ring as TP_STATUS_WRONG_FORMAT, it would stop the kernel's walk for good.

/** Ethernet header: the kernel's minimum for a frame on the TX ring (dev->hard_header_len). */
const TX_MIN_LEN: u32 = 14;

/**
 * Transmit queue `q` of the engine on this socket: counts the slots the kernel sent, then takes
 * frames off the engine's tx ring q into its hold list and copies as many as the shaper and the
 * free slots allow into the TX ring, releasing each through `cache`. Returns the frames still
 * held or not sent yet, plus 1 << 31 when the kernel needs a send().
 */
export function tpacketEngineTx(st: usize, ctx: usize, q: u32, cache: usize, nowNs: f64): u32 {
  const ring = <usize>load<u32>(st, S_TX_RING);
  const size = load<u32>(st, S_TX_FRAME);
  const count = load<u32>(st, S_TX_COUNT);
  let head = load<u32>(st, S_TX_HEAD);
  const was = load<u32>(st, S_TX_INFLIGHT);
  let inflight = was;
  while (inflight > 0) {
    // Acquire: the kernel is done with the slot's bytes once it clears the status.
    const s = atomic.load<u32>(ring + <usize>((head + count - inflight) & (count - 1)) * size);
    if (s != TP_STATUS_AVAILABLE && s != TP_STATUS_WRONG_FORMAT) break;
    inflight--;
  }
  const n = txHoldFill(ctx, q);
  let k: u32 = 0;
  let sent: u32 = 0;
  if (n > 0) {
    k = txHoldShape(ctx, q, n, count - inflight, nowNs);
    const list = txHold(ctx, q) + 64;
    const cap = size - <u32>TP_TX_DATA_OFFSET;
    let bytes: u64 = 0;
    for (let i: u32 = 0; i < k; i++) {
      const f = load<u32>(list + (<usize>i << 2));
      const m = frameMeta(ctx, f);
      const len = load<u32>(m, META_CAPLEN);
      if (len >= TX_MIN_LEN && len <= cap) {
        const slot = ring + <usize>head * size;
        memory.copy(slot + TP_TX_DATA_OFFSET, <usize>load<u32>(m, META_DATA), len);
        store<u32>(slot, len, H2_LEN);
        store<u32>(slot, len, H2_SNAPLEN);
        // Release: the bytes and lengths are visible before the kernel sees the request.
        atomic.store<u32>(slot, TP_STATUS_SEND_REQUEST, H2_STATUS);
        head = next(head, count);
        bytes += len;
        sent++;
      }
      frameRelease(ctx, cache, f);
    }
    txHoldDone(ctx, q, k);
    inflight += sent;
    store<u32>(st, head, S_TX_HEAD);
    const qs = statsBlock(ctx, q);
    if (sent) {
      statAdd(qs, STAT_TX_PACKETS, sent);
      statAdd(qs, STAT_TX_BYTES, bytes);
      store<u64>(st, load<u64>(st, S_TX) + sent, S_TX);
      store<u64>(st, load<u64>(st, S_TX_BYTES) + bytes, S_TX_BYTES);
    }
    if (k > sent) statAdd(qs, STAT_TX_DROPPED, <u64>(k - sent));
  }
  // Kick for new slots, and again when none came back since the last call: a send() the device
  // refused (ENOBUFS, a full queue) leaves its slots requested, and only another send() retries.
  const kick = sent > 0 || (inflight > 0 && inflight == was);
  store<u32>(st, inflight, S_TX_INFLIGHT);
  return (n - k + inflight) | (<u32>kick << 31);
}

/** Engine transmit: slots of this queue's TX ring the kernel has not sent yet. */
export function tpacketEngineTxInflight(st: usize): u32 {
  return load<u32>(st, S_TX_INFLIGHT);
}
