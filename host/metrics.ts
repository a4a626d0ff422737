// Prometheus metrics of a running engine, by the conventions of prometheus.io: monotonic counts are
// counters named *_total, times are histograms in seconds, levels are gauges; plus prom-client's
// default process metrics (CPU, memory, event loop lag, handles). Values are read from one stats
// snapshot per scrape, never kept twice.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { DROP_REASONS, histBucketHigh, type EngineStats } from './engine/stats.js';

/**
 * The latency histogram's `le` bounds, in ns: powers of two from 128 ns to 2^34 ns (17 s). Powers of
 * two are edges of the engine's log-linear buckets (assembly/stats.ts), so every count is exact:
 * none is split between two Prometheus buckets.
 */
export const LATENCY_LE_NS: readonly number[] = Array.from({ length: 28 }, (_, i) => 2 ** (7 + i));

/** Cumulative counts at each bound of LATENCY_LE_NS (the `_bucket` values; +Inf is the total count). */
export function cumulativeBuckets(hist: Float64Array, le: readonly number[] = LATENCY_LE_NS): number[] {
  const out = new Array<number>(le.length).fill(0);
  let b = 0;
  let seen = 0;
  for (let i = 0; i < le.length; i++) {
    while (b < hist.length && histBucketHigh(b) <= le[i]) seen += hist[b++];
    out[i] = seen;
  }
  return out;
}

type Labels = Record<string, string>;

/** A counter whose value is the engine's own count, set at each scrape. */
function counter(registry: client.Registry, name: string, help: string, labelNames: string[], read: () => [Labels, number][]) {
  new client.Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}

/** A Prometheus histogram in seconds from the engine's ns histogram: prom-client's Histogram can only observe one value at a time. */
function latencyHistogram(registry: client.Registry, name: string, help: string, read: () => EngineStats) {
  const metric = {
    name, help, type: 'histogram', aggregator: 'sum',
    async get() {
      const s = read();
      const counts = cumulativeBuckets(s.latency_hist);
      const count = s.latency_ns.count;
      const values = [
        ...LATENCY_LE_NS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { le: String(le / 1e9) }, value: counts[i] })),
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: {}, value: (s.latency_ns.avg * count) / 1e9 },
        { metricName: `${name}_count`, labels: {}, value: count },
      ];
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as client.Metric);
}

/** The engine's metrics plus the process metrics, in a registry of their own. */
export function engineRegistry(read: () => EngineStats): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  // prom-client names these three gauges *_total, which Prometheus keeps for counters; the same
  // counts by type stay (nodejs_active_handles{type}, ...), whose sum these were.
  for (const g of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(g);
  // One snapshot per scrape, so a scrape's counters agree with each other: its metrics are collected
  // within a few ms, so a snapshot younger than 50 ms is the same scrape's.
  let snap: EngineStats | undefined;
  let at = -1;
  const stats = () => {
    const now = Date.now();
    if (!snap || now - at > 50) (snap = read()), (at = now);
    return snap;
  };
  const byQueue = (f: (q: EngineStats['queues'][number]) => number) => (): [Labels, number][] => stats().queues.map((q) => [{ queue: String(q.queue) }, f(q)]);
  counter(registry, 'wirewasm_rx_packets_total', 'Frames received by the engine', ['queue'], byQueue((q) => q.rx_packets));
  counter(registry, 'wirewasm_rx_bytes_total', 'Bytes received (wire length)', ['queue'], byQueue((q) => q.rx_bytes));
  counter(registry, 'wirewasm_tx_packets_total', 'Frames handlers forwarded that were sent', ['queue'], byQueue((q) => q.tx_packets));
  counter(registry, 'wirewasm_tx_bytes_total', 'Bytes sent', ['queue'], byQueue((q) => q.tx_bytes));
  counter(registry, 'wirewasm_tx_dropped_total', 'Frames handlers forwarded that were not sent (tx ring full, or still shaped at stop)', [], () => [[{}, stats().tx_dropped]]);
  counter(registry, 'wirewasm_delivered_total', 'Frames the handler took without throwing', ['worker'], () => stats().workers.map((w) => [{ worker: String(w.worker) }, w.delivered]));
  counter(registry, 'wirewasm_dropped_total', 'Frames dropped, by reason', ['reason'], () => DROP_REASONS.map((r) => [{ reason: r }, stats().dropped[r]]));
  counter(registry, 'wirewasm_worker_restarts_total', 'Worker threads replaced after they died or hung', ['worker'], () => stats().workers.map((w) => [{ worker: String(w.worker) }, w.restarts]));
  latencyHistogram(registry, 'wirewasm_latency_seconds', 'Processing latency of a frame, from receive to the end of its handler', stats);
  new client.Gauge({ name: 'wirewasm_pool_frames_in_use', help: 'Frames out of the pool', registers: [registry], collect() { this.set(stats().pool.in_use); } });
  new client.Gauge({ name: 'wirewasm_pool_frames', help: 'Frames in the pool', registers: [registry], collect() { this.set(stats().pool.frames); } });
  return registry;
}

export interface MetricsServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves `registry` on http://host:port/metrics (port 0: any free port). */
export async function serveMetrics(registry: client.Registry, o: { port: number; host?: string }): Promise<MetricsServer> {
  const host = o.host ?? '127.0.0.1';
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('try /metrics\n');
      return;
    }
    try {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (e) {
      res.writeHead(500).end(`${(e as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is in use; pick another' : code === 'EADDRNOTAVAIL' ? 'no interface has this address; --metrics-host takes a local address' : (e as Error).message;
      reject(new Error(`--metrics-port ${o.port} --metrics-host ${host}: ${why}`));
    });
    server.listen(o.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { host, port, url: `http://${shown}:${port}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
}
