// Replay streams: the frames a queue's replay source copies into pool frames (assembly/engine/replay.ts
// sourcePoll), laid out in the scratch region as the WASM replay source reads them:
//
//   record (8-byte aligned): | 0 caplen u32 | 4 wirelen u32 | 8 timestamp ns u64 | 16 linktype u32 | 20 0 | 24 bytes… pad to 8 |
//
// A capture file becomes one refilled stream (queue 0): a ring of records in bounded memory that
// the host tops up from the file as the replay source consumes it (CaptureRefill), so a capture of
// any size replays, from a pipe too, and --loops reads the file again rather than holding it.
// Frames given in memory are dealt over the queues by their RSS hash, as a multi-queue NIC would.
import { statSync } from 'node:fs';
import { SRC, STREAM_WRAP } from '../abi.js';
import { CaptureFormatError, CaptureReader, MAX_RECORD_BYTES, type CaptureRecord } from '../pcap/index.js';

export const STREAM_RECORD_HEADER = 24;

export interface StreamFrame {
  data: Uint8Array;
  wireLength: number;
  timestampNs: bigint;
  linktype: number;
}

export interface Stream {
  /** The frames to write into the engine's memory; released (emptied) once written there. */
  frames: StreamFrame[];
  /** How many frames the stream holds: `frames` is emptied once written, this stays. */
  count: number;
  bytes: number;
  firstTs: bigint;
  /** A capture file's stream: `bytes` is its ring, filled as it plays. */
  refill?: CaptureRefill;
}

export const recordBytes = (caplen: number) => (STREAM_RECORD_HEADER + caplen + 7) & ~7;

/** Writes `f` as a stream record at `at` (the layout above); returns the record's bytes, padding included. */
function putRecord(dv: DataView, u8: Uint8Array, at: number, f: StreamFrame): number {
  dv.setUint32(at, f.data.length, true);
  dv.setUint32(at + 4, Math.max(f.wireLength, f.data.length), true);
  dv.setBigUint64(at + 8, f.timestampNs, true);
  dv.setUint32(at + 16, f.linktype, true);
  dv.setUint32(at + 20, 0, true);
  u8.set(f.data, at + STREAM_RECORD_HEADER);
  return recordBytes(f.data.length);
}

function stream(frames: StreamFrame[]): Stream {
  let bytes = 0;
  for (const f of frames) bytes += recordBytes(f.data.length);
  return { frames, count: frames.length, bytes, firstTs: frames.length ? frames[0].timestampNs : 0n };
}

/** The most a refilled stream's ring takes; a small file gets a ring of about its size. */
export const REFILL_RING_BYTES = 8 << 20;
/** The least: two of the largest records and the wrap mark. */
const REFILL_RING_MIN = 2 * recordBytes(MAX_RECORD_BYTES) + 64;

/**
 * A capture file played through a ring in the engine's memory: pump() writes the records that fit
 * where the replay source's cursor has passed and publishes them (SRC.END), so the file is read
 * as fast as the engine takes it and never held; at the file's end it reads it again while loops
 * remain, then says the input ended (SRC.INPUT_END). Damage ends the input, as in tcpdump: the
 * records before it play, and `problem` names the file, the record and its byte offset.
 */
export class CaptureRefill {
  readonly ringBytes: number;
  /** Records published so far (all loops). */
  published = 0;
  /** The damage that ended the input: "FILE: record N: what (at byte B); K records before it were replayed". */
  problem?: string;
  private reader?: CaptureReader;
  private pending?: CaptureRecord;
  private loopsLeft: number;
  private base = 0;
  private write = 0;
  private ended = false;
  private perLoop = 0;
  private taken = 0;

  /** Opens `file` ('-' is stdin) and reads its first record; `empty` when it has none. */
  constructor(
    private readonly file: string,
    loops: number,
    /** Records to play in all (replay -c); the file is read no further. */
    private readonly count = Infinity,
  ) {
    if (file === '-' && loops !== 1) throw new Error(`--loops ${loops} with stdin: a pipe cannot be read twice; replay a file to loop`);
    this.loopsLeft = loops === 0 ? Infinity : loops;
    const size = file === '-' ? REFILL_RING_BYTES : statSync(file).size;
    this.ringBytes = Math.min(REFILL_RING_BYTES, Math.max(REFILL_RING_MIN, ((size * 2 + 7) & ~7) + 4096));
    this.reader = CaptureReader.open(file);
    this.pending = this.next();
  }

