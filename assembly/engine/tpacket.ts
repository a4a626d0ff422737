// The engine's TPACKET source (zero-copy TPACKET_V3 receive) and transmit (TPACKET_V2 TX ring).
// The ring walking itself (state block, status words) is the standalone walker's
// (assembly/kernel/tpacket.ts); the block holder counts are assembly/extbuf.ts's.

import { EH_RX_TIME, ehAddr, frameMeta, statsBlock, TXH_LIST, txHold } from '../engine-map';
import { blockPut, HELD } from '../extbuf';
import { META_CAPLEN, META_DATA } from '../meta';
import { frameRelease, poolAlloc } from '../pool';
import { STAT_DROP_POOL_EMPTY, STAT_RX_PACKETS, STAT_TX_BYTES, STAT_TX_DROPPED, STAT_TX_PACKETS, statAdd, statDrop } from '../stats';
import { BLK_FIRST, BLK_NUM_PKTS, BLK_STATUS, H2_LEN, H2_SNAPLEN, H2_STATUS, H3_NEXT, TP_STATUS_AVAILABLE, TP_STATUS_KERNEL, TP_STATUS_SEND_REQUEST, TP_STATUS_USER, TP_STATUS_WRONG_FORMAT } from '../kernel/uapi';
import { countRx, next, TP_TX_DATA_OFFSET, TPS_COUNT, TPS_CUR, TPS_HOLDERS, TPS_LEFT, TPS_OFF, TPS_OPEN, TPS_RING, TPS_TX, TPS_TX_BYTES, TPS_TX_COUNT, TPS_TX_FRAME, TPS_TX_HEAD, TPS_TX_INFLIGHT, TPS_TX_RING, TPS_UNIT, v3Packet, v3Save } from '../kernel/tpacket';
import { rxPublish } from './rx';
import { txHoldDone, txHoldFill, txHoldShape } from './txhold';

// ─── Zero-copy engine source (TPACKET_V3) ─────────────────────────────────────────────────────
//
// Each packet of a V3 block becomes an engine frame without a copy: a pool frame serves as its
// descriptor only (as DPDK's rte_pktmbuf_attach_extbuf), its metadata `data` pointing at the
// packet inside the kernel's block; the frame's own slot stays unused. A block goes back to the
// kernel when the last frame describing one of its packets is released, on whatever thread that
// happens (frameRelease -> extDetach).
//
// Block holder counts and their release protocol: assembly/extbuf.ts.

/** Engine zero-copy mode for a V3 queue: its `count` holder lines at `holders` (zeroed here). */
export function tpacketEngineInit(st: usize, holders: usize): void {
  memory.fill(holders, 0, <usize>load<u32>(st, TPS_COUNT) << 6);
  store<u32>(st, <u32>holders, TPS_HOLDERS);
}

/**
 * One burst of queue `q` into the engine, zero-copy: up to `max` packets become pool frames
 * (allocated through `cache`, their indexes in `list`, rx time `nowNs`) whose data points into
 * the block, put on the engine's rx ring q. A frame the rx ring has no room for is released
 * (ring_full). When the pool has no frame the walk stops there and the packets wait in the
 * block: the kernel then drops at a full ring, and counts it. Returns the frames received.
 */
export function tpacketEngineRx(st: usize, ctx: usize, q: u32, cache: usize, list: usize, max: u32, nowNs: f64): u32 {
  const ring = <usize>load<u32>(st, TPS_RING);
  const unit = load<u32>(st, TPS_UNIT);
  const count = load<u32>(st, TPS_COUNT);
  const holders = <usize>load<u32>(st, TPS_HOLDERS);
  const rxTime = ehAddr(ctx, EH_RX_TIME);
  const nowInt = <u64>nowNs;
  let cur = load<u32>(st, TPS_CUR);
  let left = load<u32>(st, TPS_LEFT);
  let off = load<u32>(st, TPS_OFF);
  let open = load<u32>(st, TPS_OPEN);
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
    bytes += v3Packet(frameMeta(ctx, f), hdr, q);
    store<u64>(rxTime + (<usize>f << 3), nowInt);
    off += load<u32>(hdr, H3_NEXT);
    left--;
    have--;
    n++;
  }
  if (open && left == 0) {
    // Read to its end: do not keep the block for the next call (the host's poll loop may sleep first).
    blockPut(holders + (<usize>cur << 6), ring + <usize>cur * unit, 1);
    cur = next(cur, count);
    open = 0;
  }
  v3Save(st, cur, left, off, open);
  if (n == 0) return 0;
  countRx(st, n, bytes);
  rxPublish(ctx, q, cache, list, n, <u64>bytes);
  return n;
}

