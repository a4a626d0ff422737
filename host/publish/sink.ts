// The publish sink: what an engine produces (handler emit()/keep() records, parser plugin records)
// batched into records messages (framing.ts) and published to NATS, core or JetStream.
//
// ```
//   engine's laid-out records drain (Engine.recordsDrain().takeRuns): one WASM call takes a burst of
//        │   up to 256 records off the ring, copies the kept frames into the stage already framed and
//        │   releases them; each run of a queue's frames goes into the open message of its queue with
//        │   one copy (full or end of turn → publish)
//        └─ window full? block: stop taking (the engine's records ring fills; its overflow is
//           counted as records_dropped)  |  drop: take the burst, count it as publish_dropped
//   publish ─► core: nc.publish, a flush round trip confirms   |   JetStream: js.publish with
//              Nats-Msg-Id <engine>.<queue>.<seq>, acks awaited asynchronously, the window bounded
//              by maxPending bytes; a failed or timed-out publish is sent again with the same id
//              until acknowledged, so a fail-over neither loses nor duplicates a record
// ```
//
// The sink sleeps while the ring is empty and the workers wake it when they put records there,
// each at most once per recordsWakeUs (host/engine/reader-wake.ts), so a record waits that long at
// most, then an event-loop turn.
//
// Every record the sink takes is published, pending, or counted in publish_dropped; stats() says
// which, and reconnects/disconnects say what the connection went through.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { RecordsDrain, RecordsVisitor, RunsVisitor } from '../engine/records.js';
import type { EngineStats } from '../engine/stats.js';
import { BatchWriter, encodeEngineId, HEADER_BYTES, msgId, readU32, RECORD_HEADER_BYTES, type RecordKind } from './framing.js';
import { checkToken, defaultEngineId, recordsPrefix, recordsSubject, serverList, statsSubject } from './subjects.js';
import { fleetSnapshot, type PublishStats } from './fleet.js';
import { checkPublishConfig, type PublishConfig } from './config.js';

export type { PublishStats } from './fleet.js';
export type { PublishConfig } from './config.js';

/** What the sink needs of an engine (Engine has it). */
export interface PublishedEngine {
  readonly running: boolean;
  readonly done: Promise<unknown>;
  stats(): EngineStats;
  recordsDrain(): RecordsDrain;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  /** The writer whose buffer `data` is: back to the spares once settled. */
  w: BatchWriter;
  /** JetStream: the Nats-Msg-Id (msgId); core mode has none. */
  id: string;
  records: number;
  since: number;
  settled: boolean;
  /** Sent more than once: the client may still hold a reference to `data`, so it is not reused. */
  resent?: boolean;
}

interface Lane {
  w: BatchWriter;
  kind: RecordKind;
  tag: string;
  /** recordsSubject of kind and tag: made when they change, not per message. */
  subject: string;
  open: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Core mode: the longest a published message waits for the flush round trip that settles it to
 * start. A round trip costs the sink's thread a PING write and a PONG read and the server both: at
 * a trickle of a few thousand messages a second, one every 20 ms is a few percent of the socket
 * work (one every 2 ms would be about a quarter of it). Fast streams flush on pending bytes instead.
 */
const CORE_FLUSH_MS = 20;
const EMPTY = new Uint8Array(0);

/** Wall clock in ns, comparable across processes on one host. */
export const wallNs = (): number => (performance.timeOrigin + performance.now()) * 1e6;

export class PublishSink implements RunsVisitor {
  readonly engineId: string;
  readonly mode: 'core' | 'jetstream';
  private readonly idBytes: Uint8Array;
  private readonly prefix: string;
  private readonly batchBytes: number;
  private readonly maxPending: number;
  private readonly onFull: 'block' | 'drop';
  private readonly ackTimeout: number;
  private readonly js?: JetStreamClient;
  private readonly lanes: Lane[] = [];
  private readonly seqs: number[] = [];
  private readonly pending: Pending[] = [];
  /** Core mode: messages published since the last flush started. */
  private unflushed: Pending[] = [];
  private flushing = false;
  private flushTimer?: NodeJS.Timeout;
  private waiters: (() => void)[] = [];
  private statsTimer?: NodeJS.Timeout;
  private closed = false;
  private online = true;
  /** JetStream: messages whose publish failed, oldest first, and the one being tried again. */
  private failed: Pending[] = [];
  private probe?: Pending;
  private retryTimer?: NodeJS.Timeout;
  /** Buffers of settled messages for the next ones: a window's worth at most. */
  private readonly spares: BatchWriter[] = [];
  /** The shared memory as words, for the frame copies (BatchWriter.addFrom). */
  private words: Int32Array<ArrayBufferLike> = new Int32Array(0);
  /** Wall clock of the turn the records being taken belong to (the messages' time). */
  private now = 0;
  /** Takes a burst when the window is full in drop mode: nothing is kept. */
  private readonly discard: RecordsVisitor = { value: () => undefined, frame: () => undefined };
  private readonly s = {
    records_in: 0, records_published: 0, publish_dropped: 0, pending_records: 0, pending_bytes: 0, messages_published: 0, bytes_published: 0,
    retries: 0, duplicates: 0, reconnects: 0, disconnects: 0, blocked_ms: 0,
  };

