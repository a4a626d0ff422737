// A token-bucket shaper, one per transmit queue (and one per replayed receive queue for --rate):
// two buckets, packets/s and bits/s, each with its own burst depth. A packet passes when both
// buckets hold enough tokens for it; the caller keeps the rest for later (shaping delays, it does
// not drop). One writer: the thread that sends on the queue.
//
//   shaper (64 B)
//   0        8        16       24       32       40       48       56
//   +--------+--------+--------+--------+--------+--------+--------+--------+
//   | pps    | burst  | Bps    | burst  | tokens | tokens | last   | (free) |
//   | (f64)  | pkts   | (f64)  | bytes  | pkts   | bytes  | ns     |        |
//   +--------+--------+--------+--------+--------+--------+--------+--------+
//
// A rate of 0 means unlimited. Tokens are f64 so fractional refills over short intervals are kept
// rather than rounded away (at 1 Mpps a 300 ns poll earns 0.3 of a packet).

export const SHAPER_BYTES: usize = 64;
export const SH_PPS: usize = 0;
export const SH_BURST_PKTS: usize = 8;
export const SH_BYTES_PER_S: usize = 16;
export const SH_BURST_BYTES: usize = 24;
export const SH_TOKENS_PKTS: usize = 32;
export const SH_TOKENS_BYTES: usize = 40;
export const SH_LAST_NS: usize = 48;

/** Sets the rates (0 = unlimited) and burst depths; starts with full buckets at `nowNs`. */
export function shaperInit(sh: usize, pps: f64, burstPkts: f64, bytesPerSec: f64, burstBytes: f64, nowNs: f64): void {
  store<f64>(sh, pps, SH_PPS);
  store<f64>(sh, max(burstPkts, 1), SH_BURST_PKTS);
  store<f64>(sh, bytesPerSec, SH_BYTES_PER_S);
  store<f64>(sh, max(burstBytes, 1), SH_BURST_BYTES);
  store<f64>(sh, max(burstPkts, 1), SH_TOKENS_PKTS);
  store<f64>(sh, max(burstBytes, 1), SH_TOKENS_BYTES);
  store<f64>(sh, nowNs, SH_LAST_NS);
}

@inline export function shaperRefill(sh: usize, nowNs: f64): void {
  const dt = nowNs - load<f64>(sh, SH_LAST_NS);
  if (dt <= 0) return;
  store<f64>(sh, nowNs, SH_LAST_NS);
  const pps = load<f64>(sh, SH_PPS);
  if (pps > 0) store<f64>(sh, min(load<f64>(sh, SH_BURST_PKTS), load<f64>(sh, SH_TOKENS_PKTS) + (pps * dt) / 1e9), SH_TOKENS_PKTS);
  const bps = load<f64>(sh, SH_BYTES_PER_S);
  if (bps > 0) store<f64>(sh, min(load<f64>(sh, SH_BURST_BYTES), load<f64>(sh, SH_TOKENS_BYTES) + (bps * dt) / 1e9), SH_TOKENS_BYTES);
}

/** Takes tokens for one packet of `bytes` if both buckets allow it. */
@inline export function shaperTake(sh: usize, bytes: u32): bool {
  const pps = load<f64>(sh, SH_PPS);
  const bps = load<f64>(sh, SH_BYTES_PER_S);
  const tp = load<f64>(sh, SH_TOKENS_PKTS);
  const tb = load<f64>(sh, SH_TOKENS_BYTES);
  if (pps > 0 && tp < 1) return false;
  if (bps > 0 && tb < <f64>bytes) {
    // A packet larger than the whole bucket could never pass: let it through on a full bucket.
    if (tb < load<f64>(sh, SH_BURST_BYTES)) return false;
  }
  if (pps > 0) store<f64>(sh, tp - 1, SH_TOKENS_PKTS);
  if (bps > 0) store<f64>(sh, tb - <f64>bytes, SH_TOKENS_BYTES);
  return true;
}

/** How many packets may pass now if each were `bytes` long (a budget for a burst of equal frames). */
export function shaperBudget(sh: usize, nowNs: f64, bytes: u32, want: u32): u32 {
  shaperRefill(sh, nowNs);
  let n: u32 = 0;
  while (n < want && shaperTake(sh, bytes)) n++;
  return n;
}

/** Nanoseconds until one more packet of `bytes` could pass (0 when it could now). */
export function shaperWaitNs(sh: usize, nowNs: f64, bytes: u32): f64 {
  shaperRefill(sh, nowNs);
  let wait: f64 = 0;
  const pps = load<f64>(sh, SH_PPS);
  if (pps > 0) wait = max(wait, ((1 - load<f64>(sh, SH_TOKENS_PKTS)) * 1e9) / pps);
  const bps = load<f64>(sh, SH_BYTES_PER_S);
  if (bps > 0) wait = max(wait, ((min(<f64>bytes, load<f64>(sh, SH_BURST_BYTES)) - load<f64>(sh, SH_TOKENS_BYTES)) * 1e9) / bps);
  return max(wait, 0);
}
