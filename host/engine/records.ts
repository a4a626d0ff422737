// What handlers emit() and keep(), and what parser plugins emit, read on the main thread: the
// records ring (assembly/engine/worker.ts flushRecords) taken in bursts of 256, plugin records as the
// workers post them. Two readers sit on the same drain:
//   Engine.records()  batches of values, Packet views and plugin records (convenient, one object per record)
//   takeBurst()       the raw drain: one ring dequeue and one frameReleaseList per burst, each
//                     record handed to a visitor as offsets into the shared memory
//   takeRuns()        the laid-out drain (the publish sink): one WASM call per burst takes the records
//                     and copies the kept frames into the stage in the records framing, runs of them
//                     handed to a visitor, so the reader moves a run with one copy
//
// Waiting. A reader with nothing to take flags itself in the records ring's waiters line and sleeps
// in Atomics.waitAsync on the producer tail; a worker that publishes records sees the flag and
// notifies, each at most once per recordsWakeUs (host/engine/reader-wake.ts), so a record waits for
// that and one event-loop turn. A wake-up a worker owes is sent by one of its next polls: a reader
// that sleeps soon after its last turn (when a worker may owe it one) sleeps recordsWakeUs
// (WAKE_TIMEOUT_MS at least) at most, so a worker kept off its core does not hold the records it
// published for longer. Plugin records and the engine's stop notify the same word.
//
// Stopping. The workers flush their last records while the engine stops, often after a reader
// found the ring empty. So a reader keeps taking until the engine has stopped, and the engine's
// stop waits (settle()) until an attached reader has emptied the ring before it releases what is
// left: a reader gets every record. A reader that has gone (its generator returned) is not waited
// for; one that stays attached but takes nothing for STALL_MS is given up on, and what it left
// is counted in records_dropped.
import { RingHeader } from '../abi.js';
import { META } from '../meta.js';
import { Packet } from '../packet.js';
import type { PluginRecord } from '../plugins/index.js';
import { RECORD_FRAME } from './burst.js';
import type { EngineRuntime } from './setup.js';

/**
 * What the raw drain hands over, record by record, in ring order. The frame's bytes are
 * `mem[data, data + len)`, valid only during the call: the frame goes back to the pool after the burst.
 */
export interface RecordsVisitor {
  /** A number a handler emitted. */
  value(v: number): void;
  /** A frame a handler kept: its bytes in the shared memory, its receive queue and link type. */
  frame(mem: Uint8Array, data: number, len: number, queue: number, linktype: number): void;
}

/**
 * What the laid-out drain (takeRuns) hands over, in ring order: emitted numbers one by one, kept
 * frames in runs already in the records framing (host/publish/framing.ts: per record u32 length,
 * u16 link type, u16 0, the bytes), and frames too large for the stage one by one (frame()).
 */
export interface RunsVisitor extends RecordsVisitor {
  /** `count` consecutive frame records of receive queue `queue` at `mem[at, at + bytes)`, valid only during the call. */
  frames(mem: Uint8Array, at: number, bytes: number, count: number, queue: number): void;
}

export interface RecordBatch {
  /** Numbers handlers emitted, in ring order. */
  values: number[];
  /** Frames handlers kept: valid until the iterator moves on (then released to the pool). */
  packets: Packet[];
  /** Records parser plugins emitted (docs/plugins.md), in the order each worker produced them. */
  plugins: PluginRecord[];
}

/** Plugin records held for records() at most; beyond, they are counted in records_dropped. */
const PLUGIN_RECORDS_MAX = 1 << 16;

/** Records per ring dequeue: the host's dequeue area (host/layout.ts SCRATCH_DEQUEUE_BYTES). */
const BURST = 256;

/** Kind word of a value run in the stage (assembly/engine/records.ts RUN_VALUE). */
const RUN_VALUE = 0xffffffff;

