// The sink's counters as Prometheus metrics (prom-client), for the registry `--metrics-port` serves.
// Names and types pass `promtool check metrics`: counters end in _total, units are base units.
import client from 'prom-client';
import type { PublishStats } from './fleet.js';

/** Registers wirewasm_publish_* metrics on `registry`, read from `read()` at each scrape. */
export function registerPublishMetrics(registry: client.Registry, read: () => PublishStats): void {
  const counter = (name: string, help: string, value: (s: PublishStats) => number) =>
    new client.Counter({
      name, help, labelNames: ['engine'], registers: [registry],
      collect() {
        const s = read();
        this.reset();
        this.inc({ engine: s.engine }, value(s));
      },
    });
  const gauge = (name: string, help: string, value: (s: PublishStats) => number) =>
    new client.Gauge({ name, help, labelNames: ['engine'], registers: [registry], collect() { const s = read(); this.set({ engine: s.engine }, value(s)); } });
  counter('wirewasm_publish_records_total', 'Records the engine handed to the publish sink', (s) => s.records_in);
  counter('wirewasm_publish_published_total', 'Records acknowledged by NATS (JetStream) or flushed (core)', (s) => s.records_published);
  counter('wirewasm_publish_dropped_total', 'Records dropped by the sink: window full with on-full drop, or unacknowledged at the end', (s) => s.publish_dropped);
  counter('wirewasm_publish_retries_total', 'Publishes sent again after a failure or a missing ack', (s) => s.retries);
  counter('wirewasm_publish_reconnects_total', 'Reconnects to NATS', (s) => s.reconnects);
  counter('wirewasm_publish_blocked_seconds_total', 'Time the sink held the engine because the window was full', (s) => s.blocked_ms / 1000);
  gauge('wirewasm_publish_pending_records', 'Records published and not acknowledged yet', (s) => s.pending_records);
  gauge('wirewasm_publish_lag_seconds', 'Age of the oldest unacknowledged message', (s) => s.lag_ms / 1000);
}
