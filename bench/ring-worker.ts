// Worker side of `npm run bench -- ring`: one producer or one consumer of one peer's ring, or one end
// of the latency ping-pong. Every peer runs the same loop: the producer writes `burst` sequence
// numbers into a buffer and hands it to the ring; the consumer takes up to `burst` and checks the
// first and last of each burst against the sequence (a wrong ring shows up as errors, not speed).
import { RingBuffer } from 'ringbuf.js';
import { openRing, type RingPort } from '../host/ring.js';
import type { WorkerContext } from '../host/workers/threads.js';

export type Peer = 'wirewasm' | 'ringbuf.js' | 'js-atomics';

export interface RingBenchArgs {
  peer: Peer;
  role: 'producer' | 'consumer' | 'ping' | 'pong';
  items: number;
  burst: number;
  /** wirewasm: ring addresses (two for ping-pong) and this worker's staging addresses. */
  rings: number[];
  staging: number[];
  /** ringbuf.js and js-atomics: their SharedArrayBuffers (two for ping-pong). */
  sabs: SharedArrayBuffer[];
  /** Start barrier: [ready count, go]. */
  barrier: SharedArrayBuffer;
}

export interface ThroughputResult {
  itemsPerSec: number;
  errors: number;
}

export interface LatencyResult {
  /** One-way latency estimates (round trip / 2), ns, sorted. */
  p50: number;
  p99: number;
  p999: number;
  /** Cost of the two performance.now() calls inside each round trip, ns (not subtracted). */
  timerNs: number;
}

/** What a Node user writes today: an Int32Array ring with Atomics, indexes on separate lines, no caching. */
export class AtomicsRing {
  static bytes = (slots: number) => 128 + slots * 4;
  private readonly idx: Int32Array;
  private readonly data: Int32Array;
  private readonly mask: number;
  constructor(
    sab: SharedArrayBuffer,
    private readonly slots: number,
  ) {
    this.idx = new Int32Array(sab, 0, 32); // write index at [0], read index at [16]
    this.data = new Int32Array(sab, 128, slots);
    this.mask = slots - 1;
  }
  push(src: Int32Array | Uint32Array, n: number): number {
    const w = this.idx[0];
    const free = this.slots - ((w - Atomics.load(this.idx, 16)) | 0);
    const k = n < free ? n : free;
    for (let i = 0; i < k; i++) this.data[(w + i) & this.mask] = src[i];
    Atomics.store(this.idx, 0, (w + k) | 0);
    return k;
  }
  pop(dst: Int32Array | Uint32Array, n: number): number {
    const r = this.idx[16];
    const avail = (Atomics.load(this.idx, 0) - r) | 0;
    const k = n < avail ? n : avail;
    for (let i = 0; i < k; i++) dst[i] = this.data[(r + i) & this.mask];
    Atomics.store(this.idx, 16, (r + k) | 0);
    return k;
  }
}

/** One peer's ring seen through the same two calls: send items[0..n), receive into items. */
interface End {
  items: Uint32Array;
  send(n: number): number;
  recv(max: number): number;
}

function end(ctx: WorkerContext, a: RingBenchArgs, which: number): End {
  if (a.peer === 'wirewasm') {
    const port: RingPort = openRing(ctx.memory, ctx.exports, a.rings[which]).port(a.staging[which], Math.max(a.burst, 1));
    return { items: port.items as Uint32Array, send: (n) => port.enqueue(n), recv: (m) => port.dequeue(m) };
  }
  const items = new Uint32Array(Math.max(a.burst, 1));
  if (a.peer === 'ringbuf.js') {
    const rb = new RingBuffer(a.sabs[which], Uint32Array);
    return { items, send: (n) => rb.push(items, n), recv: (m) => rb.pop(items, m) };
  }
  const r = new AtomicsRing(a.sabs[which], (a.sabs[which].byteLength - 128) / 4);
  return { items, send: (n) => r.push(items, n), recv: (m) => r.pop(items, m) };
}

/** Both workers check in; the consumer (or ping) releases them together and starts its clock. */
function barrier(sab: SharedArrayBuffer, leader: boolean): void {
  const b = new Int32Array(sab);
  Atomics.add(b, 0, 1);
  if (leader) {
    while (Atomics.load(b, 0) < 2);
    Atomics.store(b, 1, 1);
  } else while (Atomics.load(b, 1) === 0);
}

function produce(e: End, total: number, burst: number): void {
  const items = e.items;
  for (let seq = 0; seq < total; ) {
    const k = total - seq < burst ? total - seq : burst;
    for (let i = 0; i < k; i++) items[i] = seq + i;
    seq += e.send(k);
  }
}

function consume(e: End, total: number, burst: number): number {
  const items = e.items;
  let errors = 0;
  for (let expected = 0; expected < total; ) {
    const k = e.recv(burst);
    if (k > 0) {
      if (items[0] !== expected || items[k - 1] !== expected + k - 1) errors++;
      expected += k;
    }
  }
  return errors;
}

function pingPong(ping: boolean, out: End, back: End, rounds: number): LatencyResult | null {
  if (!ping) {
    for (let i = 0; i < rounds; i++) {
      while (back.recv(1) === 0);
      out.items[0] = back.items[0];
      while (out.send(1) === 0);
    }
    return null;
  }
  const rtt = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    out.items[0] = i;
    out.send(1);
    while (back.recv(1) === 0);
    rtt[i] = performance.now() - t0;
    if (back.items[0] !== i) throw new Error(`ping-pong: sent ${i}, got ${back.items[0]} back`);
  }
  const warm = rtt.subarray(Math.min(10_000, rounds >> 2)).sort();
  const at = (q: number) => (warm[Math.min(warm.length - 1, Math.floor(q * warm.length))] * 1e6) / 2;
  const t = new Float64Array(10_000);
  for (let i = 0; i < t.length; i++) {
    const a = performance.now();
    t[i] = performance.now() - a;
  }
  t.sort();
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), timerNs: t[t.length >> 1] * 1e6 * 2 };
}

export default function task(ctx: WorkerContext): ThroughputResult | LatencyResult | null {
  const a = ctx.args as RingBenchArgs;
  if (a.role === 'ping' || a.role === 'pong') {
    const ping = a.role === 'ping';
    // ping sends on ring 0 and hears back on ring 1; pong the other way round.
    const out = end(ctx, a, ping ? 0 : 1);
    const back = end(ctx, a, ping ? 1 : 0);
    barrier(a.barrier, ping);
    return pingPong(ping, out, back, a.items);
  }
  const e = end(ctx, a, 0);
  if (a.role === 'producer') {
    barrier(a.barrier, false);
    produce(e, a.items, a.burst);
    return null;
  }
  barrier(a.barrier, true);
  const t0 = performance.now();
  const errors = consume(e, a.items, a.burst);
  return { itemsPerSec: a.items / ((performance.now() - t0) / 1000), errors };
}
