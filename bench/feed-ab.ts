// The A/B trial of the `feed` suite's wirewasm-feed-ab row (bench/suites/feed.ts): one session sent
// on two loopback lines by two paced native io_uring senders, received by the feed client on
// io_uring with the book, and for each BBO change where its time went:
//
//   sent     the sender submitted the datagram (the earlier of the two lines' copies)
//   walk     the receive walk that reaped it (the backend's receive time of the message)
//   record   JavaScript holds the change (onBookView)
//
//   batch    the decoded batch holding it reached JavaScript (onMessageView)
//
//   waiting = walk − sent     kernel, and the datagram waiting in its ring for the next walk
//   work    = record − walk   the rest of the burst decoded and applied, the hand-off to JavaScript:
//     decode = batch − walk   the burst through the plugin host and the itch plugin
//     book   = record − batch the batch applied to the book, its cursor handed over
//
// `work` is the target's "BBO change to JS record". A sample is GC-affected when a collector pause
// (perf_hooks 'gc' entries of this thread) overlaps its [walk, record].
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { runFeedClient } from '../host/feed/client.js';
import { moldControl, sessionName } from '../host/feed/generator.js';
import type { BookRecord, BookView } from '../host/feed/book.js';
import type { MessageView } from '../host/feed/messages.js';

/** How the trial's JavaScript reads the BBO changes: the zero-allocation cursor, or record objects (the peer). */
export type Consumer = 'view' | 'objects';

export interface Packets {
  data: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
}

type SendResult = { sent: number; errors: number; ns: number; error?: string };

/** A sender worker (SENDER in feed.ts) and the send time of each packet it sent (µs since the epoch). */
export type SenderWorker = Worker & { sentAt: Float64Array };

/** Per-sample storage, made once and reused by every trial: the measuring allocates nothing per change. */
const CAP = 1 << 20;
const S = { seq: new Float64Array(CAP), walk: new Float64Array(CAP), batch: new Float64Array(CAP), rec: new Float64Array(CAP), n: 0, batchUs: 0, have: false };

/**
 * Records the BBO change of sequence `seq`: the batch's walk time of its message (the cursor moves
 * forward to it) and now (µs since the epoch). Returns false once the batch or the sample store ran out.
 */
function sample(batch: MessageView, seq: number, nowUs: number): boolean {
  while (S.have && batch.sequenceNumber !== seq) S.have = batch.next();
  if (!S.have || S.n === CAP) return false;
  S.seq[S.n] = seq;
  S.walk[S.n] = batch.receivedUs;
  S.batch[S.n] = S.batchUs;
  S.rec[S.n++] = nowUs;
  return true;
}

/** Records each BBO change of a batch. */
function sampleView(batch: MessageView, v: BookView, nowUs: number): void {
  S.have = batch.rewind().next();
  while (v.next()) if (v.kind === 'bbo' && !sample(batch, v.seq, nowUs)) return;
}

/** The same for a reader of record objects (OrderBook.records(), made before `nowUs`). */
function sampleObjects(batch: MessageView, records: readonly BookRecord[], nowUs: number): void {
  S.have = batch.rewind().next();
  for (const r of records) if (r.kind === 'bbo' && !sample(batch, Number(r.seq), nowUs)) return;
}

/** CPU time (ns) this thread has used: /proc/thread-self/stat, utime + stime in clock ticks (10 ms). */
function threadCpuNs(): number {
  const f = readFileSync('/proc/thread-self/stat', 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) * 1e7;
}

export interface AbTrial {
  ok: boolean;
  gaps: number;
  achieved: number;
  received: number;
  /** µs per BBO change, in arrival order. */
  work: Float64Array;
  /** The part of `work` until the decoded batch reached JavaScript. */
  decode: Float64Array;
  waiting: Float64Array;
  /** 1 where a GC pause overlapped the change's [walk, record]. */
  gcAffected: Uint8Array;
  gc: { pauses: number; ms: number };
  /** The receiving thread's CPU per message delivered (ns). */
  cpuNsPerMsg: number;
}

/**
 * One A/B trial on io_uring at `rate` msgs/s (`perPacket` messages a datagram), both senders
 * starting together; bursts of at most `burst` datagrams a line.
 */
