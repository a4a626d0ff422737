// The engine's AF_XDP source and transmit: the UMEM is the engine's frame pool, so the kernel
// receives straight into pool frames and sends pool frames as they are. The ring walking itself
// (state block, cached indexes, barriers) is the standalone walker's (assembly/kernel/xsk.ts).

import { fillRxMeta } from '../meta';
import { ehAddr, EH_RX_TIME, frameMeta, statsBlock, txHold, TXH_LIST } from '../engine-map';
import { frameRelease, poolAlloc } from '../pool';
import { META_CAPLEN, META_DATA, META_WIRELEN } from '../meta';
import { statAdd, STAT_TX_BYTES, STAT_TX_PACKETS } from '../stats';
import { XDP_RING_NEED_WAKEUP } from '../kernel/uapi';
import { rxPeek, XR_CACHED_CONS, XR_CACHED_PROD, XR_CONS, XR_DESC, XR_FLAGS, XR_MASK, XR_PROD, XR_SIZE, XSK_COMP, XSK_FILL, XSK_RX, XSK_TX, XS_KERNEL_FRAMES, XS_RX_BYTES, XS_RX_PKTS, XS_SHIFT, XS_TX_BYTES, XS_TX_INFLIGHT, XS_TX_PKTS, XS_UMEM } from '../kernel/xsk';
import { rxPublish } from './rx';
import { txHoldDone, txHoldFill, txHoldShape } from './txhold';

// Engine mode: the UMEM is the engine's frame pool and the kernel receives straight into pool
// frames. The fill ring is stocked from the pool (poolAlloc) up to a target, an RX descriptor
// becomes that frame's own metadata record (data = UMEM address + the descriptor's offset) and
// the frame goes on the engine's rx ring; it comes back to the pool through frameRelease like
// any other frame, whenever its last holder lets go (a burst, a keep(), a plugin). So a held
// frame simply stays out of the fill ring, and no packet byte is copied in user space.

/**
 * Tops the fill ring up from the pool through `cache` until the kernel holds `target` frames
 * (at most the ring's room). `scratch` holds the allocated indexes (room for the fill ring's
 * size in u32). Returns the frames added; fewer than asked when the pool ran dry (the kernel
 * then drops at an empty fill ring and counts it: XDP_STATISTICS rx_fill_ring_empty_descs).
 */
export function xskEngineFill(st: usize, ctx: usize, cache: usize, target: u32, scratch: usize): u32 {
  const held = load<u32>(st, XS_KERNEL_FRAMES);
  if (held >= target) return 0;
  const f = st + XSK_FILL;
  let fprod = load<u32>(f, XR_CACHED_PROD);
  const size = load<u32>(f, XR_SIZE);
  let want = target - held;
  if (size - (fprod - load<u32>(f, XR_CACHED_CONS)) < want) {
    // Acquire: the kernel has taken the addresses in the slots we are about to reuse.
    store<u32>(f, atomic.load<u32>(<usize>load<u32>(f, XR_CONS)), XR_CACHED_CONS);
  }
  const room = size - (fprod - load<u32>(f, XR_CACHED_CONS));
  if (want > room) want = room;
  if (want == 0) return 0;
  const got = poolAlloc(ctx, cache, scratch, want);
  if (got == 0) return 0;
  const fdesc = <usize>load<u32>(f, XR_DESC);
  const fmask = load<u32>(f, XR_MASK);
  const shift = load<u32>(st, XS_SHIFT);
  for (let i: u32 = 0; i < got; i++) {
    store<u64>(fdesc + (<usize>(fprod & fmask) << 3), <u64>load<u32>(scratch + (<usize>i << 2)) << shift);
    fprod++;
  }
  store<u32>(f, fprod, XR_CACHED_PROD);
  // Release: the fill addresses are in place before the kernel sees the producer move.
  atomic.store<u32>(<usize>load<u32>(f, XR_PROD), fprod);
  store<u32>(st, held + got, XS_KERNEL_FRAMES);
  return got;
}