  get empty(): boolean {
    return this.pending === undefined && this.published === 0;
  }

  get firstTs(): bigint {
    return this.pending?.timestampNs ?? 0n;
  }

  /** The link type of the first record (what the engine's filter is compiled for). */
  get linktype(): number | undefined {
    return this.pending?.linktype;
  }

  /** The ring starts at `at` (the stream's place in the scratch region). */
  place(at: number): void {
    this.base = this.write = at;
  }

  private next(): CaptureRecord | undefined {
    for (;;) {
      if (!this.reader) return undefined;
      if (this.taken >= this.count) {
        this.close();
        return undefined;
      }
      try {
        const r = this.reader.next();
        if (r) {
          this.perLoop++;
          this.taken++;
          return r;
        }
      } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
        this.problem = `${this.file === '-' ? 'stdin' : this.file}: ${e.message}; the ${this.perLoop} record(s) before it were replayed`;
        this.loopsLeft = 0;
      }
      this.reader.close();
      this.reader = undefined;
      this.loopsLeft--;
      if (this.loopsLeft <= 0 || this.perLoop === 0) return undefined;
      this.perLoop = 0;
      this.reader = CaptureReader.open(this.file);
    }
  }

  /** Writes what fits behind the replay source's cursor and publishes it. Nothing here runs per packet in WASM. */
  pump(memory: WebAssembly.Memory, src: number): void {
    if (this.ended) return;
    const u32 = new Uint32Array(memory.buffer);
    const u8 = new Uint8Array(memory.buffer);
    const dv = new DataView(memory.buffer);
    const cursor = Atomics.load(u32, (src + SRC.CURSOR) >> 2);
    const end = this.base + this.ringBytes;
    let w = this.write;
    for (;;) {
      const r = this.pending;
      if (!r) {
        Atomics.store(u32, (src + SRC.END) >> 2, w);
        Atomics.store(u32, (src + SRC.INPUT_END) >> 2, 1);
        this.ended = true;
        this.write = w;
        return;
      }
      const need = recordBytes(r.data.length);
      // Room ahead of the cursor, keeping 8 bytes free so a full ring never looks empty, and
      // 8 at the ring's end for the wrap mark.
      if (w >= cursor) {
        if (w + need > end - 8) {
          if (this.base + need >= cursor) break;
          dv.setUint32(w, STREAM_WRAP, true);
          w = this.base;
        }
      } else if (w + need >= cursor) break;
      w += putRecord(dv, u8, w, r);
      this.published++;
      // The record is in the ring: the reader may now reuse its buffer.
      this.pending = this.next();
    }
    this.write = w;
    Atomics.store(u32, (src + SRC.END) >> 2, w);
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }
}

/** A capture file as one refilled stream; an empty capture gives a stream with nothing to play. */
export function captureStream(file: string, loops: number, count?: number): Stream {
  const refill = new CaptureRefill(file, loops, count);
  if (refill.empty && !refill.problem) {
    refill.close();
    return stream([]);
  }
  return { frames: [], count: 0, bytes: refill.ringBytes, firstTs: refill.firstTs, refill };
}

/** Deals frames over `queues` streams by `queueOf` (a NIC's RSS), timestamped 1 µs apart. */
export function memoryStreams(frames: readonly Uint8Array[], queues: number, linktype: number, queueOf: (frame: Uint8Array) => number = () => 0): Stream[] {
  const per: StreamFrame[][] = Array.from({ length: queues }, () => []);
  frames.forEach((data, i) => per[queueOf(data) % queues].push({ data, wireLength: Math.max(data.length, 60), timestampNs: BigInt(i) * 1000n, linktype }));
  return per.map(stream);
}

/** Writes a stream at `at` in the memory. */
export function writeStream(memory: WebAssembly.Memory, at: number, s: Stream): void {
  const u8 = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  let o = at;
  for (const f of s.frames) o += putRecord(dv, u8, o, f);
}