/**
 * A sleeping reader looks at the engine's state at least this often (stop notifies; this is the
 * safety net): one interval timer per reader notifies its wait. Not a timeout on each wait: a
 * trickle wakes a reader thousands of times a second, and each timed wait costs a timer of its own.
 */
const WAIT_MS = 100;

/**
 * The shortest timed sleep (ms): the finest a Node timer goes; a wait with a shorter timeout would
 * end on the event loop's next pass, a busy loop.
 */
const WAKE_TIMEOUT_MS = 1;

/** The engine's stop gives up on an attached reader that took nothing for this long (as long as a worker's drain). */
export const STALL_MS = 10_000;

/** The raw drain as Engine.recordsDrain() hands it out. */
export interface RecordsDrain {
  turns(): AsyncGenerator<void>;
  takeBurst(v: RecordsVisitor): number;
  takeRuns(v: RunsVisitor): number;
  takePlugins(): PluginRecord[];
}

/** Where the engine's run stands, as the records iterator needs it. */
export interface RecordsRun {
  readonly state: string;
}

export class Records {
  private plugin: PluginRecord[] = [];
  /**
   * Records lost on the host side, part of records_dropped: plugin records beyond
   * PLUGIN_RECORDS_MAX, and records a reader had not taken yet when stop() released the ring.
   */
  dropped = 0;
  /** A reader was attached: what stop() finds on the ring was lost to it. */
  private reading = false;
  /** Readers inside turns() now (attached and not returned). */
  private readers = 0;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  /** The records ring, and the Int32 indexes of its producer tail, consumer head and waiting-consumers count. */
  private readonly ring: number;
  private readonly tail: number;
  private readonly head: number;
  private readonly sleepers: number;
  private readonly meta: number;
  /** recordsWakeUs in ms, and when the reader last had something to take (performance.now()). */
  private readonly wakeMs: number;
  private lastTurn = -Infinity;

  constructor(private readonly rt: EngineRuntime) {
    const buf = rt.memory.buffer;
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    const ring = (this.ring = rt.layout.ring('records').offset);
    this.tail = (ring + RingHeader.prodTail) >> 2;
    this.head = (ring + RingHeader.consHead) >> 2;
    this.sleepers = (ring + RingHeader.consumersWaiting) >> 2;
    this.meta = rt.layout.meta.offset;
    this.wakeMs = rt.config.recordsWakeUs / 1000;
  }

  /** Plugin records a worker posted. */
  takePlugin(records: PluginRecord[]): void {
    const room = PLUGIN_RECORDS_MAX - this.plugin.length;
    if (records.length > room) this.dropped += records.length - Math.max(0, room);
    for (let i = 0; i < Math.min(room, records.length); i++) this.plugin.push(records[i]);
    this.wake();
  }

  /** The plugin records posted so far, handed over (the reader owns the array). */
  takePlugins(): PluginRecord[] {
    return this.plugin.length ? this.plugin.splice(0) : [];
  }

  /** Wakes a sleeping reader: records arrived another way, or the engine's state changed. Returns the readers woken. */
  wake(): number {
    return Atomics.notify(this.i32, this.tail);
  }

  /**
   * Releases what is on the records ring at stop (nobody reads it any more). Workers drain their
   * queues after a reader's last look, so with a reader attached these records are counted as
   * dropped: received = delivered + counted drops holds for the reader too.
   */
  drain(): void {
    const batch = this.take();
    if (!batch) return;
    if (this.reading) this.dropped += batch.values.length + batch.frames.length;
    this.release(batch.frames);
    this.wake();
  }

  /**
   * Resolves once no attached reader has records left on the ring: it emptied it, returned, or
   * took nothing for `stallMs`. The engine's stop calls it after the workers have exited (nothing
   * is added any more), before drain().
   */
  async settle(stallMs = STALL_MS): Promise<void> {
    let head = this.i32[this.head];
    let since = performance.now();
    while (this.readers > 0 && this.waiting) {
      this.wake();
      await new Promise((r) => setTimeout(r, 1));
      if (this.i32[this.head] !== head) {
        head = this.i32[this.head];
        since = performance.now();
      } else if (performance.now() - since >= stallMs) return;
    }
  }

