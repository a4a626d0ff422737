// Replay streams: the frames a queue's replay source copies into pool frames (assembly/dispatch.ts
// sourcePoll), laid out in the scratch region as the WASM replay source reads them:
//
//   record (8-byte aligned): | 0 caplen u32 | 4 wirelen u32 | 8 timestamp ns u64 | 16 linktype u32 | 20 0 | 24 bytes… pad to 8 |
//
// A capture file becomes one stream (queue 0); frames given in memory are dealt over the queues by
// their RSS hash, as a multi-queue NIC would, so each queue's replay source replays its own flows.
import { readCaptureFile } from '../pcap/index.js';

export const STREAM_RECORD_HEADER = 24;

export interface StreamFrame {
  data: Uint8Array;
  wireLength: number;
  timestampNs: bigint;
  linktype: number;
}

export interface Stream {
  frames: StreamFrame[];
  bytes: number;
  firstTs: bigint;
}

export const recordBytes = (caplen: number) => (STREAM_RECORD_HEADER + caplen + 7) & ~7;

function stream(frames: StreamFrame[]): Stream {
  let bytes = 0;
  for (const f of frames) bytes += recordBytes(f.data.length);
  return { frames, bytes, firstTs: frames.length ? frames[0].timestampNs : 0n };
}

/** Reads a capture into one stream; a file cut short replays the records before the damage, and `problem` says what was wrong. */
export function captureStream(file: string): { stream: Stream; problem?: Error } {
  const { records, problem } = readCaptureFile(file);
  return { stream: stream(records.map((r) => ({ data: r.data, wireLength: r.wireLength, timestampNs: r.timestampNs, linktype: r.linktype }))), problem };
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
  for (const f of s.frames) {
    dv.setUint32(o, f.data.length, true);
    dv.setUint32(o + 4, Math.max(f.wireLength, f.data.length), true);
    dv.setBigUint64(o + 8, f.timestampNs, true);
    dv.setUint32(o + 16, f.linktype, true);
    dv.setUint32(o + 20, 0, true);
    u8.set(f.data, o + STREAM_RECORD_HEADER);
    o += recordBytes(f.data.length);
  }
}
