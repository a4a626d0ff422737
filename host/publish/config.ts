// The publish sink's configuration (the engine config's `publish` key, or PublishSink.open) and the
// checks that run before anything connects, so a bad value is an error naming the field and the fix.
import { checkToken } from './subjects.js';

export interface PublishConfig {
  /** NATS server URL, or several comma separated: nats://127.0.0.1:4222,nats://127.0.0.1:4223 */
  url: string;
  /** Subject prefix; messages go to `<subject>.<kind>` (default wirewasm.<engine>.records). */
  subject?: string;
  /** JetStream stream to publish into (acknowledged, deduplicated); without it, core NATS. */
  stream?: string;
  /** Replicas when the sink has to create the stream (default 1). */
  replicas?: number;
  /** Largest message, bytes (default 64 KiB). */
  batchBytes?: number;
  /** Bytes published and not yet acknowledged before the sink is full (default 8 MiB). */
  maxPending?: number;
  /** When full: hold the engine (default) or drop and count publish_dropped. */
  onFull?: 'block' | 'drop';
  /** This engine's id in subjects and message ids (default host name and pid). */
  engineId?: string;
  /** Stats snapshots to wirewasm.<engine>.stats every so many ms (default 1000; 0: none). */
  statsIntervalMs?: number;
  /** How long a JetStream publish waits for its ack before it is sent again (default 2000 ms). */
  ackTimeoutMs?: number;
  /** At the end, how long to wait for the last acks before counting the rest publish_dropped (default 30 s). */
  drainTimeoutMs?: number;
}

const positiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Checks what can be checked without a server; throws naming the field. Returns `config`. */
export function checkPublishConfig(config: PublishConfig): PublishConfig {
  if (typeof config !== 'object' || config === null) throw new Error('publish: expected an object such as {url: "nats://127.0.0.1:4222"}');
  if (typeof config.url !== 'string' || config.url.trim() === '') throw new Error('publish.url: give the NATS server, nats://host:port (several comma separated)');
  const batchBytes = config.batchBytes ?? 64 * 1024;
  if (!(positiveInt(batchBytes) && batchBytes >= 1024 && batchBytes <= 64 << 20))
    throw new Error(`publish.batchBytes: ${batchBytes} is out of range; use 1 KiB .. 64 MiB (the server's max_payload, 1 MiB by default, must hold it)`);
  if (config.maxPending !== undefined && !positiveInt(config.maxPending)) throw new Error(`publish.maxPending: ${config.maxPending}; use a whole number of bytes above 0`);
  if (config.onFull !== undefined && config.onFull !== 'block' && config.onFull !== 'drop') throw new Error(`publish.onFull: "${config.onFull}" is not 'block' or 'drop'`);
  if (config.stream !== undefined) checkToken('publish.stream', config.stream);
  if (config.subject) for (const t of config.subject.split('.')) checkToken('publish.subject token', t);
  if (config.engineId !== undefined) checkToken('engine id', config.engineId);
  return config;
}