  /** Records on the ring now. */
  private get waiting(): boolean {
    return Atomics.load(this.i32, this.tail) !== this.i32[this.head];
  }

  /**
   * The raw drain: one dequeue of up to 256 records, each handed to `v` in ring order, then every
   * frame among them released with one frameReleaseList. Returns the records taken (0: the ring
   * was empty). Allocates nothing. The visitor must not throw: the burst's frames would stay out
   * of the pool.
   */
  takeBurst(v: RecordsVisitor): number {
    const n = this.rt.wasm.ringDequeueBurst64(this.ring, this.rt.dequeue, BURST);
    this.visit(v, 0, n);
    return n;
  }

  /**
   * The laid-out drain: one call takes up to 256 records and lays them out in the stage
   * (assembly/engine/records.ts recordsTake), frames already in the records framing and released;
   * each run goes to `v` in ring order. Frames the stage had no room for (larger than it was sized
   * for) come after, one by one, as takeBurst hands them. Returns the records taken. Allocates nothing.
   */
  takeRuns(v: RunsVisitor): number {
    const { wasm, u32, stage } = this.rt;
    const n = wasm.recordsTake(this.rt.ctx, this.rt.hostCache, this.rt.dequeue, BURST, stage, this.rt.stageBytes);
    if (n === 0) return 0;
    const s = stage >> 2;
    const runs = u32[s];
    const laid = u32[s + 1];
    for (let r = 0, d = s + 4; r < runs; r++, d += 4) {
      const queue = u32[d];
      if (queue === RUN_VALUE) v.value(u32[d + 3] * 0x100000000 + u32[d + 2]);
      else v.frames(this.u8, u32[d + 2], u32[d + 3], u32[d + 1], queue);
    }
    if (laid < n) this.visit(v, laid, n);
    return n;
  }

  /** Hands records [from, n) of the dequeue area to `v`, then releases their frames with one frameReleaseList. */
  private visit(v: RecordsVisitor, from: number, n: number): void {
    const { wasm, u32, dequeue: dst } = this.rt;
    const { u8, u16, meta } = this;
    let frames = 0;
    for (let i = from; i < n; i++) {
      const lo = u32[(dst >> 2) + 2 * i];
      const hi = u32[(dst >> 2) + 2 * i + 1];
      if (hi !== RECORD_FRAME) {
        v.value(hi * 0x100000000 + lo);
        continue;
      }
      const m = meta + lo * META.BYTES;
      v.frame(u8, u32[(m + META.DATA) >> 2], u32[(m + META.CAPLEN) >> 2], u16[(m + META.QUEUE) >> 1], u16[(m + META.LINKTYPE) >> 1]);
      // The release list is built in place over the records already read (slot i is 8 bytes, entry
      // `frames` <= i - from is 4): one call releases the burst's frames.
      u32[(dst >> 2) + frames++] = lo;
    }
    if (frames) wasm.frameReleaseList(this.rt.ctx, this.rt.hostCache, dst, frames);
  }

  private take(): { values: number[]; frames: number[] } | undefined {
    const { wasm, u32, dequeue: dst } = this.rt;
    const ring = this.ring;
    const values: number[] = [];
    const frames: number[] = [];
    for (;;) {
      const n = wasm.ringDequeueBurst64(ring, dst, BURST);
      for (let i = 0; i < n; i++) {
        const lo = u32[(dst >> 2) + 2 * i];
        const hi = u32[(dst >> 2) + 2 * i + 1];
        if (hi === RECORD_FRAME) frames.push(lo);
        else values.push(hi * 0x100000000 + lo);
      }
      if (n < BURST) break;
    }
    return values.length || frames.length ? { values, frames } : undefined;
  }

