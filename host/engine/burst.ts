// What the user's handler gets once per burst: zero-copy Packet views over the frames the worker's
// WASM burst delivered, and two ways to send something to the main thread through the records
// ring: `emit(value)` for numbers, `keep(i)` for the frame itself (zero-copy: the record holds a
// reference of the frame, the main thread's records() iterator releases it after the batch).
//
// The Burst object and its Packet views are allocated once per worker and re-pointed each burst,
// so calling a handler allocates nothing unless the handler does.
import { WC } from '../abi.js';
import { META } from '../meta.js';
import { Packet } from '../packet.js';
import type { PluginRecord } from '../plugins/host.js';
import { STAT_WORD } from './stats.js';

/** Top bit of a record: the low 32 bits are a frame index the receiver must release. */
export const RECORD_FRAME = 0x80000000;
/**
 * A frame record as keep() stages it: the frame's slot in the burst list, without a reference. The
 * worker's next poll gives the record the burst's reference of the frame and marks it RECORD_FRAME
 * (assembly/engine/worker.ts flushRecords). Staging is then two plain stores (record, count), so a
 * worker terminated between them leaves no reference behind.
 */
export const RECORD_KEEP = 0x80000001;

export interface BurstLayout {
  metaBase: number;
  framesBase: number;
  frameSize: number;
  /** Absolute addresses inside this worker's block. */
  list: number;
  control: number;
  records: number;
  recordSlots: number;
  statsBlock: number;
  /** This worker's transmit list (frames forwarded this burst) and its size; transmit queues. */
  tx: number;
  txSlots: number;
  txQueues: number;
}

export class Burst implements Iterable<Packet> {
  /** Frames in this burst. */
  length = 0;
  /** Records the parser plugins emitted on this burst ({plugin, kind, bytes, metadata}). */
  pluginRecords: readonly PluginRecord[] = [];
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly views: Packet[];

  constructor(
    readonly memory: WebAssembly.Memory,
    /** The worker running this handler (0-based). */
    readonly worker: number,
    private readonly at: BurstLayout,
    capacity: number,
  ) {
    this.u32 = new Uint32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
    this.views = Array.from({ length: capacity }, () => new Packet(memory.buffer));
  }

  /** Index in the frame pool of frame i. */
  frame(i: number): number {
    return this.u32[(this.at.list >> 2) + i];
  }

  /** Address of frame i's 64-byte metadata record. */
  meta(i: number): number {
    return this.at.metaBase + this.frame(i) * META.BYTES;
  }

  /** A Packet view of frame i (the same object for the same i within a worker: copy what you keep). */
  packet(i: number): Packet {
    if (i < 0 || i >= this.length) throw new RangeError(`packet ${i} of a burst of ${this.length}`);
    return this.views[i].at(this.meta(i));
  }

  /** The captured bytes of frame i's first segment, as a view into the shared memory (no copy). */
  bytes(i: number): Uint8Array {
    const m = this.meta(i) >> 2;
    return this.u8.subarray(this.u32[m + META.DATA / 4], this.u32[m + META.DATA / 4] + this.u32[m + META.CAPLEN / 4]);
  }

  /** The frame-director mark of frame i (0 when no rule marked it). */
  mark(i: number): number {
    return this.u32[(this.meta(i) + META.MARK) >> 2];
  }

  /** Sends a number (0 .. 2^53) to the main thread's records(); false when this burst's record space is full. */
  emit(value: number): boolean {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`emit: ${value} is not an integer 0..2^53-1`);
    const hi = Math.floor(value / 0x100000000);
    if (hi >= RECORD_FRAME) throw new RangeError('emit: value too large');
    return this.push(value >>> 0, hi);
  }

  /** Hands frame i itself to the main thread's records(), without a copy. */
  keep(i: number): boolean {
    if (i < 0 || i >= this.length) throw new RangeError(`keep: packet ${i} of a burst of ${this.length}`);
    return this.push(i, RECORD_KEEP);
  }

  /**
   * Hands every frame of this burst to the main thread's records(), as keep(i) for each i in order.
   * Returns how many were kept: fewer when the burst's record space fills (the rest counted as records dropped).
   */
  keepAll(): number {
    const countAt = (this.at.control + WC.RECORD_COUNT) >> 2;
    const n = this.u32[countAt];
    const k = Math.max(0, Math.min(this.length, this.at.recordSlots - n));
    for (let i = 0, o = (this.at.records >> 2) + n * 2; i < k; i++, o += 2) {
      this.u32[o] = i;
      this.u32[o + 1] = RECORD_KEEP;
    }
    this.u32[countAt] = n + k;
    if (k < this.length) this.u32[(this.at.statsBlock >> 2) + 2 * STAT_WORD.RECORDS_DROPPED] += this.length - k; // as push() counts them
    return k;
  }

  /**
   * Sends frame i on transmit queue `queue` (default: the queue it came in on), zero-copy: the
   * frame is held until the queue's shaper lets it go. False when this burst's transmit list is full.
   */
  forward(i: number, queue = this.u32[(this.meta(i) + META.QUEUE) >> 2] & 0xffff): boolean {
    if (!Number.isInteger(queue) || queue < 0 || queue >= this.at.txQueues) throw new RangeError(`forward: queue ${queue} does not exist (0..${this.at.txQueues - 1})`);
    if (i < 0 || i >= this.length) throw new RangeError(`forward: packet ${i} of a burst of ${this.length}`);
    const countAt = (this.at.control + WC.TX_COUNT) >> 2;
    const n = this.u32[countAt];
    if (n >= this.at.txSlots) return false;
    // The entry, then the count, and no reference: the worker's next poll takes it (flushTx), so a
    // worker terminated anywhere in here leaves nothing to undo.
    this.u32[(this.at.tx >> 2) + n] = (queue << 24) | this.frame(i);
    this.u32[countAt] = n + 1;
    return true;
  }

  private push(lo: number, hi: number): boolean {
    const countAt = (this.at.control + WC.RECORD_COUNT) >> 2;
    const n = this.u32[countAt];
    if (n >= this.at.recordSlots) {
      this.u32[(this.at.statsBlock >> 2) + 2 * STAT_WORD.RECORDS_DROPPED]++; // the low word; one writer: this worker
      return false;
    }
    const o = (this.at.records >> 2) + n * 2;
    this.u32[o] = lo;
    this.u32[o + 1] = hi;
    this.u32[countAt] = n + 1;
    return true;
  }

  *[Symbol.iterator](): Iterator<Packet> {
    for (let i = 0; i < this.length; i++) yield this.packet(i);
  }
}
