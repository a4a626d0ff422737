// Engine statistics: counters in the shared memory, one writer per cache line, read by the host
// at any time (host/engine/stats.ts) without stopping anyone.
//
// The stats region (host/layout.ts) holds queues + workers + 1 blocks of 8 cache lines each:
// block q < queues is written by the thread filling receive queue q, block queues + w by worker w,
// the last block by the main thread (frames it recovered from a dead worker). Every block has the
// same shape, so a total is the sum over blocks and the invariant is checked the same way for
// every block: received = delivered + every counted drop (+ frames still in flight).
//
//   block (512 B)  line  +0       +8        +16       +24         +32       +40       +48      +56
//                  ┌────┬─────────┬─────────┬─────────┬───────────┬─────────┬─────────┬────────┬────────┐
//                  │ 0  │ rx pkts │ rx bytes│ deliver │ deliv. B  │ tx pkts │ tx bytes│ bursts │rec drop│
//                  │ 1  │ drop[0] ring full … drop[7]  (one u64 per reason; host/engine/stats.ts names them)│
//                  │ 2  │ lat cnt │ lat sum │ lat max │ tx drop │ (free)                               │
//                  │ 3-7│ reserved                                                                   │
//                  └────┴────────────────────────────────────────────────────────────────────────────┘
//
// Every counter is a u64 written with plain stores by its one writer (no atomics: a reader on x86
// sees an aligned 8-byte store whole). Counters never go down.
//
// Latency: a log-linear histogram per worker (HDR-histogram style), in the engine region:
// values below 16 ns have one bucket each; above, each power of two is split in 16 linear
// sub-buckets, so a bucket's width is at most 1/16 of its lower bound (p99 is exact to 6.25%).
//
//   bucket(v) = v                                 for v < 16
//             = (e - 3) * 16 + (v >> (e - 4)) & 15  for e = floor(log2 v) >= 4, e <= HIST_MAX_EXP
//
// Values at or above 2^(HIST_MAX_EXP+1) ns (about 36 minutes) land in the last bucket.

export const STATS_BLOCK_BYTES: usize = 512;

export const STAT_RX_PACKETS: usize = 0;
export const STAT_RX_BYTES: usize = 8;
export const STAT_DELIVERED: usize = 16;
export const STAT_DELIVERED_BYTES: usize = 24;
export const STAT_TX_PACKETS: usize = 32;
export const STAT_TX_BYTES: usize = 40;
export const STAT_BURSTS: usize = 48;
/** Records a handler kept that found no room on the records ring (the frames went back to the pool). */
export const STAT_RECORDS_DROPPED: usize = 56;
export const STAT_DROPS: usize = 64;
export const STAT_LAT_COUNT: usize = 128;
export const STAT_LAT_SUM: usize = 136;
export const STAT_LAT_MAX: usize = 144;
/** Frames a handler forwarded that never left: tx ring full, or still queued at stop (not part of the receive invariant). */
export const STAT_TX_DROPPED: usize = 152;

// Drop reasons: index into the drops line. host/engine/stats.ts names them.
export const STAT_DROP_RING_FULL: u32 = 0;
export const STAT_DROP_POOL_EMPTY: u32 = 1;
/** A flow-director rule with the drop action matched the frame. */
export const STAT_DROP_RULE_DROP: u32 = 2;
export const STAT_DROP_PARSE_ERROR: u32 = 3;
export const STAT_DROP_HANDLER_ERROR: u32 = 4;
export const STAT_DROP_KERNEL: u32 = 5;
// Slot 6 is the plugins' (host/plugins), written by the worker's JS.
/** The engine's filter expression (config `filter`) rejected the frame. */
export const STAT_DROP_FILTERED: u32 = 7;
export const STAT_DROP_REASONS: u32 = 8;

export const HIST_SUB_BITS: u32 = 4;
export const HIST_MAX_EXP: u32 = 40;
export const HIST_BUCKETS: u32 = (HIST_MAX_EXP - 3 + 1) << HIST_SUB_BITS;
export const HIST_BYTES: usize = <usize>HIST_BUCKETS << 3;

@inline export function statAdd(block: usize, field: usize, n: u64): void {
  store<u64>(block + field, load<u64>(block + field) + n);
}

@inline export function statDrop(block: usize, reason: u32, n: u64): void {
  statAdd(block, STAT_DROPS + (<usize>reason << 3), n);
}

/** The histogram bucket of `v` nanoseconds. */
@inline export function histBucket(v: u64): u32 {
  if (v < 16) return <u32>v;
  const e = <u32>(63 - clz<u64>(v));
  if (e > HIST_MAX_EXP) return HIST_BUCKETS - 1;
  return ((e - 3) << HIST_SUB_BITS) | (<u32>(v >> (e - 4)) & 15);
}

/** Lower bound in ns of bucket `b` (the host mirrors this to turn counts into percentiles). */
export function histBucketLow(b: u32): u64 {
  if (b < 16) return <u64>b;
  const e = (b >> HIST_SUB_BITS) + 3;
  return (<u64>(16 | (b & 15))) << (e - 4);
}

/** Records one latency in the histogram `hist` and the latency line of stats block `block`. */
@inline export function histRecord(hist: usize, block: usize, v: u64): void {
  const slot = hist + (<usize>histBucket(v) << 3);
  store<u64>(slot, load<u64>(slot) + 1);
  statAdd(block, STAT_LAT_COUNT, 1);
  statAdd(block, STAT_LAT_SUM, v);
  if (v > load<u64>(block + STAT_LAT_MAX)) store<u64>(block + STAT_LAT_MAX, v);
}

/** Exported for tests: records `v` once. */
export function statsHistRecord(hist: usize, block: usize, v: u64): void {
  histRecord(hist, block, v);
}

export function statsHistBucket(v: u64): u32 {
  return histBucket(v);
}