/**
 * At stop, after the last tpacketEngineRx: packets of the open block that found no pool frame are
 * counted as received and dropped (pool_empty), and the walker lets go of the block. Returns them.
 */
export function tpacketEngineStop(st: usize, ctx: usize, q: u32): u32 {
  if (load<u32>(st, TPS_OPEN) == 0) return 0;
  const cur = load<u32>(st, TPS_CUR);
  const left = load<u32>(st, TPS_LEFT);
  blockPut(<usize>load<u32>(st, TPS_HOLDERS) + (<usize>cur << 6), <usize>load<u32>(st, TPS_RING) + <usize>cur * load<u32>(st, TPS_UNIT), left + 1);
  store<u32>(st, 0, TPS_OPEN);
  store<u32>(st, 0, TPS_LEFT);
  store<u32>(st, next(cur, load<u32>(st, TPS_COUNT)), TPS_CUR);
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
 * engine holds that block, poll() returns at once and the host's poll loop must sleep by the clock instead.
 */
export function tpacketEnginePollable(st: usize): u32 {
  const count = load<u32>(st, TPS_COUNT);
  const cur = load<u32>(st, TPS_CUR);
  const prev = cur == 0 ? count - 1 : cur - 1;
  return atomic.load<u32>(<usize>load<u32>(st, TPS_HOLDERS) + (<usize>prev << 6)) == 0 ? 1 : 0;
}

/** Blocks of the queue held by the engine (frames describing their packets, or being walked). */
export function tpacketEngineHeld(st: usize): u32 {
  const holders = <usize>load<u32>(st, TPS_HOLDERS);
  const count = load<u32>(st, TPS_COUNT);
  let n: u32 = 0;
  for (let k: u32 = 0; k < count; k++) if (atomic.load<u32>(holders + (<usize>k << 6)) != 0) n++;
  return n;
}

// ─── Engine transmit ──────────────────────────────────────────────────────────────────────────
//
// The frames handlers forward go out through the queue's TPACKET_V2 TX ring, run by the host's
// poll loop (which owns the socket) in place of the workers' txDrain (the engine sets the header's tx queue
// count to 0), with the same hold list and token bucket (assembly/engine/txhold.ts). Each frame is copied
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
  const ring = <usize>load<u32>(st, TPS_TX_RING);
  const size = load<u32>(st, TPS_TX_FRAME);
  const count = load<u32>(st, TPS_TX_COUNT);
  let head = load<u32>(st, TPS_TX_HEAD);
  const was = load<u32>(st, TPS_TX_INFLIGHT);
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
    const list = txHold(ctx, q) + TXH_LIST;
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
    store<u32>(st, head, TPS_TX_HEAD);
    const qs = statsBlock(ctx, q);
    if (sent) {
      statAdd(qs, STAT_TX_PACKETS, sent);
      statAdd(qs, STAT_TX_BYTES, bytes);
      store<u64>(st, load<u64>(st, TPS_TX) + sent, TPS_TX);
      store<u64>(st, load<u64>(st, TPS_TX_BYTES) + bytes, TPS_TX_BYTES);
    }
    if (k > sent) statAdd(qs, STAT_TX_DROPPED, <u64>(k - sent));
  }
  // Kick for new slots, and again when none came back since the last call: a send() the device
  // refused (ENOBUFS, a full queue) leaves its slots requested, and only another send() retries.
  const kick = sent > 0 || (inflight > 0 && inflight == was);
  store<u32>(st, inflight, TPS_TX_INFLIGHT);
  return (n - k + inflight) | (<u32>kick << 31);
}

/** Engine transmit: slots of this queue's TX ring the kernel has not sent yet. */
export function tpacketEngineTxInflight(st: usize): u32 {
  return load<u32>(st, TPS_TX_INFLIGHT);
}
