// The sink's counters as Prometheus metrics (prom-client), for the registry `--metrics-port` serves.
import client from 'prom-client';
import type { PublishStats } from './sink.js';

/** Registers wirewasm_publish_* gauges on `registry`, read from `read()` at each scrape. */
export function registerPublishMetrics(registry: client.Registry, read: () => PublishStats): void {
  const gauge = (name: string, help: string, value: (s: PublishStats) => number) =>
    new client.Gauge({ name, help, labelNames: ['engine'], registers: [registry], collect() { const s = read(); this.set({ engine: s.engine }, value(s)); } });
  gauge('wirewasm_publish_records_total', 'Records the engine handed to the publish sink', (s) => s.records_in);
  gauge('wirewasm_publish_published_total', 'Records acknowledged by NATS (JetStream) or flushed (core)', (s) => s.records_published);
  gauge('wirewasm_publish_dropped_total', 'Records dropped by the sink: window full with on-full drop, or unacknowledged at the end', (s) => s.publish_dropped);
  gauge('wirewasm_publish_pending_records', 'Records published and not acknowledged yet', (s) => s.pending_records);
  gauge('wirewasm_publish_lag_ms', 'Age of the oldest unacknowledged message, ms', (s) => s.lag_ms);
  gauge('wirewasm_publish_retries_total', 'Publishes sent again after a failure or a missing ack', (s) => s.retries);
  gauge('wirewasm_publish_reconnects_total', 'Reconnects to NATS', (s) => s.reconnects);
  gauge('wirewasm_publish_blocked_ms_total', 'Time the sink held the engine because the window was full', (s) => s.blocked_ms);
}
