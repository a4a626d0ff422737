// The consumer side: records messages off NATS, decoded, so a downstream service needs no glue.
//
//   const sub = await subscribeRecords({ url: 'nats://a:4222,nats://b:4222', subject: 'wirewasm.*.records.>' });
//   for await (const batch of sub) for (const r of batch.records) use(batch.engine, batch.queue, r.seq, r.bytes);
//
// or, with no object per record (a cursor reused for every batch):
//
//   const c = new RecordCursor();
//   for await (const batch of sub) for (batch.cursor(c); c.next(); ) use(batch.engine, batch.queue, c.seq, c.data, c.offset, c.length);
//
// Core NATS by default; with `durable` (or `stream`) a JetStream consumer on the stream holding the
// subject, which acknowledges each message once the loop asked for the next one, so a consumer that
// restarts under the same durable name resumes where it stopped. A message on the subject that is
// not a records message (foreign) or does not decode (malformed) is counted and skipped; a batch
// whose records this consumer already had is counted as a duplicate and skipped, so every record,
// named by (engine, queue, seq), comes out once.
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { batchAfter, decodeBatch, FramingError, isRecordsMessage, type DecodedBatch } from './framing.js';
import { connectTo } from './sink.js';
import { subjectWithin } from './subjects.js';

export interface SubscribeOptions {
  /** NATS server URL, or several comma separated. */
  url: string;
  /** Subject, wildcards allowed: e.g. wirewasm.*.records.> */
  subject: string;
  /** JetStream durable consumer name: resumes where it stopped; implies JetStream. */
  durable?: string;
  /** JetStream stream to read (default: the stream holding `subject`, when durable is set). */
  stream?: string;
  /** How long a batch waits for an earlier one of its (engine, queue) before the consumer skips the gap (default 10 s). */
  gapMs?: number;
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
  /** Batches that arrived ahead of an earlier one of their (engine, queue) and were held to keep the order. */
  reordered: number;
  /** Records never seen when the consumer gave up waiting for them (gapMs). */
  gaps: number;
  /** The last decode error, for the log. */
  last_error?: string;
  reconnects: number;
}

export interface RecordSubscription extends AsyncIterable<DecodedBatch> {
  readonly stats: ConsumerStats;
  readonly jetstream: boolean;
  /** The server (host:port) the consumer is connected to now. */
  server(): string;
  close(): Promise<void>;
}

export async function subscribeRecords(o: SubscribeOptions): Promise<RecordSubscription> {
  const nc = await connectTo(o.url, 'wirewasm sub');
  const stats: ConsumerStats = { messages: 0, batches: 0, records: 0, foreign: 0, malformed: 0, duplicates: 0, reordered: 0, gaps: 0, reconnects: 0 };
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') stats.reconnects++;
  })();
  const order = new Reorder(stats, o.gapMs ?? 10_000);
  /** The decoded batch, or undefined when the message is counted and skipped. */
  const decode = (data: Uint8Array): DecodedBatch | undefined => {
    stats.messages++;
    if (!isRecordsMessage(data)) {
      stats.foreign++;
      return undefined;
    }
    try {
      return decodeBatch(data);
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
      stats.malformed++;
      stats.last_error = e.message;
      return undefined;
    }
  };
  try {
    if (o.durable || o.stream) return await jsSubscription(nc, o, stats, decode, order);
    return await coreSubscription(nc, o, stats, decode, order);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw e;
  }
}

type Decode = (d: Uint8Array) => DecodedBatch | undefined;

async function coreSubscription(nc: NatsConnection, o: SubscribeOptions, stats: ConsumerStats, decode: Decode, order: Reorder): Promise<RecordSubscription> {
  const sub = nc.subscribe(o.subject);
  await nc.flush(); // the server has the subscription before we return
  return {
    stats,
    jetstream: false,
    server: () => nc.getServer(),
    [Symbol.asyncIterator]: () => order.run(sub as AsyncIterable<Msg>, (m) => decode(m.data)),
    async close() {
      sub.unsubscribe();
      await nc.close().catch(() => undefined);
    },
  };
}

/** The fix every "JetStream cannot give you this subject" error ends with. */
const CREATE_OR_CORE = 'create a stream holding it (e.g. publish with --publish-stream NAME) or subscribe without --durable/--stream (core NATS)';

/**
 * The stream to read `subject` from: `named`, or the one holding it. Fails at once, in one line
 * naming the subject and the fix, when JetStream is off, the stream does not exist, or it does not
 * hold every subject `subject` matches (a consumer there would wait for records that never come).
 */
async function streamFor(jsm: JetStreamManager, subject: string, named?: string): Promise<string> {
  const stream = named ?? (await jsm.streams.find(subject).catch(() => undefined));
  if (!stream) throw new Error(`no JetStream stream holds "${subject}": ${CREATE_OR_CORE}`);
  const info = await jsm.streams.info(stream).catch((e: Error) => {
    if (/not found/i.test(e.message)) throw new Error(`JetStream stream "${stream}" does not exist (asked for "${subject}"): ${CREATE_OR_CORE}`);
    throw e;
  });
  const held = info.config.subjects ?? [];
  if (!held.some((p) => subjectWithin(subject, p))) throw new Error(`JetStream stream "${stream}" (subjects ${held.join(', ') || 'none'}) does not hold all of "${subject}": ${CREATE_OR_CORE}`);
  return stream;
}