export async function abTrial(senders: [SenderWorker, SenderWorker], pk: Packets, o: { rate: number; seconds: number; port: number; burst: number; perPacket: number; session: string; consumer?: Consumer; senderCpus?: number[] }): Promise<AbTrial> {
  const pps = o.rate / o.perPacket;
  const count = Math.min(pk.count, Math.max(500, Math.round(pps * o.seconds)));
  const eos = moldControl(sessionName(o.session), BigInt(count * o.perPacket + 1), 0xffff);
  let sent: Promise<SendResult[]> | null = null;
  let batch: MessageView | null = null;
  S.n = 0;
  for (const w of senders) w.sentAt.fill(0);
  const pauses: number[] = [];
  const observer = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) pauses.push(e.startTime, e.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  // timeOrigin read once: its getter makes a heap number a call.
  const origin = performance.timeOrigin;
  const nowUs = () => (origin + performance.now()) * 1000;
  const cpu0 = threadCpuNs();
  const feed = await runFeedClient({
    backend: 'io_uring', transport: 'udp', host: '127.0.0.1', port: o.port, lineB: { host: '127.0.0.1', port: o.port + 1 }, duration: o.seconds + 10, burst: o.burst,
    book: { orders: 1 << 16, symbols: 64, levels: 256 },
    onMessageView: (v) => {
      batch = v;
      S.batchUs = nowUs();
    },
    ...(o.consumer === 'objects' ? { onBook: (records: BookRecord[]) => sampleObjects(batch!, records, nowUs()) } : { onBookView: (v: BookView) => sampleView(batch!, v, nowUs()) }),
    onReady: () => {
      sent = Promise.all(senders.map((w, line) => {
        const done = new Promise<SendResult>((res) => w.once('message', res));
        w.postMessage({ host: '127.0.0.1', port: o.port + line, first: 0, count, pps, eos: eos.buffer, cpus: o.senderCpus });
        return done;
      }));
    },
  });
  const cpu = threadCpuNs() - cpu0;
  observer.disconnect();
  const r = await sent!;
  for (const x of r) if (x.error) throw new Error(x.error);
  const [a, b] = senders.map((w) => w.sentAt);
  const n = S.n;
  const work = new Float64Array(n);
  const decode = new Float64Array(n);
  const waiting = new Float64Array(n);
  const gcAffected = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    work[i] = S.rec[i] - S.walk[i];
    decode[i] = S.batch[i] - S.walk[i];
    const packet = Math.floor((S.seq[i] - 1) / o.perPacket);
    waiting[i] = S.walk[i] - Math.min(a[packet] || Infinity, b[packet] || Infinity);
    const from = S.walk[i] / 1000 - origin;
    const to = S.rec[i] / 1000 - origin;
    for (let p = 0; p < pauses.length; p += 2) if (pauses[p] < to && pauses[p] + pauses[p + 1] > from) gcAffected[i] = 1;
  }
  let gcMs = 0;
  for (let p = 1; p < pauses.length; p += 2) gcMs += pauses[p];
  const achieved = Math.min(...r.map((x) => (x.sent * o.perPacket * 1e9) / x.ns));
  return {
    ok: feed.gaps === 0 && feed.messages === count * o.perPacket, gaps: feed.gaps, achieved, received: feed.messages, work, decode, waiting, gcAffected,
    gc: { pauses: pauses.length / 2, ms: gcMs }, cpuNsPerMsg: cpu / Math.max(1, feed.messages),
  };
}

/** p-quantile of samples (leaving out those marked in `skip`, when given). */
export function quantile(xs: ArrayLike<number>, p: number, skip?: Uint8Array): number {
  const s: number[] = [];
  for (let i = 0; i < xs.length; i++) if (!skip || !skip[i]) s.push(xs[i]);
  if (!s.length) return 0;
  s.sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** What the row reports of one trial. */
export function trialFigures(t: AbTrial) {
  let affected = 0;
  for (const a of t.gcAffected) affected += a;
  const book = t.work.map((w, i) => w - t.decode[i]);
  return {
    ok: t.ok, gaps: t.gaps, p50: quantile(t.work, 0.5), p99: quantile(t.work, 0.99), p99_without_gc: quantile(t.work, 0.99, t.gcAffected),
    decode_p50: quantile(t.decode, 0.5), decode_p99: quantile(t.decode, 0.99), book_p50: quantile(book, 0.5), book_p99: quantile(book, 0.99),
    waiting_p50: quantile(t.waiting, 0.5), waiting_p99: quantile(t.waiting, 0.99), bbo_changes: t.work.length, gc_affected: affected, gc_pauses: t.gc.pauses,
    gc_ms: t.gc.ms, cpu_ns_per_msg: t.cpuNsPerMsg, sent_msgs_per_s: t.achieved,
  };
}