  private constructor(readonly nc: NatsConnection, readonly config: PublishConfig, engineId: string, js?: JetStreamClient) {
    this.engineId = engineId;
    this.idBytes = encodeEngineId(engineId);
    this.prefix = config.subject ?? recordsPrefix(engineId);
    this.batchBytes = config.batchBytes ?? 64 * 1024;
    this.maxPending = config.maxPending ?? 8 << 20;
    this.onFull = config.onFull ?? 'block';
    this.ackTimeout = config.ackTimeoutMs ?? 2000;
    this.js = js;
    this.mode = js ? 'jetstream' : 'core';
    void this.watchStatus();
  }

  /** Connects (and with `stream`, makes sure the stream exists). Rejects naming the server it could not reach. */
  static async open(config: PublishConfig): Promise<PublishSink> {
    checkPublishConfig(config);
    const engineId = checkToken('engine id', config.engineId ?? defaultEngineId());
    const batchBytes = config.batchBytes ?? 64 * 1024;
    const nc = await connectTo(config.url, `wirewasm ${engineId}`);
    if (batchBytes > nc.info!.max_payload) {
      await nc.close();
      throw new Error(`publish.batchBytes ${batchBytes} is larger than the server's max_payload ${nc.info!.max_payload}; lower it or raise max_payload`);
    }
    let js: JetStreamClient | undefined;
    if (config.stream) {
      const jsm = await jetstreamManager(nc);
      const prefix = config.subject ?? recordsPrefix(engineId);
      try {
        const info = await jsm.streams.info(config.stream);
        const covered = await jsm.streams.find(`${prefix}.value`).catch(() => undefined);
        if (covered !== config.stream) throw new Error(`stream ${config.stream} (subjects ${info.config.subjects?.join(', ')}) does not take ${prefix}.>; add that subject to it or use another stream`);
      } catch (e) {
        if (!/not found/i.test((e as Error).message)) {
          await nc.close();
          throw e;
        }
        await jsm.streams.add({ name: config.stream, subjects: [`${prefix}.>`], num_replicas: config.replicas ?? 1, duplicate_window: 120e9 });
      }
      js = jetstream(nc);
    }
    return new PublishSink(nc, config, engineId, js);
  }

  private async watchStatus(): Promise<void> {
    for await (const st of this.nc.status()) {
      if (st.type === 'disconnect') {
        this.s.disconnects++;
        this.online = false;
      } else if (st.type === 'reconnect') {
        this.s.reconnects++;
        this.online = true;
      }
    }
  }

  /**
   * Publishes everything `engine` produces until it stopped, then waits for the last acks
   * (drainTimeoutMs at most). Call right after engine.start() (or before: it waits for it).
   */
  async run(engine: PublishedEngine): Promise<PublishStats> {
    const interval = this.config.statsIntervalMs ?? 1000;
    if (interval > 0) {
      this.statsTimer = setInterval(() => {
        if (engine.running) this.publishStats(engine);
      }, interval);
      this.statsTimer.unref?.();
    }
    let settled = false;
    engine.done.then(() => (settled = true), () => (settled = true));
    while (!engine.running && !settled) await sleep(1);
    try {
      if (!settled || engine.running) {
        const drain = engine.recordsDrain();
        for await (const _ of drain.turns()) {
          const wait = this.turn(drain);
          if (wait) await wait;
        }
      }
    } finally {
      clearInterval(this.statsTimer);
      this.flushLanes();
    }
    this.publishStats(engine);
    await this.drain();
    return this.stats();
  }

