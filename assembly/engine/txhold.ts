// A transmit queue's hold list (assembly/engine-map.ts, TX_HOLD_BYTES) as the live sources' feeders use it
// (xskEngineTx, tpacketEngineTx): frames taken off the engine's tx ring q wait there, in order,
// for the shaper's tokens and for room on the socket's TX ring; shaping delays, it does not drop.
// The feeder runs on the host thread, which never dies inside a call, so the list's journal
// words (counted, released) stay 0; the workers' txDrain keeps its own stretches.

import { eh, EH_BURST, frameMeta, txHold, TXH_LIST, txRing, txShaper } from '../engine-map';
import { META_WIRELEN } from '../meta';
import { ringDequeueBurst32 } from '../ring';
import { shaperRefill, shaperTake } from '../shaper';

/** Tops hold list q up (to a burst) from the engine's tx ring q; returns the frames it holds. */
export function txHoldFill(ctx: usize, q: u32): u32 {
  const hold = txHold(ctx, q);
  let n = load<u32>(hold);
  const burst = eh(ctx, EH_BURST);
  if (n < burst) {
    n += ringDequeueBurst32(txRing(ctx, q), hold + TXH_LIST + (<usize>n << 2), burst - n);
    store<u32>(hold, n);
  }
  return n;
}

/**
 * How many of the first `n` frames of hold list q go now: at most `room`, in order, as long as
 * queue q's token bucket has tokens for each (their wire length). The tokens are taken.
 */
export function txHoldShape(ctx: usize, q: u32, n: u32, room: u32, nowNs: f64): u32 {
  const list = txHold(ctx, q) + TXH_LIST;
  const sh = txShaper(ctx, q);
  shaperRefill(sh, nowNs);
  let k: u32 = 0;
  while (k < n && k < room) {
    if (!shaperTake(sh, load<u32>(frameMeta(ctx, load<u32>(list + (<usize>k << 2))), META_WIRELEN))) break;
    k++;
  }
  return k;
}

/** The first `k` frames of hold list q are gone (sent, or dropped and counted): closes the list up. */
export function txHoldDone(ctx: usize, q: u32, k: u32): void {
  if (k == 0) return;
  const hold = txHold(ctx, q);
  const n = load<u32>(hold);
  const list = hold + TXH_LIST;
  if (k < n) memory.copy(list, list + (<usize>k << 2), <usize>(n - k) << 2);
  store<u32>(hold, n - k);
}
