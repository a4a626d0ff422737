// What handlers emit() and keep(), and what parser plugins emit, read on the main thread: the
// records ring (assembly/engine/worker.ts flushRecords) taken in bursts of 256, plugin records as the
// workers post them, handed to the caller as batches by Engine.records().
import { META } from '../meta.js';
import { Packet } from '../packet.js';
import type { PluginRecord } from '../plugins/index.js';
import { RECORD_FRAME } from './burst.js';
import type { EngineRuntime } from './setup.js';

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

/** Empty looks at the records ring on consecutive event-loop turns before the reader sleeps 1 ms. */
const IDLE_SPINS = 64;

/** Where the engine's run stands, as the records iterator needs it. */
export interface RecordsRun {
  readonly state: string;
  /** Settles when stop() finished. */
  readonly stopping?: Promise<unknown>;
}

export class Records {
  private plugin: PluginRecord[] = [];
  /**
   * Records lost on the host side, part of records_dropped: plugin records beyond
   * PLUGIN_RECORDS_MAX, and records a reader had not taken yet when stop() released the ring.
   */
  dropped = 0;
  /** A records() reader is attached: what stop() finds on the ring was lost to it. */
  private reading = false;

  constructor(private readonly rt: EngineRuntime) {}

  /** Plugin records a worker posted. */
  takePlugin(records: PluginRecord[]): void {
    const room = PLUGIN_RECORDS_MAX - this.plugin.length;
    if (records.length > room) this.dropped += records.length - Math.max(0, room);
    for (let i = 0; i < Math.min(room, records.length); i++) this.plugin.push(records[i]);
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
  }

  private take(): { values: number[]; frames: number[] } | undefined {
    const { wasm, u32, dequeue: dst } = this.rt;
    const ring = this.rt.layout.ring('records').offset;
    const values: number[] = [];
    const frames: number[] = [];
    for (;;) {
      const n = wasm.ringDequeueBurst64(ring, dst, 256);
      for (let i = 0; i < n; i++) {
        const lo = u32[(dst >> 2) + 2 * i];
        const hi = u32[(dst >> 2) + 2 * i + 1];
        if (hi === RECORD_FRAME) frames.push(lo);
        else values.push(hi * 0x100000000 + lo);
      }
      if (n < 256) break;
    }
    return values.length || frames.length ? { values, frames } : undefined;
  }

  private release(frames: number[]): void {
    for (const f of frames) this.rt.wasm.frameRelease(this.rt.ctx, this.rt.hostCache, f);
  }

  /**
   * Batches until the engine stopped. Kept frames are Packet views valid until the loop asks for
   * the next batch; then they go back to the pool.
   */
  async *batches(run: RecordsRun): AsyncGenerator<RecordBatch> {
    let held: number[] = [];
    let idle = 0;
    this.reading = true;
    try {
      for (;;) {
        this.release(held);
        held = [];
        const ended = run.state === 'stopped' || run.state === 'failed';
        const b = run.state === 'stopped' ? undefined : this.take();
        const plugins = this.plugin.splice(0);
        if (b || plugins.length) {
          held = b?.frames ?? [];
          const buf = this.rt.memory.buffer;
          const meta = this.rt.layout.meta.offset;
          idle = 0;
          yield { values: b?.values ?? [], packets: held.map((f) => new Packet(buf, meta + f * META.BYTES)), plugins };
          continue;
        }
        if (ended || run.state === 'stopping') {
          if (run.state === 'stopping') await run.stopping?.catch(() => undefined);
          // Plugin records the workers posted while draining arrive with their last messages.
          const rest = this.plugin.splice(0);
          if (rest.length) yield { values: [], packets: [], plugins: rest };
          return;
        }
        // Right after records came, look again on the next turn of the event loop (more are likely,
        // and a 1 ms timer is what a record would wait); after IDLE_SPINS empty looks, sleep 1 ms.
        if (++idle < IDLE_SPINS) await new Promise((r) => setImmediate(r));
        else await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      this.release(held);
    }
  }
}