  /**
   * Takes what the drain has, burst by burst, while the window has room; publishes it. Returns a
   * promise only when it has to wait for room (block): a turn that does not wait makes none.
   */
  private turn(drain: RecordsDrain): Promise<void> | undefined {
    this.now = wallNs();
    if (this.take(drain)) return this.blocked(drain);
    this.endTurn(drain);
    return undefined;
  }

  /** The window is full (block): what is already encoded goes out, the sink waits for room and takes on. */
  private async blocked(drain: RecordsDrain): Promise<void> {
    do {
      this.flushLanes();
      const t = performance.now();
      await this.room();
      this.s.blocked_ms += performance.now() - t;
      this.now = wallNs();
    } while (this.take(drain));
    this.endTurn(drain);
  }

  /** Takes bursts until the ring is empty (false) or the window is full in block mode (true). */
  private take(drain: RecordsDrain): boolean {
    for (;;) {
      if (this.full()) {
        if (this.onFull === 'block') return true;
        const n = drain.takeBurst(this.discard);
        this.s.records_in += n;
        this.s.publish_dropped += n;
        if (n === 0) return false;
        continue;
      }
      const n = drain.takeRuns(this);
      this.s.records_in += n;
      if (n === 0) return false;
    }
  }

  /** The end of a turn: plugin records, then the open messages published. */
  private endTurn(drain: RecordsDrain): void {
    const plugins = drain.takePlugins();
    if (plugins.length) {
      if (this.full() && this.onFull === 'drop') {
        this.s.records_in += plugins.length;
        this.s.publish_dropped += plugins.length;
      } else {
        for (const r of plugins) this.lane(r.metadata?.queue ?? 0, 'plugin', r.plugin, r.bytes.length).addFrom(r.bytes, 0, r.bytes.length, r.kind);
        this.s.records_in += plugins.length;
      }
    }
    this.flushLanes();
  }

  /** RunsVisitor: a number a handler emitted. */
  value(v: number): void {
    this.lane(0, 'value', '', 8).addValue(v);
  }

  /** RunsVisitor: a frame a handler kept, too large for the stage: copied from the shared memory into its queue's message. */
  frame(mem: Uint8Array, data: number, len: number, queue: number, linktype: number): void {
    if (this.words.buffer !== mem.buffer) this.words = new Int32Array(mem.buffer, mem.byteOffset, mem.byteLength >> 2);
    this.lane(queue, 'frame', '', len).addFrom(mem, data, len, linktype, this.words);
  }

  /**
   * RunsVisitor: `count` frame records of `queue`, already framed at mem[at, at + bytes): copied into
   * the queue's open message with one copy, or split at a record boundary when it fills.
   */
  frames(mem: Uint8Array, at: number, bytes: number, count: number, queue: number): void {
    for (;;) {
      const w = this.open(queue, 'frame', '', RECORD_HEADER_BYTES + readU32(mem, at));
      let take = count;
      let b = bytes;
      if (b > w.free) {
        // As many whole records as fit; the first always does (open() made room for it).
        take = 0;
        b = 0;
        for (let len = 0; take < count && b + (len = RECORD_HEADER_BYTES + readU32(mem, at + b)) <= w.free; take++) b += len;
      }
      w.addRecords(mem, at, b, take);
      this.seqs[queue] += take;
      if (take === count) return;
      at += b;
      bytes -= b;
      count -= take;
    }
  }

  /** The window is full: at least maxPending bytes unacknowledged. */
  full(): boolean {
    return this.s.pending_bytes >= this.maxPending;
  }