/**
 * One burst of queue `q` into the engine: up to `max` RX descriptors become pool frames (their
 * own metadata records, stamped `ts`, rx time `nowNs`) put on the engine's rx ring q; the RX
 * consumer moves past them at once (the frames are the pool's now, not the ring's); then the
 * fill ring is topped up to `target` through `cache`. `list` is scratch for max(max, fill size)
 * u32. Frames the rx ring has no room for are released and counted ring_full. Returns the
 * frames received, plus 1 << 31 when the kernel asks for a wake-up on the fill ring.
 */
export function xskEngineRx(st: usize, ctx: usize, q: u32, cache: usize, list: usize, max: u32, ts: u64, nowNs: f64, target: u32): u32 {
  const r = st + XSK_RX;
  let cons = load<u32>(r, XR_CACHED_CONS);
  const n = rxPeek(r, max);
  if (n > 0) {
    const desc = <usize>load<u32>(r, XR_DESC);
    const mask = load<u32>(r, XR_MASK);
    const umem = <usize>load<u32>(st, XS_UMEM);
    const shift = load<u32>(st, XS_SHIFT);
    const rxTime = ehAddr(ctx, EH_RX_TIME);
    const nowInt = <u64>nowNs;
    let bytes: u64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const d = desc + (<usize>(cons & mask) << 4);
      const addr = load<u64>(d);
      const len = load<u32>(d, 8);
      const fr = <u32>(addr >> shift);
      fillRxMeta(frameMeta(ctx, fr), umem + <usize>addr, len, len, ts, q, 0xffff);
      store<u64>(rxTime + (<usize>fr << 3), nowInt);
      store<u32>(list + (<usize>i << 2), fr);
      bytes += len;
      cons++;
    }
    store<u32>(r, cons, XR_CACHED_CONS);
    // Release: our reads of the descriptors are done before the kernel may reuse the slots.
    atomic.store<u32>(<usize>load<u32>(r, XR_CONS), cons);
    store<u32>(st, load<u32>(st, XS_KERNEL_FRAMES) - n, XS_KERNEL_FRAMES);
    store<u64>(st, load<u64>(st, XS_RX_PKTS) + n, XS_RX_PKTS);
    store<u64>(st, load<u64>(st, XS_RX_BYTES) + bytes, XS_RX_BYTES);
    rxPublish(ctx, q, cache, list, n, <u64>bytes);
  }
  xskEngineFill(st, ctx, cache, target, list);
  return n | ((atomic.load<u32>(<usize>load<u32>(st + XSK_FILL, XR_FLAGS)) & XDP_RING_NEED_WAKEUP) << 31);
}

/**
 * At stop, after the program is detached and the RX ring drained: the frames still on the fill
 * ring (between the kernel's consumer and our producer) go back to the pool. Returns how many;
 * the kernel-held count keeps any the kernel took and never posted (none in copy mode).
 */
export function xskEngineReclaim(st: usize, ctx: usize, cache: usize): u32 {
  const f = st + XSK_FILL;
  const prod = load<u32>(f, XR_CACHED_PROD);
  let cons = atomic.load<u32>(<usize>load<u32>(f, XR_CONS));
  const fdesc = <usize>load<u32>(f, XR_DESC);
  const fmask = load<u32>(f, XR_MASK);
  const shift = load<u32>(st, XS_SHIFT);
  let n: u32 = 0;
  while (cons != prod) {
    frameRelease(ctx, cache, <u32>(load<u64>(fdesc + (<usize>(cons & fmask) << 3)) >> shift));
    cons++;
    n++;
  }
  // The consumer index is the kernel's: only our cached copy moves (the socket closes next).
  store<u32>(f, cons, XR_CACHED_CONS);
  store<u32>(st, load<u32>(st, XS_KERNEL_FRAMES) - n, XS_KERNEL_FRAMES);
  return n;
}

/** Pool frames the kernel holds on queue state `st` (engine mode). */
export function xskEngineKernelFrames(st: usize): u32 {
  return load<u32>(st, XS_KERNEL_FRAMES);
}

// Engine mode transmit, zero-copy: a frame the handler forwarded is a UMEM frame already, so its
// descriptor goes on the TX ring as it is ({data - umem, caplen}); the frame's reference (taken
// by forward()) is held by the kernel until the completion ring hands the address back, then
// released to the pool. The feeder thread, which owns the socket's four rings, runs this in place
// of the workers' txDrain (the engine sets the header's tx queue count to 0 for afxdp), with the
// same hold list and token bucket: shaping delays, it does not drop.

