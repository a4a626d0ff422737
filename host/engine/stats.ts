// Reading the engine's statistics out of the memory (layout in assembly/stats.ts) into a snapshot:
// totals, drops by reason, per-queue and per-worker rows, latency percentiles from the summed
// log-linear histograms, and rates against the previous snapshot.

import { HIST_BUCKETS, HIST_MAX_EXP, HIST_SUB_BITS } from '../abi.js';
import { STATS_BLOCK_BYTES } from '../layout.js';
import type { PluginStats } from '../plugins/supervisor.js';
import type { EngineRuntime } from './setup.js';

/**
 * Drop reasons, in the order of the drops line (assembly/stats.ts STAT_DROP_*; 'plugin' is written
 * by host/plugins/stage.ts): `rule_drop` a flow-director rule's drop action, `filtered` the
 * engine's filter expression (config `filter`).
 */
export const DROP_REASONS = ['ring_full', 'pool_empty', 'rule_drop', 'parse_error', 'handler_error', 'kernel', 'plugin', 'filtered'] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type Drops = Record<DropReason, number>;

export const STATS_BLOCK = STATS_BLOCK_BYTES;
/** Byte offset in a stats block of the u64 counting drops for `reason`. */
export const dropSlot = (reason: DropReason): number => 8 * (8 + DROP_REASONS.indexOf(reason));
export const STAT_WORD = { RX: 0, RX_BYTES: 1, DELIVERED: 2, DELIVERED_BYTES: 3, TX: 4, TX_BYTES: 5, BURSTS: 6, RECORDS_DROPPED: 7, DROPS: 8, LAT_COUNT: 16, LAT_SUM: 17, LAT_MAX: 18, TX_DROPPED: 19 };

export { HIST_BUCKETS, HIST_MAX_EXP, HIST_SUB_BITS };

/** Lower bound in ns of histogram bucket b (mirror of assembly/stats.ts histBucketLow). */
export function histBucketLow(b: number): number {
  if (b < 16) return b;
  const e = (b >> HIST_SUB_BITS) + 3;
  return (16 | (b & 15)) * 2 ** (e - 4);
}

/** Upper bound (exclusive) of bucket b. */
export function histBucketHigh(b: number): number {
  if (b < 16) return b + 1;
  const e = (b >> HIST_SUB_BITS) + 3;
  return (16 | (b & 15)) * 2 ** (e - 4) + 2 ** (e - 4);
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  avg: number;
  max: number;
}

/** The value at quantile q of a histogram: the midpoint of the bucket that holds it, capped by max. */
export function quantile(hist: Float64Array, count: number, q: number, max: number): number {
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b];
    if (seen >= rank) return Math.min(max, b < 16 ? b : (histBucketLow(b) + histBucketHigh(b) - 1) / 2);
  }
  return max;
}

/** The traffic counters of one stats block; the engine's totals are their sums over all blocks. */
export interface TrafficCounters {
  /** Frames that entered the engine (including those the kernel reported dropping). */
  rx_packets: number;
  rx_bytes: number;
  /** Frames the handler took without throwing. */
  delivered: number;
  delivered_bytes: number;
  tx_packets: number;
  tx_bytes: number;
  /** Frames handlers forwarded that were not sent: tx ring full, or still shaped at stop. */
  tx_dropped: number;
  dropped: Drops;
}

export interface BlockCounters extends TrafficCounters {
  bursts: number;
  records_dropped: number;
  latency: { count: number; sum: number; max: number };
}

export interface QueueStats {
  queue: number;
  rx_packets: number;
  rx_bytes: number;
  tx_packets: number;
  tx_bytes: number;
  pps: number;
  bps: number;
  dropped: Drops;
}

export interface WorkerStats {
  worker: number;
  delivered: number;
  delivered_bytes: number;
  bursts: number;
  pps: number;
  dropped: Drops;
  latency_ns: Latency;
  restarts: number;
}

