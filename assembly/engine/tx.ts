// The workers' transmit: forwarded frames onto the engine's tx rings (flushTx), and the replay
// backends' drain of those rings through each queue's hold list and token bucket (txDrain). The
// live sources transmit through their sockets instead (assembly/engine/xsk.ts, tpacket.ts).

import { eh, ehAddr, EH_BURST, EH_META, EH_QUEUES, EH_TX_HOLD, EH_W_STAGE, EH_W_TX, frameMeta, statsBlock, TX_HOLD_BYTES, TXH_COUNTED, TXH_LIST, TXH_RELEASED, txRing, txShaper, WC_TMP_LIST, WC_TMP_N, WC_TMP_RING, WC_TX_COUNT } from '../engine-map';
import { META_REFCNT, META_WIRELEN } from '../meta';
import { frameRelease, poolCache } from '../pool';
import { ringDequeueBurst32 } from '../ring';
import { shaperRefill, shaperTake } from '../shaper';
import { statAdd, STAT_TX_BYTES, STAT_TX_DROPPED, STAT_TX_PACKETS } from '../stats';
import { publishTmp, TX_NONE } from './journal';

/**
 * Moves the frames the handler forwarded (staged as (queue << 24) | frame) onto their transmit
 * rings, one burst per queue; a full ring drops them (counted as tx_dropped).
 *
 * As with keep(), forward() stages without a reference; the frame's is taken here, in the stretch
 * that moves its entry from the staged list to the tmp journal (list: the stage list, WC_TMP_LIST 1),
 * while the burst still holds the frame. A frame in the tmp journal holds one reference; the staged
 * entries left hold none (the host counts them tx_dropped).
 */
export function flushTx(ctx: usize, w: u32, wb: usize): void {
  const n = load<u32>(wb, WC_TX_COUNT);
  if (n == 0) return;
  const list = wb + ehAddr(ctx, EH_W_TX);
  const tmp = wb + ehAddr(ctx, EH_W_STAGE);
  const cache = poolCache(ctx, w);
  const metaBase = ehAddr(ctx, EH_META);
  const block = statsBlock(ctx, eh(ctx, EH_QUEUES) + w);
  store<u32>(wb, 1, WC_TMP_LIST);
  for (let i: u32 = 0; i < n; i++) {
    const e = load<u32>(list + (<usize>i << 2));
    if (e == TX_NONE) continue;
    const q = e >> 24;
    const ring = txRing(ctx, q);
    store<u32>(wb, <u32>ring, WC_TMP_RING);
    let k: u32 = 0;
    for (let j = i; j < n; j++) {
      const x = load<u32>(list + (<usize>j << 2));
      if (x == TX_NONE || x >> 24 != q) continue;
      const f = x & 0xffffff;
      atomic.add<u32>(metaBase + (<usize>f << 6) + META_REFCNT, 1);
      store<u32>(tmp + (<usize>k << 2), f);
      store<u32>(list + (<usize>j << 2), TX_NONE);
      k++;
      store<u32>(wb, k, WC_TMP_N);
    }
    publishTmp(ctx, wb, cache, ring, tmp, k, block, STAT_TX_DROPPED);
  }
  store<u32>(wb, 0, WC_TX_COUNT);
  store<u32>(wb, 0, WC_TMP_LIST);
}

/**
 * Transmit queue q: takes frames off its ring into its hold list and sends (counts, then frees:
 * the replay backends have no wire) as many as its token bucket allows, in order. Frames the
 * bucket holds back wait in the hold list for the next poll: shaping delays, it does not drop.
 */
export function txDrain(ctx: usize, w: u32, q: u32, nowNs: f64): void {
  const hold = ehAddr(ctx, EH_TX_HOLD) + <usize>q * TX_HOLD_BYTES;
  const list = hold + TXH_LIST;
  let n = load<u32>(hold);
  const burst = eh(ctx, EH_BURST);
  if (n < burst) {
    n += ringDequeueBurst32(txRing(ctx, q), list + (<usize>n << 2), burst - n);
    // In the dequeue's release stretch: the frames are the hold list's (recovery journal).
    store<u32>(hold, n);
  }
  if (n == 0) return;
  const sh = txShaper(ctx, q);
  shaperRefill(sh, nowNs);
  let k: u32 = 0;
  let bytes: u64 = 0;
  while (k < n) {
    const len = load<u32>(frameMeta(ctx, load<u32>(list + (<usize>k << 2))), META_WIRELEN);
    if (!shaperTake(sh, len)) break;
    bytes += len;
    k++;
  }
  if (k == 0) return;
  // One stretch: [0, k) are sent and counted (the journal's "counted"); then each is released in
  // the stretch that advances "released", and the list closes up with both back to 0.
  const qs = statsBlock(ctx, q);
  statAdd(qs, STAT_TX_PACKETS, k);
  statAdd(qs, STAT_TX_BYTES, bytes);
  store<u32>(hold, k, TXH_COUNTED);
  const cache = poolCache(ctx, w);
  for (let i: u32 = 0; i < k; i++) {
    frameRelease(ctx, cache, load<u32>(list + (<usize>i << 2)));
    store<u32>(hold, i + 1, TXH_RELEASED);
  }
  if (k < n) memory.copy(list, list + (<usize>k << 2), <usize>(n - k) << 2);
  store<u32>(hold, n - k);
  store<u32>(hold, 0, TXH_COUNTED);
  store<u32>(hold, 0, TXH_RELEASED);
}