  /** Resolves when the window has room again. */
  room(): Promise<void> {
    if (!this.full()) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Publishes frames that are already in JS memory (e.g. what `capture` took), as frame records of
   * `queue`: the same messages a running engine's kept frames make.
   */
  takeFrames(frames: readonly { data: Uint8Array; linktype: number }[], queue = 0): void {
    this.now = wallNs();
    for (const f of frames) this.lane(queue, 'frame', '', f.data.length).addFrom(f.data, 0, f.data.length, f.linktype);
    this.s.records_in += frames.length;
    this.flushLanes();
  }

  /** The open message of `queue` with room for a record of `len` bytes, of this kind; counts the record in the queue's sequence. */
  private lane(queue: number, kind: RecordKind, tag: string, len: number): BatchWriter {
    const w = this.open(queue, kind, tag, RECORD_HEADER_BYTES + len);
    this.seqs[queue]++;
    return w;
  }

  /** The open message of `queue` for records of this kind with `need` bytes free (record headers included), begun if need be. */
  private open(queue: number, kind: RecordKind, tag: string, need: number): BatchWriter {
    let l = this.lanes[queue];
    if (!l) {
      l = this.lanes[queue] = { w: this.writer(0), kind, tag, subject: recordsSubject(this.prefix, kind, tag), open: false };
      this.seqs[queue] ??= 0;
    }
    if (l.open && (l.kind !== kind || l.tag !== tag || l.w.free < need)) this.flushLane(queue);
    if (!l.open) {
      const tagBytes = tag ? new TextEncoder().encode(tag) : EMPTY;
      const size = HEADER_BYTES + this.idBytes.length + tagBytes.length + need;
      if (l.w.buf.length < size) l.w = this.writer(size);
      if (l.kind !== kind || l.tag !== tag) l.subject = recordsSubject(this.prefix, kind, tag);
      l.kind = kind;
      l.tag = tag;
      l.w.begin(kind, this.idBytes, tagBytes, queue, this.seqs[queue], this.now);
      l.open = true;
    }
    return l.w;
  }

  /** A writer of batchBytes (a spare one if any), or larger when one record needs more. */
  private writer(need: number): BatchWriter {
    if (need > this.batchBytes) return new BatchWriter(need);
    return this.spares.pop() ?? new BatchWriter(this.batchBytes);
  }

  private flushLanes(): void {
    for (let q = 0; q < this.lanes.length; q++) if (this.lanes[q]?.open) this.flushLane(q);
  }

  private flushLane(queue: number): void {
    const l = this.lanes[queue];
    l.open = false;
    const records = l.w.count;
    const data = l.w.finish();
    const first = this.seqs[queue] - records;
    // The message keeps this buffer until settled: the lane writes the next one in another.
    const w = l.w;
    l.w = this.writer(0);
    this.send({ subject: l.subject, data, w, id: this.js ? msgId(this.engineId, queue, first) : '', records, since: performance.now(), settled: false });
  }

  private send(p: Pending): void {
    this.pending.push(p);
    this.s.pending_records += p.records;
    this.s.pending_bytes += p.data.length;
    if (this.js) this.publishJs(p);
    else this.publishCore(p);
  }

  private publishJs(p: Pending): void {
    this.js!.publish(p.subject, p.data, { msgID: p.id, timeout: this.ackTimeout }).then(
      (ack: { duplicate: boolean }) => {
        if (ack.duplicate) this.s.duplicates++;
        this.settle(p, true);
        // The stream takes messages again: everything that failed meanwhile goes out now.
        if (p === this.probe) {
          this.probe = undefined;
          for (const r of this.failed.splice(0)) this.resend(r);
        }
      },
      () => {
        if (p.settled || this.closed) return;
        // No ack (timeout, the stream's leader moving, the connection gone): the same message again,
        // with the same id, until the stream has it. One message probes at a time, so a broker that
        // is away is not flooded with the whole window every few ms.
        if (p === this.probe) {
          this.probe = undefined;
          this.failed.unshift(p);
        } else this.failed.push(p);
        this.retryLater();
      },
    );
  }

  private resend(p: Pending): void {
    if (p.settled || this.closed) return;
    this.s.retries++;
    p.resent = true;
    this.publishJs(p);
  }

  private retryLater(): void {
    if (this.probe || this.retryTimer || this.failed.length === 0) return;
    const go = () => {
      this.retryTimer = undefined;
      if (this.probe || this.closed) return;
      if (!this.online) return this.retryLater();
      while (this.failed.length && this.failed[0].settled) this.failed.shift();
      const p = this.failed.shift();
      if (!p) return;
      this.probe = p;
      this.resend(p);
    };
    this.retryTimer = setTimeout(go, this.online ? 100 : 250);
  }

  private publishCore(p: Pending): void {
    try {
      this.nc.publish(p.subject, p.data);
    } catch {
      this.settle(p, false);
      return;
    }
    this.unflushed.push(p);
    this.flushCore();
  }

  /**
   * Core NATS has no acks: a flush round trip (PING, PONG) says the server has read everything
   * before it. One round trip confirms every message published before it, so the sink asks at most
   * every CORE_FLUSH_MS, or at once when two full messages wait: a round trip per message would
   * double the socket events of both the sink's thread and the server at low rates, and at high
   * rates a short round trip keeps few message buffers in flight, so the next ones are still in cache.
   */
  private flushCore(now = false): void {
    if (this.flushing || this.unflushed.length === 0) return;
    // A window smaller than two messages fills before that: it flushes at once too, or a blocked
    // engine would wait CORE_FLUSH_MS for room.
    if (!now && !this.full() && this.s.pending_bytes < 2 * this.batchBytes) {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        this.flushCore(true);
      }, CORE_FLUSH_MS);
      return;
    }
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = true;
    const batch = this.unflushed;
    this.unflushed = [];
    this.nc.flush().then(
      () => {
        for (const p of batch) this.settle(p, true);
        this.flushing = false;
        this.flushCore();
      },
      () => {
        // The connection closed with these unconfirmed: counted as dropped (core NATS cannot tell).
        for (const p of batch) this.settle(p, false);
        this.flushing = false;
      },
    );
  }