async function jsSubscription(nc: NatsConnection, o: SubscribeOptions, stats: ConsumerStats, decode: Decode, order: Reorder): Promise<RecordSubscription> {
  const jsm = await jetstreamManager(nc).catch((e: Error) => {
    throw new Error(`JetStream at ${nc.getServer()}: ${e.message} (asked for "${o.subject}"); enable JetStream on the server or subscribe without --durable/--stream (core NATS)`);
  });
  const stream = await streamFor(jsm, o.subject, o.stream);
  const js = jetstream(nc);
  let consumer;
  if (o.durable) {
    await jsm.consumers.add(stream, { durable_name: o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: o.subject, max_ack_pending: 10_000 });
    consumer = await js.consumers.get(stream, o.durable);
  } else consumer = await js.consumers.get(stream, { filter_subjects: o.subject }); // one subject: filter_subject, which servers before 2.10 take
  // Pull requests that last 5 s (not the client's 30 s): a request the server lost with a node that
  // died is renewed within seconds instead of stalling the consumer for half a minute.
  const messages = await consumer.consume({ max_messages: 1000, expires: 5000 });
  return {
    stats,
    jetstream: true,
    server: () => nc.getServer(),
    // A message is acknowledged once its batch was handed out (or skipped): a consumer that dies
    // holding a batch gets it again from its durable.
    [Symbol.asyncIterator]: () => order.run(messages as AsyncIterable<JsMsg>, (m) => decode(m.data), (m) => m.ack()),
    async close() {
      await messages.close().catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
}

interface Held<M> {
  batch: DecodedBatch;
  msg: M;
  since: number;
}

/**
 * Puts the batches of each (engine, queue) back in sequence order. A publisher that sends a message
 * again after a fail-over can have it stored after later ones; a batch that arrives ahead of an
 * earlier one is held (counted `reordered`) until the earlier one comes, or gapMs passed (then the
 * missing records are counted in `gaps` and the consumer moves on). A batch whose records all came
 * before is a duplicate: counted and skipped. The first batch of a (engine, queue) sets where it starts.
 */
class Reorder {
  private readonly next = new Map<string, number>();
  private readonly held = new Map<string, Held<unknown>[]>();

  constructor(private readonly stats: ConsumerStats, private readonly gapMs: number) {}

  async *run<M>(source: AsyncIterable<M>, decode: (m: M) => DecodedBatch | undefined, done: (m: M) => void = () => undefined): AsyncGenerator<DecodedBatch> {
    const it = source[Symbol.asyncIterator]();
    let pending = it.next();
    for (;;) {
      const wait = this.oldest();
      const r = wait === undefined ? await pending : await Promise.race([pending, sleep(Math.max(0, wait + this.gapMs - performance.now()))]);
      if (r === undefined) {
        yield* this.skipGaps(done);
        continue;
      }
      pending = it.next();
      if (r.done) break;
      const m = r.value;
      const b = decode(m);
      if (!b) {
        done(m);
        continue;
      }
      for (const x of this.place(b, m)) {
        yield x.batch;
        done(x.msg as M);
      }
    }
  }

  private oldest(): number | undefined {
    let t: number | undefined;
    for (const list of this.held.values()) if (list.length && (t === undefined || list[0].since < t)) t = list[0].since;
    return t;
  }

  /** The batches ready to hand out now that `b` arrived, in order. */
  private place<M>(b: DecodedBatch, msg: M): Held<M>[] {
    const key = `${b.engine}\u0000${b.queue}`;
    const want = this.next.get(key) ?? b.seq;
    if (b.seq + b.count <= want) {
      this.stats.duplicates++;
      return [];
    }
    if (b.seq > want) {
      this.stats.reordered++;
      const list = (this.held.get(key) ?? this.held.set(key, []).get(key)!) as Held<M>[];
      list.push({ batch: b, msg, since: performance.now() });
      list.sort((x, y) => x.batch.seq - y.batch.seq);
      return [];
    }
    return this.release(key, [{ batch: b, msg, since: 0 }]);
  }

  /** Hands out `ready` and then every held batch it makes contiguous. */
  private release<M>(key: string, ready: Held<M>[]): Held<M>[] {
    const out: Held<M>[] = [];
    const list = (this.held.get(key) ?? []) as Held<M>[];
    let q = ready.shift();
    while (q) {
      const want = this.next.get(key) ?? q.batch.seq;
      // A batch overlapping what was handed out already (a retry stored twice past the window): only its new records.
      const skip = Math.max(0, want - q.batch.seq);
      const batch = skip ? batchAfter(q.batch, Math.min(skip, q.batch.count)) : q.batch;
      if (batch.count) {
        this.next.set(key, batch.seq + batch.count);
        this.stats.batches++;
        this.stats.records += batch.count;
        out.push({ ...q, batch });
      } else this.stats.duplicates++;
      const n = this.next.get(key)!;
      q = list.length && list[0].batch.seq <= n ? list.shift() : undefined;
    }
    return out;
  }

  /** Gives up on gaps older than gapMs: counts the missing records and hands out what waited. */
  private *skipGaps(done: (m: never) => void): Generator<DecodedBatch> {
    const now = performance.now();
    for (const [key, list] of this.held) {
      if (!list.length || now - list[0].since < this.gapMs) continue;
      const first = list.shift()!;
      this.stats.gaps += first.batch.seq - (this.next.get(key) ?? first.batch.seq);
      this.next.set(key, first.batch.seq);
      for (const x of this.release(key, [first])) {
        yield x.batch;
        done(x.msg as never);
      }
    }
  }
}

const sleep = (ms: number) => new Promise<undefined>((r) => setTimeout(() => r(undefined), ms));