/**
 * Transmit queue `q` of the engine on this socket: reaps completions (frames back to the pool
 * through `cache`), then takes frames off the engine's tx ring q into its hold list and puts as
 * many as the shaper and the TX ring allow on the TX ring. Returns the frames still waiting or in
 * flight, plus 1 << 31 when the kernel wants a sendto() (need_wakeup, or copy mode: always).
 */
export function xskEngineTx(st: usize, ctx: usize, q: u32, cache: usize, nowNs: f64): u32 {
  const shift = load<u32>(st, XS_SHIFT);
  let inflight = load<u32>(st, XS_TX_INFLIGHT);
  if (inflight) {
    const c = st + XSK_COMP;
    let cons = load<u32>(c, XR_CACHED_CONS);
    // Acquire: the completion entries before the producer are visible.
    const prod = atomic.load<u32>(<usize>load<u32>(c, XR_PROD));
    const cdesc = <usize>load<u32>(c, XR_DESC);
    const cmask = load<u32>(c, XR_MASK);
    while (cons != prod) {
      frameRelease(ctx, cache, <u32>(load<u64>(cdesc + (<usize>(cons & cmask) << 3)) >> shift));
      cons++;
      inflight--;
    }
    store<u32>(c, cons, XR_CACHED_CONS);
    // Release: our reads of the entries are done before the kernel may overwrite them.
    atomic.store<u32>(<usize>load<u32>(c, XR_CONS), cons);
  }
  const n = txHoldFill(ctx, q);
  let k: u32 = 0;
  if (n > 0) {
    const t = st + XSK_TX;
    const prod = load<u32>(t, XR_CACHED_PROD);
    const size = load<u32>(t, XR_SIZE);
    if (size - (prod - load<u32>(t, XR_CACHED_CONS)) < n) {
      // Acquire: the kernel has read the descriptors in the slots we are about to reuse.
      store<u32>(t, atomic.load<u32>(<usize>load<u32>(t, XR_CONS)), XR_CACHED_CONS);
    }
    k = txHoldShape(ctx, q, n, size - (prod - load<u32>(t, XR_CACHED_CONS)), nowNs);
    const list = txHold(ctx, q) + TXH_LIST;
    const desc = <usize>load<u32>(t, XR_DESC);
    const mask = load<u32>(t, XR_MASK);
    const umem = load<u32>(st, XS_UMEM);
    let bytes: u64 = 0;
    for (let i: u32 = 0; i < k; i++) {
      const m = frameMeta(ctx, load<u32>(list + (<usize>i << 2)));
      const d = desc + (<usize>((prod + i) & mask) << 4);
      store<u64>(d, <u64>(load<u32>(m, META_DATA) - umem));
      store<u64>(d, <u64>load<u32>(m, META_CAPLEN), 8); // len, options 0
      bytes += load<u32>(m, META_WIRELEN);
    }
    if (k > 0) {
      store<u32>(t, prod + k, XR_CACHED_PROD);
      // Release: descriptors (and the frames' bytes) are visible before the kernel sees the producer move.
      atomic.store<u32>(<usize>load<u32>(t, XR_PROD), prod + k);
      txHoldDone(ctx, q, k);
      inflight += k;
      const qs = statsBlock(ctx, q);
      statAdd(qs, STAT_TX_PACKETS, k);
      statAdd(qs, STAT_TX_BYTES, bytes);
      store<u64>(st, load<u64>(st, XS_TX_PKTS) + k, XS_TX_PKTS);
      store<u64>(st, load<u64>(st, XS_TX_BYTES) + bytes, XS_TX_BYTES);
    }
  }
  store<u32>(st, inflight, XS_TX_INFLIGHT);
  const wake = inflight > 0 && (atomic.load<u32>(<usize>load<u32>(st + XSK_TX, XR_FLAGS)) & XDP_RING_NEED_WAKEUP) != 0;
  return (n - k + inflight) | (<u32>wake << 31);
}

/** Engine mode: forwarded frames on the TX ring of this socket not completed yet. */
export function xskEngineTxInflight(st: usize): u32 {
  return load<u32>(st, XS_TX_INFLIGHT);
}