export interface EngineStats extends TrafficCounters {
  dropped_total: number;
  /** Received but neither delivered nor dropped yet; 0 once stopped. */
  in_flight: number;
  pps: number;
  bps: number;
  latency_ns: Latency;
  /** The summed latency histogram (log-linear ns buckets, histBucketLow/High), for exporters. */
  latency_hist: Float64Array;
  queues: QueueStats[];
  workers: WorkerStats[];
  pool: { frames: number; free: number; in_use: number };
  records_dropped: number;
  elapsed_s: number;
  /** Per parser plugin: state and counts (host/plugins/supervisor.ts PluginStats). */
  plugins: PluginStats[];
}

export const emptyDrops = (): Drops => Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Drops;

export function readBlock(mem: ArrayBufferLike, addr: number): BlockCounters {
  const v = new BigUint64Array(mem, addr, STATS_BLOCK / 8);
  const n = (i: number) => Number(v[i]);
  const dropped = emptyDrops();
  DROP_REASONS.forEach((r, i) => (dropped[r] = n(STAT_WORD.DROPS + i)));
  return {
    rx_packets: n(STAT_WORD.RX),
    rx_bytes: n(STAT_WORD.RX_BYTES),
    delivered: n(STAT_WORD.DELIVERED),
    delivered_bytes: n(STAT_WORD.DELIVERED_BYTES),
    tx_packets: n(STAT_WORD.TX),
    tx_bytes: n(STAT_WORD.TX_BYTES),
    bursts: n(STAT_WORD.BURSTS),
    records_dropped: n(STAT_WORD.RECORDS_DROPPED),
    tx_dropped: n(STAT_WORD.TX_DROPPED),
    dropped,
    latency: { count: n(STAT_WORD.LAT_COUNT), sum: n(STAT_WORD.LAT_SUM), max: n(STAT_WORD.LAT_MAX) },
  };
}

/** Adds to a block's counter from the host (the host's own block only: one writer). */
export function hostBlockAdd(mem: ArrayBufferLike, addr: number, field: 'delivered' | 'tx_dropped' | DropReason, n: number): void {
  const v = new BigUint64Array(mem, addr, STATS_BLOCK / 8);
  const i = field === 'delivered' ? STAT_WORD.DELIVERED : field === 'tx_dropped' ? STAT_WORD.TX_DROPPED : STAT_WORD.DROPS + DROP_REASONS.indexOf(field);
  v[i] += BigInt(n);
}

export function readHistogram(mem: ArrayBufferLike, addr: number, into: Float64Array): void {
  const v = new BigUint64Array(mem, addr, HIST_BUCKETS);
  for (let b = 0; b < HIST_BUCKETS; b++) into[b] += Number(v[b]);
}

export function latencyOf(hist: Float64Array, count: number, sum: number, max: number): Latency {
  return {
    count,
    p50: quantile(hist, count, 0.5, max),
    p99: quantile(hist, count, 0.99, max),
    p999: quantile(hist, count, 0.999, max),
    avg: count ? sum / count : 0,
    max,
  };
}

export const sumDrops = (d: Drops) => DROP_REASONS.reduce((s, r) => s + d[r], 0);

export function addDrops(into: Drops, d: Drops): void {
  for (const r of DROP_REASONS) into[r] += d[r];
}

/** What the stats snapshot needs beyond the memory: counts the main thread keeps. */
export interface HostCounts {
  /** Restarts per worker. */
  restarts: readonly number[];
  /** Records lost on the host side (Records.dropped): plugin overflow, unread at stop. */
  hostRecordsDropped: number;
  /** performance.now() when the engine started running (0: not yet). */
  startedAt: number;
  plugins: PluginStats[];
}

/** Snapshots of every counter; rates are against the previous snapshot. */
export class StatsReader {
  private last?: { t: number; rx: number; bytes: number; q: number[]; qb: number[]; w: number[] };

  constructor(private readonly rt: EngineRuntime) {}

