// The consumer side: records messages off NATS, decoded, so a downstream service needs no glue.
//
//   const sub = await subscribeRecords({ url: 'nats://a:4222,nats://b:4222', subject: 'wirewasm.*.records.>' });
//   for await (const batch of sub) for (const r of batch.records) use(batch.engine, batch.queue, r.seq, r.bytes);
//
// Core NATS by default; with `durable` (or `stream`) a JetStream consumer on the stream holding the
// subject, which acknowledges each message once the loop asked for the next one, so a consumer that
// restarts under the same durable name resumes where it stopped. A message on the subject that is
// not a records message (foreign) or does not decode (malformed) is counted and skipped; a batch
// whose records this consumer already had is counted as a duplicate and skipped, so every record,
// named by (engine, queue, seq), comes out once.
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { decodeBatch, FramingError, isRecordsMessage, type DecodedBatch } from './framing.js';
import { connectTo } from './sink.js';

export interface SubscribeOptions {
  /** NATS server URL, or several comma separated. */
  url: string;
  /** Subject, wildcards allowed: e.g. wirewasm.*.records.> */
  subject: string;
  /** JetStream durable consumer name: resumes where it stopped; implies JetStream. */
  durable?: string;
  /** JetStream stream to read (default: the stream holding `subject`, when durable is set). */
  stream?: string;
}

export interface ConsumerStats {
  messages: number;
  batches: number;
  records: number;
  /** Messages that are not records messages at all (no magic): skipped. */
  foreign: number;
  /** Records messages that do not decode (lengths past the end, unknown kind): skipped. */
  malformed: number;
  /** Batches whose records came before (a redelivery): skipped. */
  duplicates: number;
  /** Batches that skipped ahead of the next expected sequence of their (engine, queue). */
  gaps: number;
  /** The last decode error, for the log. */
  last_error?: string;
  reconnects: number;
}

export interface RecordSubscription extends AsyncIterable<DecodedBatch> {
  readonly stats: ConsumerStats;
  readonly jetstream: boolean;
  close(): Promise<void>;
}

export async function subscribeRecords(o: SubscribeOptions): Promise<RecordSubscription> {
  const nc = await connectTo(o.url, 'wirewasm sub');
  const stats: ConsumerStats = { messages: 0, batches: 0, records: 0, foreign: 0, malformed: 0, duplicates: 0, gaps: 0, reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') stats.reconnects++;
  })();
  const next = new Map<string, number>();
  /** The decoded batch, or undefined when the message is counted and skipped. */
  const accept = (data: Uint8Array): DecodedBatch | undefined => {
    stats.messages++;
    if (!isRecordsMessage(data)) {
      stats.foreign++;
      return undefined;
    }
    let b: DecodedBatch;
    try {
      b = decodeBatch(data);
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
      stats.malformed++;
      stats.last_error = e.message;
      return undefined;
    }
    const key = `${b.engine}\u0000${b.queue}`;
    const want = next.get(key);
    if (want !== undefined && b.seq < want) {
      stats.duplicates++;
      return undefined;
    }
    if (want !== undefined && b.seq > want) stats.gaps++;
    next.set(key, b.seq + b.records.length);
    stats.batches++;
    stats.records += b.records.length;
    return b;
  };
  try {
    if (o.durable || o.stream) return await jsSubscription(nc, o, stats, accept);
    return await coreSubscription(nc, o, stats, accept);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw e;
  }
}

async function coreSubscription(nc: NatsConnection, o: SubscribeOptions, stats: ConsumerStats, accept: (d: Uint8Array) => DecodedBatch | undefined): Promise<RecordSubscription> {
  const sub = nc.subscribe(o.subject);
  await nc.flush(); // the server has the subscription before we return
  return {
    stats,
    jetstream: false,
    async *[Symbol.asyncIterator]() {
      for await (const m of sub as AsyncIterable<Msg>) {
        const b = accept(m.data);
        if (b) yield b;
      }
    },
    async close() {
      sub.unsubscribe();
      await nc.close().catch(() => undefined);
    },
  };
}

async function jsSubscription(nc: NatsConnection, o: SubscribeOptions, stats: ConsumerStats, accept: (d: Uint8Array) => DecodedBatch | undefined): Promise<RecordSubscription> {
  const jsm = await jetstreamManager(nc);
  let stream = o.stream;
  if (!stream) {
    stream = await jsm.streams.find(o.subject).catch(() => undefined);
    if (!stream) throw new Error(`no JetStream stream holds "${o.subject}"; publish with a stream (--publish ... with publish.stream) or name one with --stream`);
  }
  const js = jetstream(nc);
  let consumer;
  if (o.durable) {
    await jsm.consumers.add(stream, { durable_name: o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: o.subject, max_ack_pending: 10_000 });
    consumer = await js.consumers.get(stream, o.durable);
  } else consumer = await js.consumers.get(stream, { filter_subjects: [o.subject] });
  const messages = await consumer.consume({ max_messages: 1000 });
  return {
    stats,
    jetstream: true,
    async *[Symbol.asyncIterator]() {
      let prev: JsMsg | undefined;
      for await (const m of messages) {
        prev?.ack();
        prev = m;
        const b = accept(m.data);
        if (b) yield b;
      }
      prev?.ack();
    },
    async close() {
      await messages.close().catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
}
