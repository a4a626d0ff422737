// The stats display of the CLI: on a TTY an in-place block (log-update) with a progress bar when the
// total is known, per-queue and per-worker rows, drops and latency percentiles; elsewhere one plain
// line per interval, so logs and pipes stay readable. And the final JSON shape of `--json`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogUpdate } from 'log-update';
import client from 'prom-client';
import { DROP_REASONS, type EngineStats } from '../engine/stats.js';

const si = (x: number, unit = '') => {
  const a = Math.abs(x);
  const [d, s] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${(x / d).toFixed(d === 1 ? 0 : 2)}${s}${unit}`;
};
export const ns = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(2)} s` : x >= 1e6 ? `${(x / 1e6).toFixed(2)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} µs` : `${Math.round(x)} ns`);

function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${(f * 100).toFixed(1).padStart(5)}%`;
}

const drops = (s: EngineStats) =>
  DROP_REASONS.filter((r) => s.dropped[r] > 0)
    .map((r) => `${r}=${s.dropped[r]}`)
    .join(' ') || 'none';

/** The in-place block for a terminal. */
export function renderTty(s: EngineStats, total?: number, title = 'wirewasm'): string {
  const l = s.latency_ns;
  const out = [
    `${title}  ${s.elapsed_s.toFixed(1)} s`,
    total !== undefined ? `${bar(s.rx_packets, total)}  ${s.rx_packets}/${total}` : `received ${s.rx_packets}`,
    `rx ${si(s.pps, 'pps')} ${si(s.bps, 'bps')}   delivered ${s.delivered}   dropped ${s.dropped_total} (${drops(s)})   in flight ${s.in_flight}`,
    `latency p50 ${ns(l.p50)}  p99 ${ns(l.p99)}  p999 ${ns(l.p999)}  avg ${ns(l.avg)}  max ${ns(l.max)}`,
    `pool ${s.pool.in_use}/${s.pool.frames} frames in use${s.tx_packets || s.tx_dropped ? `   tx ${s.tx_packets} (${si(s.tx_bytes * 8)}B)  tx dropped ${s.tx_dropped}` : ''}`,
  ];
  for (const q of s.queues) out.push(`  queue ${q.queue}: rx ${q.rx_packets} (${si(q.pps, 'pps')})  drops ${Object.values(q.dropped).reduce((a, b) => a + b, 0)}`);
  for (const w of s.workers)
    out.push(`  worker ${w.worker}: delivered ${w.delivered} (${si(w.pps, 'pps')})  p50 ${ns(w.latency_ns.p50)}  p99 ${ns(w.latency_ns.p99)}${w.restarts ? `  restarts ${w.restarts}` : ''}`);
  return out.join('\n');
}

/** One line for logs and pipes. */
export function renderLine(s: EngineStats, total?: number): string {
  const l = s.latency_ns;
  const pct = total ? ` ${((100 * s.rx_packets) / total).toFixed(1)}%` : '';
  return `t=${s.elapsed_s.toFixed(1)}s rx=${s.rx_packets}${pct} pps=${Math.round(s.pps)} delivered=${s.delivered} dropped=${s.dropped_total} (${drops(s)}) p50=${ns(l.p50)} p99=${ns(l.p99)} p999=${ns(l.p999)} max=${ns(l.max)}`;
}

/** The `--json` object: `{rx_packets, delivered, dropped:{reason:n}, latency_ns:{p50,p99,p999,max,avg}, queues:[..], ...}`. */
export function statsJson(s: EngineStats, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    rx_packets: s.rx_packets,
    rx_bytes: s.rx_bytes,
    delivered: s.delivered,
    delivered_bytes: s.delivered_bytes,
    tx_packets: s.tx_packets,
    tx_bytes: s.tx_bytes,
    tx_dropped: s.tx_dropped,
    dropped: s.dropped,
    dropped_total: s.dropped_total,
    in_flight: s.in_flight,
    latency_ns: { p50: s.latency_ns.p50, p99: s.latency_ns.p99, p999: s.latency_ns.p999, max: s.latency_ns.max, avg: s.latency_ns.avg },
    queues: s.queues,
    workers: s.workers,
    pool: s.pool,
    records_dropped: s.records_dropped,
    elapsed_s: s.elapsed_s,
    pps_avg: s.elapsed_s > 0 ? s.rx_packets / s.elapsed_s : 0,
    plugins: s.plugins ?? [],
    ...extra,
  };
}

/** Shows stats every `intervalMs` until stopped: in place on a TTY, as lines otherwise, nothing with quiet. */
export function statsDisplay(read: () => EngineStats, opts: { total?: number; title?: string; intervalMs?: number; quiet?: boolean; stream?: NodeJS.WriteStream }) {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const update = tty ? createLogUpdate(stream) : undefined;
  const show = () => {
    if (opts.quiet) return;
    const s = read();
    if (update) update(renderTty(s, opts.total, opts.title));
    else stream.write(renderLine(s, opts.total) + '\n');
  };
  const timer = setInterval(show, opts.intervalMs ?? (tty ? 200 : 1000));
  return {
    stop(final?: EngineStats) {
      clearInterval(timer);
      if (opts.quiet) return;
      if (update) {
        if (final) update(renderTty(final, opts.total, opts.title));
        update.done();
      } else if (final) stream.write(renderLine(final, opts.total) + '\n');
    },
  };
}

/** Serves Prometheus metrics of the engine on `port` while running (prom-client). */
/** `register` adds metrics of a component running beside the engine (the publish sink's) to the same registry. */
export async function serveMetrics(port: number, read: () => EngineStats, register?: (registry: client.Registry) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const registry = new client.Registry();
  register?.(registry);
  const counter = (name: string, help: string, labels: string[], collect: (g: client.Gauge) => void) =>
    new client.Gauge({ name, help, labelNames: labels, registers: [registry], collect() { collect(this); } });
  let snap: EngineStats | undefined;
  const stats = () => (snap ??= read());
  counter('wirewasm_rx_packets_total', 'Frames received by the engine', ['queue'], (g) => stats().queues.forEach((q) => g.set({ queue: String(q.queue) }, q.rx_packets)));
  counter('wirewasm_rx_bytes_total', 'Bytes received (wire length)', ['queue'], (g) => stats().queues.forEach((q) => g.set({ queue: String(q.queue) }, q.rx_bytes)));
  counter('wirewasm_delivered_total', 'Frames the handler took', ['worker'], (g) => stats().workers.forEach((w) => g.set({ worker: String(w.worker) }, w.delivered)));
  counter('wirewasm_dropped_total', 'Frames dropped, by reason', ['reason'], (g) => DROP_REASONS.forEach((r) => g.set({ reason: r }, stats().dropped[r])));
  counter('wirewasm_latency_ns', 'Processing latency (receive -> end of handler), nanoseconds', ['quantile'], (g) => {
    const l = stats().latency_ns;
    g.set({ quantile: '0.5' }, l.p50);
    g.set({ quantile: '0.99' }, l.p99);
    g.set({ quantile: '0.999' }, l.p999);
    g.set({ quantile: 'max' }, l.max);
  });
  counter('wirewasm_pool_frames_in_use', 'Frames out of the pool', [], (g) => g.set(stats().pool.in_use));
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('try /metrics\n');
      return;
    }
    snap = undefined;
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`--metrics-port ${port}: ${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use; pick another' : (e as Error).message}`)));
    server.listen(port, '127.0.0.1', resolve);
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}
