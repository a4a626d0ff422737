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

import { fillRxMeta } from '../meta';
import {
  BLK_FIRST, BLK_NUM_PKTS, BLK_STATUS, H2_LEN, H2_MAC, H2_NSEC, H2_SEC, H2_SNAPLEN, H2_STATUS, H2_VLAN_TCI, H3_LEN, H3_MAC, H3_NEXT, H3_NSEC, H3_SEC,
  H3_SNAPLEN, H3_STATUS, H3_VLAN_TCI, TP_STATUS_AVAILABLE, TP_STATUS_KERNEL, TP_STATUS_SEND_REQUEST, TP_STATUS_USER, TP_STATUS_VLAN_VALID, TP_STATUS_WRONG_FORMAT,
} from './uapi';

export const TP_STATE_BYTES: usize = 128;
export const TPS_VERSION: usize = 0;
export const TPS_RING: usize = 4;
export const TPS_UNIT: usize = 8;
export const TPS_COUNT: usize = 12;
export const TPS_CUR: usize = 16;
export const TPS_REL: usize = 20;
export const TPS_LEFT: usize = 24;
export const TPS_OFF: usize = 28;
export const TPS_OPEN: usize = 32;
export const TPS_QUEUE: usize = 36;
export const TPS_RECORDS: usize = 40;
export const TPS_HELD: usize = 44;
export const TPS_RX: usize = 48;
export const TPS_RX_BYTES: usize = 56;
export const TPS_TX_RING: usize = 64;
export const TPS_TX_FRAME: usize = 68;
export const TPS_TX_COUNT: usize = 72;
export const TPS_TX_HEAD: usize = 76;
export const TPS_TX_RESERVED: usize = 80;
export const TPS_TX: usize = 88;
export const TPS_TX_BYTES: usize = 96;
export const TPS_HOLDERS: usize = 104;
export const TPS_TX_INFLIGHT: usize = 108;

/** TX data starts at TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 52 - 20 (no PACKET_TX_HAS_OFF). */
export const TP_TX_DATA_OFFSET: usize = 32;

// @ts-ignore: decorator
@inline
export function next(i: u32, count: u32): u32 {
  return i + 1 == count ? 0 : i + 1;
}

/**
 * Fills the metadata record `m` for the TPACKET_V3 packet whose header is at `hdr`, received on
 * `queue`, and returns its length on the wire. Every walker's byte counter adds that length, not
 * the captured one: a packet cut short by the snap length still crossed the link whole, and so the
 * engine's stats, the AF_XDP walker and the kernel's own interface counters count it.
 */
// @ts-ignore: decorator
@inline
export function v3Packet(m: usize, hdr: usize, queue: u32): u32 {
  const status = load<u32>(hdr, H3_STATUS);
  const ts = <u64>load<u32>(hdr, H3_SEC) * 1_000_000_000 + <u64>load<u32>(hdr, H3_NSEC);
  const vlan: u32 = status & TP_STATUS_VLAN_VALID ? <u32>load<u16>(hdr, H3_VLAN_TCI) & 0xfff : 0xffff;
  const wirelen = load<u32>(hdr, H3_LEN);
  fillRxMeta(m, hdr + <usize>load<u16>(hdr, H3_MAC), load<u32>(hdr, H3_SNAPLEN), wirelen, ts, queue, vlan);
  return wirelen;
}

/**
 * Where a V3 walker stopped in the ring, kept in the state block between bursts: block `cur`,
 * `left` packets not yet read in it from offset `off`, `open` while the block is being read.
 */
// @ts-ignore: decorator
@inline
export function v3Save(st: usize, cur: u32, left: u32, off: u32, open: u32): void {
  store<u32>(st, cur, TPS_CUR);
  store<u32>(st, left, TPS_LEFT);
  store<u32>(st, off, TPS_OFF);
  store<u32>(st, open, TPS_OPEN);
}

/** Adds a burst to the walker's receive counters (`bytes` on the wire). */
// @ts-ignore: decorator
@inline
export function countRx(st: usize, n: u32, bytes: u64): void {
  store<u64>(st, load<u64>(st, TPS_RX) + n, TPS_RX);
  store<u64>(st, load<u64>(st, TPS_RX_BYTES) + bytes, TPS_RX_BYTES);
}

/** Sets up a queue's state block; ring addresses and sizes come from the host's open(). */
export function tpacketInit(st: usize, version: u32, ring: usize, unit: u32, count: u32, queue: u32, records: usize,
  txRing: usize, txFrameSize: u32, txFrameCount: u32): void {
  memory.fill(st, 0, TP_STATE_BYTES);
  store<u32>(st, version, TPS_VERSION);
  store<u32>(st, <u32>ring, TPS_RING);
  store<u32>(st, unit, TPS_UNIT);
  store<u32>(st, count, TPS_COUNT);
  store<u32>(st, queue, TPS_QUEUE);
  store<u32>(st, <u32>records, TPS_RECORDS);
  store<u32>(st, <u32>txRing, TPS_TX_RING);
  store<u32>(st, txFrameSize, TPS_TX_FRAME);
  store<u32>(st, txFrameCount, TPS_TX_COUNT);
}