  private settle(p: Pending, ok: boolean): void {
    if (p.settled) return;
    p.settled = true;
    if (ok && !p.resent && p.w.buf.length === this.batchBytes && this.spares.length * this.batchBytes < this.maxPending) this.spares.push(p.w);
    this.s.pending_records -= p.records;
    this.s.pending_bytes -= p.data.length;
    if (ok) {
      this.s.records_published += p.records;
      this.s.messages_published++;
      this.s.bytes_published += p.data.length;
    } else this.s.publish_dropped += p.records;
    while (this.pending.length && this.pending[0].settled) this.pending.shift();
    if (!this.full() && this.waiters.length) for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until every message is acknowledged, drainTimeoutMs at most; the rest count as publish_dropped. */
  async drain(): Promise<void> {
    const deadline = performance.now() + (this.config.drainTimeoutMs ?? 30_000);
    this.flushLanes();
    this.flushCore(true);
    while (this.s.pending_records > 0 && performance.now() < deadline) await sleep(5);
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    for (const p of [...this.pending]) this.settle(p, false);
  }

  /** Publishes the engine's stats snapshot (and this sink's) to wirewasm.<engine>.stats. */
  publishStats(engine: PublishedEngine): void {
    try {
      this.nc.publish(statsSubject(this.engineId), JSON.stringify(fleetSnapshot(this.engineId, engine.stats(), this.stats())));
    } catch {
      // Closed: the next snapshot goes out after the reconnect.
    }
  }

  stats(): PublishStats {
    const oldest = this.pending.find((p) => !p.settled);
    return {
      engine: this.engineId,
      mode: this.mode,
      ...this.s,
      blocked_ms: Math.round(this.s.blocked_ms),
      lag_ms: oldest ? Math.round(performance.now() - oldest.since) : 0,
      connected: !this.nc.isClosed() && this.online,
    };
  }

  /** Drains (drainTimeoutMs at most) and closes the connection. */
  async close(): Promise<PublishStats> {
    clearInterval(this.statsTimer);
    await this.drain();
    await this.nc.close().catch(() => undefined);
    return this.stats();
  }
}

/** A NATS connection that reconnects forever (2 s between tries of one server); fails naming the servers it could not reach. */
export async function connectTo(url: string, name: string): Promise<NatsConnection> {
  const servers = serverList(url);
  if (servers.length === 0) throw new Error('NATS URL: empty; give nats://host:port (several comma separated)');
  try {
    return await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2000, maxPingOut: 2, timeout: 5000 });
  } catch (e) {
    throw new Error(`cannot reach NATS at ${servers.join(', ')}: ${(e as Error).message}; start nats-server there or fix the URL`);
  }
}
