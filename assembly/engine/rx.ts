// The receive hand-off: the live sources' received bursts onto the engine's rx rings, counted in
// the queue's stats block, and the kernel's own drops.

import { ehAddr, EH_RX_TIME, frameMeta, rxRing, statsBlock } from '../engine-map';
import { META_CAPLEN, META_DATA, META_LINKTYPE, META_MARK, META_QUEUE, META_TIMESTAMP, META_WIRELEN, NEXT_NONE } from '../meta';
import { frameRelease, poolCopyIn } from '../pool';
import { ringEnqueueBurst32 } from '../ring';
import { statAdd, statDrop, STAT_DROP_KERNEL, STAT_DROP_POOL_EMPTY, STAT_DROP_RING_FULL, STAT_RX_BYTES, STAT_RX_PACKETS, STAT_TX_BYTES, STAT_TX_DROPPED, STAT_TX_PACKETS } from '../stats';

/**
 * A live source's burst of `n` received frames (`bytes` on the wire) onto queue q's rx ring,
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

/**
 * A source whose own threads put frames on rx ring q (DPDK's poll threads), counted by the thread
 * that owns queue q's stats block: `rx` received (`rxBytes` on the wire), `ringFull` of them found
 * no room on the ring (the source freed them); `tx` sent (`txBytes`), `txDropped` forwarded but
 * never sent. Deltas since the last call; f64 because the host passes plain numbers.
 */
export function sourceCount(ctx: usize, q: u32, rx: f64, rxBytes: f64, ringFull: f64, tx: f64, txBytes: f64, txDropped: f64): void {
  const qs = statsBlock(ctx, q);
  statAdd(qs, STAT_RX_PACKETS, <u64>rx);
  statAdd(qs, STAT_RX_BYTES, <u64>rxBytes);
  statDrop(qs, STAT_DROP_RING_FULL, <u64>ringFull);
  statAdd(qs, STAT_TX_PACKETS, <u64>tx);
  statAdd(qs, STAT_TX_BYTES, <u64>txBytes);
  statAdd(qs, STAT_TX_DROPPED, <u64>txDropped);
}