/**
 * Receives up to `max` packets: writes a metadata record per packet into the queue's records
 * and its address into `out` (u32 each). Gives the previous burst back first. Returns the count.
 */
export function tpacketRx(st: usize, out: usize, max: u32): u32 {
  tpacketRelease(st);
  return load<u32>(st, TPS_VERSION) == 3 ? rxV3(st, out, max) : rxV2(st, out, max);
}

/**
 * The block a V3 walk reads from next (its address), with `left` and `off` in the state block saying
 * where in it; 0 when the kernel has handed over no block to read. A block read to its end stays ours until release (its
 * packets may be in this burst): the walk moves to the next one, which the kernel must have handed
 * over. Never hold every block: the kernel needs one to write into, and rel == cur must keep
 * meaning "nothing held".
 */
function v3Reading(st: usize): usize {
  const ring = <usize>load<u32>(st, TPS_RING);
  const unit = load<u32>(st, TPS_UNIT);
  let cur = load<u32>(st, TPS_CUR);
  if (load<u32>(st, TPS_LEFT) != 0) return ring + <usize>cur * unit;
  if (load<u32>(st, TPS_OPEN)) {
    const nxt = next(cur, load<u32>(st, TPS_COUNT));
    if (nxt == load<u32>(st, TPS_REL)) return 0;
    cur = nxt;
    v3Save(st, cur, 0, 0, 0);
  }
  const blk = ring + <usize>cur * unit;
  // Acquire: the kernel fills the block, then publishes it with TP_STATUS_USER; nothing in
  // the block may be read before this load sees that bit.
  if ((atomic.load<u32>(blk, BLK_STATUS) & TP_STATUS_USER) == 0) return 0;
  v3Save(st, cur, load<u32>(blk, BLK_NUM_PKTS), load<u32>(blk, BLK_FIRST), 1);
  return blk;
}

/** Block by block: the walk through a block's packets keeps its place in locals, the state block holds it between blocks. */
function rxV3(st: usize, out: usize, max: u32): u32 {
  const queue = load<u32>(st, TPS_QUEUE);
  const records = <usize>load<u32>(st, TPS_RECORDS);
  let bytes: u64 = 0;
  let n: u32 = 0;
  while (n < max) {
    const blk = v3Reading(st);
    if (blk == 0) break;
    const left = load<u32>(st, TPS_LEFT);
    const take = left < max - n ? left : max - n;
    let off = load<u32>(st, TPS_OFF);
    for (let i: u32 = 0; i < take; i++) {
      const hdr = blk + off;
      const m = records + (<usize>n << 6);
      bytes += v3Packet(m, hdr, queue);
      store<u32>(out + (<usize>n << 2), <u32>m);
      off += load<u32>(hdr, H3_NEXT);
      n++;
    }
    store<u32>(st, left - take, TPS_LEFT);
    store<u32>(st, off, TPS_OFF);
  }
  store<u32>(st, n, TPS_HELD);
  countRx(st, n, bytes);
  return n;
}

function rxV2(st: usize, out: usize, max: u32): u32 {
  const ring = <usize>load<u32>(st, TPS_RING);
  const unit = load<u32>(st, TPS_UNIT);
  const count = load<u32>(st, TPS_COUNT);
  const queue = load<u32>(st, TPS_QUEUE);
  const records = <usize>load<u32>(st, TPS_RECORDS);
  let cur = load<u32>(st, TPS_CUR);
  let bytes: u64 = 0;
  let n: u32 = 0;
  if (max > count) max = count;
  while (n < max) {
    const hdr = ring + <usize>cur * unit;
    // Acquire: the frame's header and bytes are the kernel's until this load sees TP_STATUS_USER.
    const status = atomic.load<u32>(hdr, H2_STATUS);
    if ((status & TP_STATUS_USER) == 0) break;
    const ts = <u64>load<u32>(hdr, H2_SEC) * 1_000_000_000 + <u64>load<u32>(hdr, H2_NSEC);
    const vlan: u32 = status & TP_STATUS_VLAN_VALID ? <u32>load<u16>(hdr, H2_VLAN_TCI) & 0xfff : 0xffff;
    const wirelen = load<u32>(hdr, H2_LEN);
    const m = records + (<usize>n << 6);
    fillRxMeta(m, hdr + <usize>load<u16>(hdr, H2_MAC), load<u32>(hdr, H2_SNAPLEN), wirelen, ts, queue, vlan);
    store<u32>(out + (<usize>n << 2), <u32>m);
    bytes += wirelen; // on the wire, as v3Packet says
    cur = next(cur, count);
    n++;
  }
  store<u32>(st, cur, TPS_CUR);
  store<u32>(st, n, TPS_HELD);
  countRx(st, n, bytes);
  return n;
}