  private release(frames: number[]): void {
    for (const f of frames) this.rt.wasm.frameRelease(this.rt.ctx, this.rt.hostCache, f);
  }

  /**
   * Flags this reader as sleeping and returns the wait that ends when records may be there: on the
   * ring, posted by a plugin, or the engine's state changed (turns()' timer: WAIT_MS at most;
   * recordsWakeUs soon after the last turn, see "Waiting"); undefined, with the
   * flag taken back, when there is no need to wait. Flag first, then look, then sleep only while
   * the tail still reads what was looked at: a worker publishing in between either sees the flag
   * or is seen. The caller takes the flag back (awake()) once the wait ended. Not an async
   * function: a reader woken many thousand times a second would make a promise more per wake-up.
   */
  private sleep(): Promise<unknown> | undefined {
    const { i32 } = this;
    Atomics.add(i32, this.sleepers, 1);
    const seen = Atomics.load(i32, this.tail);
    // A worker owes a wake-up for at most recordsWakeUs after its last one, which came before this
    // reader's last turn; twice that covers a worker whose clock reading is a poll old.
    const owedMaybe = performance.now() - this.lastTurn < 2 * this.wakeMs;
    const r = seen !== i32[this.head] || this.plugin.length ? undefined : Atomics.waitAsync(i32, this.tail, seen, owedMaybe ? Math.max(WAKE_TIMEOUT_MS, this.wakeMs) : Infinity);
    if (r?.async) return r.value;
    this.awake();
    return undefined;
  }

  private awake(): void {
    Atomics.sub(this.i32, this.sleepers, 1);
  }

  /**
   * Drives a reader until the engine stopped: yields whenever records may be there (the reader
   * then calls takeBurst() and takePlugins() as it likes), sleeps while there are none. While the
   * engine stops it goes on taking what the workers flush last (the stop waits for it, settle());
   * after the stop, it yields for the plugin records that came with the workers' last messages.
   */
  async *turns(run: RecordsRun): AsyncGenerator<void> {
    this.reading = true;
    this.readers++;
    // The safety net keeps no process alive: a reader left unfinished must not hold the process open.
    const net = setInterval(() => this.wake(), WAIT_MS);
    net.unref();
    try {
      for (;;) {
        const state = run.state;
        if (this.plugin.length || (state !== 'stopped' && this.waiting)) {
          this.lastTurn = performance.now();
          yield;
          // A reader that took records and finds more goes through the event loop before its next
          // turn, so its own I/O (a socket write, an ack) is never starved by a ring that keeps
          // filling; one that finds none sleeps, which goes through the event loop anyway.
          if (this.plugin.length || this.waiting) await new Promise((r) => setImmediate(r));
          continue;
        }
        if (state === 'stopped' || state === 'failed') return;
        const wait = this.sleep();
        if (wait) {
          await wait;
          this.awake();
        }
      }
    } finally {
      clearInterval(net);
      this.readers--;
    }
  }

  /**
   * Batches until the engine stopped. Kept frames are Packet views valid until the loop asks for
   * the next batch; then they go back to the pool.
   */
  async *batches(run: RecordsRun): AsyncGenerator<RecordBatch> {
    let held: number[] = [];
    try {
      for await (const _ of this.turns(run)) {
        const b = run.state === 'stopped' ? undefined : this.take();
        const plugins = this.takePlugins();
        if (!b && !plugins.length) continue;
        held = b?.frames ?? [];
        const buf = this.rt.memory.buffer;
        yield { values: b?.values ?? [], packets: held.map((f) => new Packet(buf, this.meta + f * META.BYTES)), plugins };
        // Released before the next turn is awaited: a stop in between finds them back in the pool.
        this.release(held);
        held = [];
      }
    } finally {
      this.release(held);
    }
  }
}