  snapshot(host: HostCounts): EngineStats {
    const { config: c, layout, map: m, wasm, ctx } = this.rt;
    const buf = this.rt.memory.buffer;
    const last = this.last;
    const now = performance.now();
    const dt = last ? (now - last.t) / 1000 : 0;
    const rate = (x: number, prev: number | undefined) => (dt > 0 && prev !== undefined ? (x - prev) / dt : 0);
    const total = { rx: 0, rxBytes: 0, delivered: 0, deliveredBytes: 0, tx: 0, txBytes: 0, txDropped: 0, records: 0 };
    const dropped = emptyDrops();
    // The workers' blocks are read before the queues': a frame is counted received before it is
    // delivered or dropped, so receive counts read last are never behind the outcomes read first and
    // in_flight (received - delivered - dropped) never goes below zero while workers keep counting.
    const hist = new Float64Array(HIST_BUCKETS);
    let latCount = 0;
    let latSum = 0;
    let latMax = 0;
    const workers = [];
    for (let w = 0; w <= c.workers; w++) {
      const b = readBlock(buf, layout.statsAddress(c.queues + w));
      total.delivered += b.delivered;
      total.deliveredBytes += b.delivered_bytes;
      total.txDropped += b.tx_dropped;
      total.records += b.records_dropped;
      addDrops(dropped, b.dropped);
      if (w === c.workers) break; // the host's block: recovered frames only
      const own = new Float64Array(HIST_BUCKETS);
      readHistogram(buf, m.worker(w) + m.w.hist, own);
      for (let i = 0; i < HIST_BUCKETS; i++) hist[i] += own[i];
      latCount += b.latency.count;
      latSum += b.latency.sum;
      latMax = Math.max(latMax, b.latency.max);
      workers.push({
        worker: w,
        delivered: b.delivered,
        delivered_bytes: b.delivered_bytes,
        bursts: b.bursts,
        pps: rate(b.delivered, last?.w[w]),
        dropped: b.dropped,
        latency_ns: latencyOf(own, b.latency.count, b.latency.sum, b.latency.max),
        restarts: host.restarts[w] ?? 0,
      });
    }
    const queues = [];
    for (let q = 0; q < c.queues; q++) {
      const b = readBlock(buf, layout.statsAddress(q));
      total.rx += b.rx_packets;
      total.rxBytes += b.rx_bytes;
      total.tx += b.tx_packets;
      total.txBytes += b.tx_bytes;
      total.txDropped += b.tx_dropped;
      addDrops(dropped, b.dropped);
      queues.push({ queue: q, rx_packets: b.rx_packets, rx_bytes: b.rx_bytes, tx_packets: b.tx_packets, tx_bytes: b.tx_bytes, pps: rate(b.rx_packets, last?.q[q]), bps: rate(b.rx_bytes * 8, last?.qb[q]), dropped: b.dropped });
    }
    const droppedTotal = sumDrops(dropped);
    const free = wasm.poolAvailable(ctx);
    const s: EngineStats = {
      rx_packets: total.rx,
      rx_bytes: total.rxBytes,
      delivered: total.delivered,
      delivered_bytes: total.deliveredBytes,
      tx_packets: total.tx,
      tx_bytes: total.txBytes,
      tx_dropped: total.txDropped,
      dropped,
      dropped_total: droppedTotal,
      in_flight: Math.max(0, total.rx - total.delivered - droppedTotal),
      pps: rate(total.rx, last?.rx),
      bps: rate(total.rxBytes * 8, last?.bytes),
      latency_ns: latencyOf(hist, latCount, latSum, latMax),
      latency_hist: hist,
      queues,
      workers,
      pool: { frames: c.frameCount, free, in_use: c.frameCount - free },
      records_dropped: total.records + host.hostRecordsDropped,
      elapsed_s: host.startedAt ? (now - host.startedAt) / 1000 : 0,
      plugins: host.plugins,
    };
    this.last = { t: now, rx: total.rx, bytes: total.rxBytes * 8, q: queues.map((q) => q.rx_packets), qb: queues.map((q) => q.rx_bytes * 8), w: workers.map((w) => w.delivered) };
    return s;
  }
}