/** Gives the blocks (V3) or frames (V2) of the last burst back to the kernel. */
export function tpacketRelease(st: usize): void {
  const ring = <usize>load<u32>(st, TPS_RING);
  const unit = load<u32>(st, TPS_UNIT);
  const count = load<u32>(st, TPS_COUNT);
  let rel = load<u32>(st, TPS_REL);
  if (load<u32>(st, TPS_VERSION) == 3) {
    const cur = load<u32>(st, TPS_CUR);
    // Release: our reads of a block's packets are complete before the kernel may refill it.
    while (rel != cur) {
      atomic.store<u32>(ring + <usize>rel * unit, TP_STATUS_KERNEL, BLK_STATUS);
      rel = next(rel, count);
    }
    if (load<u32>(st, TPS_OPEN) && load<u32>(st, TPS_LEFT) == 0) {
      atomic.store<u32>(ring + <usize>cur * unit, TP_STATUS_KERNEL, BLK_STATUS);
      rel = next(cur, count);
      store<u32>(st, rel, TPS_CUR);
      store<u32>(st, 0, TPS_OPEN);
    }
  } else {
    let held = load<u32>(st, TPS_HELD);
    // Release: the same, per frame.
    while (held > 0) {
      atomic.store<u32>(ring + <usize>rel * unit, TP_STATUS_KERNEL, H2_STATUS);
      rel = next(rel, count);
      held--;
    }
  }
  store<u32>(st, rel, TPS_REL);
  store<u32>(st, 0, TPS_HELD);
}

/**
 * Reserves up to `n` TX ring slots: writes the address where each frame's bytes go into `out`.
 * Returns how many are free (a slot is free again once the kernel has sent it).
 */
export function tpacketTxReserve(st: usize, out: usize, n: u32): u32 {
  const ring = <usize>load<u32>(st, TPS_TX_RING);
  const size = load<u32>(st, TPS_TX_FRAME);
  const count = load<u32>(st, TPS_TX_COUNT);
  let head = load<u32>(st, TPS_TX_HEAD);
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
  store<u32>(st, k, TPS_TX_RESERVED);
  return k;
}

/** Hands the first `k` reserved slots to the kernel with the lengths at `lens`; returns k. */
export function tpacketTxSubmit(st: usize, lens: usize, k: u32): u32 {
  const ring = <usize>load<u32>(st, TPS_TX_RING);
  const size = load<u32>(st, TPS_TX_FRAME);
  const count = load<u32>(st, TPS_TX_COUNT);
  let head = load<u32>(st, TPS_TX_HEAD);
  const reserved = load<u32>(st, TPS_TX_RESERVED);
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
  store<u32>(st, head, TPS_TX_HEAD);
  store<u32>(st, 0, TPS_TX_RESERVED);
  store<u64>(st, load<u64>(st, TPS_TX) + k, TPS_TX);
  store<u64>(st, load<u64>(st, TPS_TX_BYTES) + bytes, TPS_TX_BYTES);
  return k;
}

/** TX slots the kernel has not finished with (0 when everything submitted was sent). */
export function tpacketTxPending(st: usize): u32 {
  const ring = <usize>load<u32>(st, TPS_TX_RING);
  const size = load<u32>(st, TPS_TX_FRAME);
  const count = load<u32>(st, TPS_TX_COUNT);
  let pending: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const s = atomic.load<u32>(ring + <usize>i * size);
    if (s != TP_STATUS_AVAILABLE && s != TP_STATUS_WRONG_FORMAT) pending++;
  }
  return pending;
}

/** Packets waiting (V3: in the open or next block; V2: consecutive ready frames, up to 16). No state changes. */
export function tpacketRxReady(st: usize): u32 {
  const ring = <usize>load<u32>(st, TPS_RING);
  const unit = load<u32>(st, TPS_UNIT);
  const count = load<u32>(st, TPS_COUNT);
  let cur = load<u32>(st, TPS_CUR);
  if (load<u32>(st, TPS_VERSION) == 3) {
    if (load<u32>(st, TPS_OPEN)) {
      const left = load<u32>(st, TPS_LEFT);
      if (left > 0) return left;
      cur = next(cur, count);
    }
    // Engine zero-copy: a block still held reads USER from before; it is not new.
    const holders = <usize>load<u32>(st, TPS_HOLDERS);
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
