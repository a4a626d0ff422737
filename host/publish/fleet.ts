// The fleet view: the stats snapshot each engine publishes every second on wirewasm.<engine>.stats
// (JSON, shape FleetSnapshot), and what `wirewasm top` makes of the snapshots it hears.
import os from 'node:os';
import type { EngineStats } from '../engine/stats.js';

/** The publish sink's counters (PublishSink.stats()), in every stats snapshot the engine publishes. */
export interface PublishStats {
  engine: string;
  mode: 'core' | 'jetstream';
  /** Records the engine handed to the sink. */
  records_in: number;
  /** Records acknowledged (JetStream) or flushed to the server (core). */
  records_published: number;
  /** Records counted and not sent: the window was full with onFull 'drop', or unacknowledged at the end. */
  publish_dropped: number;
  /** Records published and not acknowledged yet. */
  pending_records: number;
  pending_bytes: number;
  messages_published: number;
  bytes_published: number;
  /** Publishes sent again after a failure or a missing ack. */
  retries: number;
  /** Acks the stream answered as duplicates (a retry of a message it already had). */
  duplicates: number;
  reconnects: number;
  disconnects: number;
  /** Time the sink held the engine because the window was full (block). */
  blocked_ms: number;
  /** Age of the oldest unacknowledged message (ms), 0 when none: how far the broker is behind. */
  lag_ms: number;
  connected: boolean;
}

export interface FleetSnapshot {
  engine: string;
  host: string;
  pid: number;
  /** Unix ms when taken. */
  time: number;
  elapsed_s: number;
  rx_packets: number;
  delivered: number;
  pps: number;
  /** Drops by reason: the engine's reasons, records_dropped (records ring full) and publish_dropped. */
  dropped: Record<string, number>;
  in_flight: number;
  latency_ns: { p50: number; p99: number; p999: number; max: number };
  publish?: PublishStats;
}

export function fleetSnapshot(engine: string, s: EngineStats, publish?: PublishStats): FleetSnapshot {
  return {
    engine,
    host: os.hostname(),
    pid: process.pid,
    time: Date.now(),
    elapsed_s: s.elapsed_s,
    rx_packets: s.rx_packets,
    delivered: s.delivered,
    pps: s.pps,
    dropped: { ...s.dropped, records_dropped: s.records_dropped, ...(publish ? { publish_dropped: publish.publish_dropped } : {}) },
    in_flight: s.in_flight,
    latency_ns: { p50: s.latency_ns.p50, p99: s.latency_ns.p99, p999: s.latency_ns.p999, max: s.latency_ns.max },
    publish,
  };
}

/** Reads a snapshot off the wire; undefined for anything that is not one (counted by the caller). */
export function parseSnapshot(data: Uint8Array): FleetSnapshot | undefined {
  try {
    const o = JSON.parse(new TextDecoder().decode(data)) as FleetSnapshot;
    if (typeof o?.engine !== 'string' || typeof o.rx_packets !== 'number' || typeof o.dropped !== 'object' || typeof o.latency_ns?.p99 !== 'number') return undefined;
    return o;
  } catch {
    return undefined;
  }
}

/** The latest snapshot of every engine heard from, and which went quiet. */
export class Fleet {
  readonly engines = new Map<string, { snap: FleetSnapshot; heard: number }>();
  malformed = 0;

  add(data: Uint8Array, now = Date.now()): void {
    const s = parseSnapshot(data);
    if (!s) this.malformed++;
    else this.engines.set(s.engine, { snap: s, heard: now });
  }

  /** One JSON object: every engine's latest snapshot, whether it is stale (nothing for 3 s), and the totals. */
  json(now = Date.now()): { time: number; engines: (FleetSnapshot & { stale: boolean })[]; totals: { pps: number; rx_packets: number; delivered: number; dropped: number }; malformed: number } {
    const engines = [...this.engines.values()].sort((a, b) => a.snap.engine.localeCompare(b.snap.engine)).map((e) => ({ ...e.snap, stale: now - e.heard > 3000 }));
    const totals = { pps: 0, rx_packets: 0, delivered: 0, dropped: 0 };
    for (const e of engines) {
      totals.pps += e.stale ? 0 : e.pps;
      totals.rx_packets += e.rx_packets;
      totals.delivered += e.delivered;
      totals.dropped += Object.values(e.dropped).reduce((a, b) => a + b, 0);
    }
    return { time: now, engines, totals, malformed: this.malformed };
  }

  /** The table `wirewasm top` shows: per engine pps, drops by reason, latency p99, publish lag. */
  render(now = Date.now()): string {
    const j = this.json(now);
    const rows = [['engine', 'host', 'pps', 'received', 'delivered', 'drops (by reason)', 'p99', 'publish lag', 'pending', 'reconnects']];
    for (const e of j.engines) {
      const drops = Object.entries(e.dropped).filter(([, n]) => n > 0).map(([r, n]) => `${r}=${n}`).join(' ') || 'none';
      rows.push([
        e.engine + (e.stale ? ' (stale)' : ''),
        e.host,
        si(e.pps),
        String(e.rx_packets),
        String(e.delivered),
        drops,
        us(e.latency_ns.p99),
        e.publish ? `${e.publish.lag_ms} ms` : '-',
        e.publish ? String(e.publish.pending_records) : '-',
        e.publish ? String(e.publish.reconnects) : '-',
      ]);
    }
    const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const lines = rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
    lines.push(`${j.engines.length} engine(s), ${si(j.totals.pps)} pps in all, ${j.totals.dropped} dropped${j.malformed ? `, ${j.malformed} malformed snapshot(s) skipped` : ''}`);
    return lines.join('\n');
  }
}

const si = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : String(Math.round(x)));
const us = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);
