/**
 * The feed client behind `wirewasm feed`: a backend receives into the shared memory, the plugin
 * host runs the `itch` or `soupbintcp-itch` plugin over each burst (isolated, one copy per burst),
 * and the plugin's records and counters become the feed's statistics: messages, gaps, duplicates,
 * malformed, latency (receive time minus ITCH timestamp) and counts per message type.
 *
 *   backend.receive ─▶ rxAddrs (meta records) ─▶ PluginHost.processBurst ─▶ records + counters
 *        ▲ frames back: backend.release                                      └▶ FeedStats
 */
import { kernelBytesFor, openBackend, type Backend } from '../backends/index.js';
import { pcapKernelBytes } from '../backends/pcap.js';
import dgram from 'node:dgram';
import { writePayloadMeta, type PayloadBackend } from '../backends/socket.js';
import { nowNs } from '../clock.js';
import { computeLayout, createMemory, writeControlBlock } from '../layout.js';
import { META } from '../meta.js';
import { loadPlugin, PluginHost, PluginSupervisor } from '../plugins/index.js';
import { compileEngine, instantiateEngine } from '../wasm.js';
import { artefact } from '../paths.js';
import { MOLD_END_OF_SESSION, MOLD_HEADER_BYTES, MOLD_HEARTBEAT, moldControl, sessionName, soupLoginRequest, soupPacket } from './generator.js';
import {
  COUNTER_BY_TYPE, COUNTER_LATENCY, COUNTER_LINES, histogramQuantile, LINE_COUNTERS, ITCH_BY_TYPE, ITCH_COUNTERS, LATENCY_BUCKETS, readControl, RECORD_HEADER_BYTES, RECORD_KIND, StreamDigest,
  type ControlRecord,
} from './itch.js';
import { bookLayout, OrderBook, type BookRecord } from './book.js';
import { batchMessages, MessageView, type FeedMessage } from './messages.js';
import { FEED_BACKENDS, FeedError, FRAME_BACKENDS, feedFrameCheck, feedFrameSize, type FeedClientOptions, type FeedReport } from './options.js';
import { kernelAddon } from '../backends/kernel.js';
import { ERR_FRAGMENT } from '../ptype.js';
import { fanout } from './fanout.js';
import { FEED_FILTER_BYTES, FEED_FILTER_MAX_BURST, FeedFilter, captureLinktype, feedFilterCheck, kernelFilter } from './filter.js';
import { memoryViews, waitLines } from './lines.js';

// host/index.ts, the CLI and tests import the client's names from here; they are declared in options.ts.
export { FEED_BACKENDS, FeedError, MAX_DATAGRAM, feedFrameCheck, feedFrameSize } from './options.js';
export type { FeedBackendName, FeedClientOptions, FeedPluginName, FeedReport } from './options.js';

/** Runs the client until the session ends, the duration passes or the signal aborts. */
export async function runFeedClient(o: FeedClientOptions): Promise<FeedReport> {
  if (!FEED_BACKENDS.includes(o.backend)) throw new FeedError(`--backend ${o.backend}: use one of ${FEED_BACKENDS.join(', ')}`);
  const frames = FRAME_BACKENDS.has(o.backend);
  if ((o.backend === 'afpacket' || o.backend === 'afxdp') && !o.iface) throw new FeedError(`--backend ${o.backend} needs --iface: the interface the feed arrives on`);
  if (o.backend === 'dpdk' && !o.dpdkPort) throw new FeedError('--backend dpdk needs --dpdk-port: e.g. net_af_packet0,iface=eth0 or a PCI address');
  if (o.backend === 'pcap' && !o.file) throw new FeedError('--backend pcap needs --file: the capture to replay (e.g. written by feed-sim -w)');
  const pluginName = o.plugin ?? (o.transport === 'tcp' ? 'soupbintcp-itch' : 'itch');
  if (o.transport === 'tcp' && pluginName !== 'soupbintcp-itch') throw new FeedError(`--plugin ${pluginName} parses MoldUDP64 datagrams; over --transport tcp use --plugin soupbintcp-itch`);
  if (o.transport !== 'tcp' && pluginName !== 'itch') throw new FeedError(`--plugin ${pluginName} parses a SoupBinTCP stream; over UDP use --plugin itch`);
  if (o.filter !== undefined) feedFilterCheck(o.backend, o.filter);
  // afpacket: libpcap's BPF runs in the kernel; compiled here so a bad expression stops the start.
  const kernelBpf = o.filter !== undefined && o.backend === 'afpacket' ? kernelFilter(o.filter) : undefined;
  const burst = o.burst ?? 64;
  if (o.filter !== undefined && burst > FEED_FILTER_MAX_BURST) throw new FeedError(`burst ${burst} with a filter expression: the filter judges ${FEED_FILTER_MAX_BURST} frames a call at most; use a burst of ${FEED_FILTER_MAX_BURST} or less`);
  // afpacket / afxdp: the interface's MTU says how large a packet can come.
  const mtu = (o.backend === 'afpacket' || o.backend === 'afxdp') ? kernelAddon().ifInfo({ iface: o.iface!, netns: o.netns }).mtu ?? 1500 : 1500;
  const frameSize = o.frameSize ?? feedFrameSize(o.backend, o.transport, mtu);
  if (o.iface) feedFrameCheck(o.backend, o.iface, mtu, frameSize);
  // 4096 frames whatever their size: a burst of small datagrams needs many buffers (the kernel
  // drops what finds none), and a 64 KiB frame costs memory only as far as a datagram fills it.
  const frameCount = o.frames ?? 4096;
  // Scratch: the plugin host's slice | verdicts (4 KiB) | re-request answers: 32 meta records,
  // their address list, 32 buffers of a frame each (written here, then a burst like any other) |
  // the filter's verdicts and accepted list (feed/filter.ts) | the order book.
  const HOST_SCRATCH = 512 * 1024;
  const INJECT = 32;
  const filterAt = HOST_SCRATCH + 4096 + INJECT * 64 + 4096 + INJECT * frameSize;
  const bookAt = filterAt + FEED_FILTER_BYTES;
  const scratchBytes = bookAt + (o.book ? bookLayout(o.book).bytes : 0);
  const layout = computeLayout({
    queues: 1, workers: 1, frameCount, frameSize, scratchBytes,
    kernelBytesPerQueue: o.backend === 'pcap' ? pcapKernelBytes({ burst }) : kernelBytesFor(o.backend, { frameCount, queues: 1, burst }),
    // DPDK's mbufs are a region of their own (docs/dpdk.md); its AF_XDP PMD wants 2048 on its fill ring.
    ...(o.backend === 'dpdk' ? { dpdk: { frames: Math.max(frameCount, 4096) } } : {}),
  });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  // afxdp and dpdk hand over Ethernet frames; a capture's frames carry their interface's link type.
  const filter = o.filter !== undefined && o.backend !== 'afpacket' ? new FeedFilter(o.filter, memory, layout.scratch.offset + filterAt, o.backend === 'pcap' ? undefined : 1) : null;
  const fileLinktype = filter && o.file ? captureLinktype(o.file) : undefined;
  if (fileLinktype !== undefined) filter!.prepare(fileLinktype);
  const engine = instantiateEngine(compileEngine(), memory) as unknown as ReturnType<typeof instantiateEngine> & { parseList(list: number, count: number, flags: number, rss: number): number };
  // Frame backends see every packet on the interface: only the feed's port goes to the plugin.
  const plugin = loadPlugin({ path: artefact(`dist/plugins/${pluginName}.wasm`), name: pluginName, copy: 'payload', inputBytes: 256 * 1024, route: frames ? { port: o.port } : {} });
  const sup = new PluginSupervisor([plugin], { workers: 1 });
  const verdicts = layout.scratch.offset + HOST_SCRATCH;
  const injectMeta = verdicts + 4096;
  const injectList = injectMeta + INJECT * 64;
  const injectData = injectList + 4096;
  const book = o.book ? new OrderBook(memory, layout.scratch.offset + bookAt, o.book) : null;
  // Records are taken in place as the plugin emits them (takeRecord, below): no copy, no object.
  const host = new PluginHost({
    memory, engine, ...sup.workerArgs(), worker: 0, scratch: { offset: layout.scratch.offset, size: HOST_SCRATCH }, maxBurst: 256,
    onRecord: (kind, bytes, at, len) => takeRecord(kind, bytes, at, len),
  });
  if (o.lineB && frames) {
    sup.stop();
    throw new FeedError(`--line-b works with the socket and io_uring backends, not ${o.backend}`);
  }
  if (o.rerequest && frames) {
    sup.stop();
    throw new FeedError(`--rerequest works with the socket and io_uring backends (the answers come to a socket of the client, not through ${o.backend})`);
  }

  const open = () =>
    openBackend(o.backend, {
      memory, layout, queues: 1, burst, transport: o.transport, host: o.host, port: o.port, group: o.group, iface: o.iface, netns: o.netns, file: o.file,
      ...(kernelBpf ? { filter: kernelBpf } : {}),
      ...(o.dpdkPort ? { dpdk: { port: o.dpdkPort } } : {}),
    } as never) as unknown as PayloadBackend;
  let backend: PayloadBackend;
  for (const giveUp = performance.now() + (o.connectRetryMs ?? 0); ; ) {
    let b: PayloadBackend | null = null;
    try {
      b = open();
      await b.ready;
      if (frames) {
        // Frame backends have no connect/ready stage nor async wait: give them the payload surface.
        const fb = b as unknown as Backend & { ready?: Promise<void>; ended?: boolean; waitAsync?: (q: number, ms: number) => Promise<boolean> };
        fb.ended ??= false;
        fb.waitAsync ??= async (q, ms) => {
          const r = fb.wait(q, Math.min(ms, 5));
          if (!r) await new Promise((res) => setImmediate(res));
          return r;
        };
      }
      backend = b;
      break;
    } catch (e) {
      b?.close();
      const refused = /ECONNREFUSED|Connection refused/.test(String((e as Error).message));
      if (!refused || performance.now() >= giveUp) {
        sup.stop();
        throw e;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  // Line B: a backend on a memory of its own; each burst is copied into the inject slots of this
  // memory as receive queue 2, and goes through the same plugin instance as line A (queue 1).
  let lineB: PayloadBackend | null = null;
  let memB: ReturnType<typeof memoryViews> | null = null;
  if (o.lineB) {
    const layoutB = computeLayout({ queues: 1, workers: 1, frameCount, frameSize, kernelBytesPerQueue: kernelBytesFor(o.backend, { frameCount, queues: 1, burst }) });
    const memoryB = createMemory(layoutB);
    memB = memoryViews(memoryB);
    try {
      lineB = openBackend(o.backend, { memory: memoryB, layout: layoutB, queues: 1, burst, transport: o.transport, ...o.lineB } as never) as unknown as PayloadBackend;
      await lineB.ready;
    } catch (e) {
      backend.close();
      sup.stop();
      throw e;
    }
  }
  const digest = o.digest ? new StreamDigest() : null;
  const sessions = new Map<number, { name: string; ended: boolean; baseline: number; raw?: string; end?: bigint }>();
  const sessionNames: string[] = [];
  // --start-seq 1: the messages before each session's first seen, counted as gaps.
  let joinGap = 0;
  let joinGaps = 0;
  const gapList: [number, number][] = [];
  let ipFragments = 0;
  /** IP fragments among the `n` parsed frames of `list` (looked at only when the parse flagged some frame). */
  const fragmentsIn = (list: number, n: number) => {
    const dv = new DataView(memory.buffer);
    let k = 0;
    for (let i = 0; i < n; i++) if (dv.getUint32(dv.getUint32(list + 4 * i, true) + META.ERRORS, true) & ERR_FRAGMENT) k++;
    return k;
  };
  const t0 = performance.now();
  let messagesAtLast = 0;
  let lastProgress = t0;
  let lastRate = 0;

  const counters = () => host.counters.get(pluginName) ?? new Map<number, bigint>();
  const lineCounters = (l: number) =>
    Object.fromEntries(LINE_COUNTERS.map((k, i) => [k, Number(counters().get(COUNTER_LINES + 4 * (l - 1) + i) ?? 0n)])) as Record<(typeof LINE_COUNTERS)[number], number>;
  const allEnded = () => sessions.size > 0 && [...sessions.values()].every((s) => s.ended || s.name === '??????????');
  const report = (): FeedReport => {
    const c = counters();
    const n = (id: number) => Number(c.get(id) ?? 0n);
    const hist = new Float64Array(LATENCY_BUCKETS);
    for (let b = 0; b < LATENCY_BUCKETS; b++) hist[b] = n(COUNTER_LATENCY + b);
    const byType: Record<string, number> = {};
    for (const t of ITCH_BY_TYPE.keys()) {
      const k = n(COUNTER_BY_TYPE + t.charCodeAt(0));
      if (k) byType[t] = k;
    }
    const seconds = (performance.now() - t0) / 1000;
    const messages = n(ITCH_COUNTERS.messages);
    const damage = (backend as { problem?: Error }).problem;
    return {
      backend: backend.mode, ...(damage ? { input_problem: damage.message } : {}), transport: o.transport, plugin: pluginName, seconds, messages, messages_per_s: lastRate || messages / Math.max(seconds, 1e-9),
      gaps: n(ITCH_COUNTERS.gap_messages) + joinGap, gap_events: n(ITCH_COUNTERS.gap_events) + joinGaps, duplicates: n(ITCH_COUNTERS.duplicates), late: n(ITCH_COUNTERS.late),
      malformed: n(ITCH_COUNTERS.malformed), ...(o.filter !== undefined ? { filter: o.filter } : {}), filtered: filter?.filtered ?? 0, extended: n(ITCH_COUNTERS.extended), packets: n(ITCH_COUNTERS.packets), bad_packets: n(ITCH_COUNTERS.bad_packets), ip_fragments: ipFragments, heartbeats: n(ITCH_COUNTERS.heartbeats) - deadHeartbeats,
      end_of_session: n(ITCH_COUNTERS.end_of_session), sessions: [...sessions.values()].map((s) => s.name),
      baseline: Object.fromEntries([...sessions.values()].map((s) => [s.name, s.baseline])),
      latency_ns: {
        p50: Math.round(histogramQuantile(hist, 0.5)), p99: Math.round(histogramQuantile(hist, 0.99)), p999: Math.round(histogramQuantile(hist, 0.999)),
        max: Math.round(histogramQuantile(hist, 1)), negative: n(ITCH_COUNTERS.latency_negative),
      },
      by_type: byType, gap_list: gapList, ...(lineB ? { lines: { a: lineCounters(1), b: lineCounters(2) }, dead_lines: deadLines } : {}), rerequests, outstanding: outstanding(), ...(digest ? { digest: digest.hex() } : {}),
      ...(book ? { book: { ...book.counters(), orders: book.orderCount, symbols: book.symbols().length } } : {}), backend_stats: backend.stats(), plugins: sup.stats(),
    };
  };

  // Re-requests: a socket of our own; answers are queued and handed to the plugin as a burst.
  let rerequests = 0;
  const answers: { bytes: Buffer; ts: bigint }[] = [];
  const rr = o.rerequest ? dgram.createSocket('udp4') : null;
  if (rr) {
    rr.on('message', (m) => answers.push({ bytes: m, ts: nowNs() }));
    await new Promise<void>((res) => rr.bind(0, () => res()));
    // Answers come in bursts while the receive loop may be busy: room for them in the kernel.
    rr.setRecvBufferSize(16 << 20);
  }
  const ask = (c: ControlRecord) => {
    const name = Buffer.from(c.sessionName, 'latin1');
    for (let first = c.a, left = c.b; left > 0n; ) {
      const n = left > 65535n ? 65535n : left;
      const req = Buffer.alloc(20);
      name.copy(req, 0, 0, 10);
      req.writeBigUInt64BE(first, 10);
      req.writeUInt16BE(Number(n), 18);
      rr!.send(req, o.rerequest!.port, o.rerequest!.host);
      rerequests++;
      first += n;
      left -= n;
    }
  };
  const inject = () => {
    const n = Math.min(INJECT, answers.length);
    const u8 = new Uint8Array(memory.buffer);
    const dv = new DataView(memory.buffer);
    for (let i = 0; i < n; i++) {
      const a = answers.shift()!;
      const data = injectData + i * frameSize;
      const len = Math.min(a.bytes.length, frameSize);
      u8.set(a.bytes.subarray(0, len), data);
      writePayloadMeta(dv, injectMeta + i * 64, data, len, a.bytes.length, a.ts, 0, 0);
      dv.setUint32(injectList + 4 * i, injectMeta + i * 64, true);
    }
    host.processBurst(injectList, n, verdicts);
  };

  /** Marks the metadata of a burst with its line: the plugin takes receive queue 1..4 as A/B line. */
  const mem = memoryViews(memory);
  const markLine = (list: number, n: number, line: number) => {
    const { dv } = mem.fresh();
    for (let i = 0; i < n; i++) dv.setUint16(dv.getUint32(list + 4 * i, true) + META.QUEUE, line, true);
  };
  /** Line B's datagrams, copied into the inject slots a burst at a time, as receive queue 2 (line 2). */
  const takeLineB = (n: number): void => {
    const { u8, i32, dv } = mem.fresh();
    const { u8: srcU8, i32: src32, dv: src } = memB!.fresh();
    const list = lineB!.queues[0].rxAddrs;
    for (let i = 0; i < n; ) {
      const k = Math.min(INJECT, n - i);
      for (let j = 0; j < k; j++) {
        const m = src.getUint32(list + 4 * (i + j), true);
        const data = src.getUint32(m + META.DATA, true);
        const len = Math.min(src.getUint32(m + META.CAPLEN, true), frameSize);
        const at = injectData + j * frameSize;
        // Word by word: set() would need a subarray object per datagram (the memories share no
        // buffer), garbage at the line's packet rate. Frames start 4-aligned; the last word may
        // carry up to 3 bytes past the datagram, inside the frame.
        if ((data & 3) === 0) for (let w = data >> 2, d = at >> 2, e = (data + len + 3) >> 2; w < e; w++, d++) i32[d] = src32[w];
        else u8.set(srcU8.subarray(data, data + len), at);
        const meta = injectMeta + j * 64;
        writePayloadMeta(dv, meta, at, len, src.getUint32(m + META.WIRELEN, true), 0n, 0, 2);
        // The receive time as two words: a bigint per datagram would be garbage too.
        dv.setUint32(meta + META.TIMESTAMP, src.getUint32(m + META.TIMESTAMP, true), true);
        dv.setUint32(meta + META.TIMESTAMP + 4, src.getUint32(m + META.TIMESTAMP + 4, true), true);
        dv.setUint32(injectList + 4 * j, meta, true);
      }
      host.processBurst(injectList, k, verdicts);
      i += k;
    }
    lineB!.release(0);
  };

  const onControl = (c: ControlRecord) => {
    if (c.kind === 'session') {
      sessions.set(c.session, { name: c.sessionName.trim(), ended: false, baseline: Number(c.a), raw: c.sessionName });
      sessionNames[c.session] = c.sessionName.trim();
      // The plugin keeps [1, baseline) open for copies; from the start of day it is a gap.
      if (o.startSeq === 1 && c.a > 1n && o.transport !== 'tcp') {
        joinGap += Number(c.a) - 1;
        joinGaps++;
        gapFound({ ...c, kind: 'gap', a: 1n, b: c.a - 1n });
      }
    } else if (c.kind === 'end') Object.assign(sessions.get(c.session)!, { ended: true, raw: c.sessionName, end: c.a });
    else gapFound(c);
  };
  const gapFound = (c: ControlRecord) => {
    if (gapList.length < 1000) gapList.push([Number(c.a), Number(c.b)]);
    if (rr) ask(c);
  };
  // One cursor over each batch where the plugin wrote it, and the DataView it reads with (made
  // again only when the plugin's memory changes: a restart or a grow).
  const batchView = new MessageView();
  const { onMessages, onMessageView, onBookView, onBook } = o;
  let pluginBytes: Uint8Array | null = null;
  let pluginDv: DataView = new DataView(new ArrayBuffer(0));
  // A/B dead lines: each session's next sequence after the latest batch, and a count of batches.
  const nextSeq = new Float64Array(256);
  let batches = 0;
  const takeRecord = (kind: number, bytes: Uint8Array, at: number, len: number): void => {
    if (kind !== RECORD_KIND.MESSAGES) return onControl(readControl(kind, bytes.slice(at, at + len)));
    if (bytes !== pluginBytes) pluginDv = new DataView((pluginBytes = bytes).buffer, bytes.byteOffset, bytes.byteLength);
    batches++;
    if (digest) digest.addBatch(bytes.subarray(at, at + len));
    const v = batchView.reset(bytes, pluginDv, at, len, sessionNames);
    if (onMessages) onMessages(v.copy(), sessionNames);
    onMessageView?.(v);
    if (book && book.applyFrom(bytes, at, len) > 0) {
      onBookView?.(book.view(), book);
      onBook?.(book.records(), book);
    }
    // After the book (not to delay its records): the next sequence of each session, for passDeadLines.
    if (lineB)
      for (let r = at, end = at + len; r + RECORD_HEADER_BYTES <= end; r += RECORD_HEADER_BYTES + 8 * bytes[r + 1])
        nextSeq[bytes[r + 2]] = pluginDv.getUint32(r + 12, true) * 2 ** 32 + pluginDv.getUint32(r + 8, true) + 1;
  };
  const outstanding = () => {
    const c = counters();
    return Number(c.get(ITCH_COUNTERS.gap_messages) ?? 0n) + joinGap - Number(c.get(ITCH_COUNTERS.late) ?? 0n);
  };
  let endedAt = 0;
  /** Done: every session ended and, when re-requesting, every gap filled (or 2 s passed since). */
  const finished = () => {
    if (!allEnded()) return false;
    endedAt ||= performance.now();
    // A/B: the other line's last copies may still be on their way.
    if (lineB && performance.now() - endedAt < 300) return false;
    if (!rr || outstanding() === 0) return true;
    return performance.now() - endedAt > 2000;
  };
  /** MoldUDP64 control datagrams (heartbeat or end of session) fed to the plugin as sent on `line`. */
  type Control = { raw: string; seq: bigint; count: typeof MOLD_HEARTBEAT | typeof MOLD_END_OF_SESSION; line: number };
  const injectControls = (items: readonly Control[]) => {
    const u8 = new Uint8Array(memory.buffer);
    const dv = new DataView(memory.buffer);
    const k = Math.min(items.length, INJECT);
    for (let i = 0; i < k; i++) {
      const at = injectData + i * frameSize;
      u8.set(moldControl(sessionName(items[i].raw), items[i].seq, items[i].count), at);
      writePayloadMeta(dv, injectMeta + i * 64, at, MOLD_HEADER_BYTES, MOLD_HEADER_BYTES, nowNs(), 0, items[i].line);
      dv.setUint32(injectList + 4 * i, injectMeta + i * 64, true);
    }
    if (k) host.processBurst(injectList, k, verdicts);
  };
  /**
   * A/B at the end: every line has passed each ended session's end (a line that went silent never
   * will), so what is still pending becomes a gap: an end of session on each line.
   */
  const closeLines = () => {
    const items: Control[] = [];
    for (const s of sessions.values()) if (s.end !== undefined) for (const line of [1, 2]) items.push({ raw: s.raw!, seq: s.end, count: MOLD_END_OF_SESSION, line });
    injectControls(items);
  };
  // A/B dead line: when a line has been silent for lineTimeoutMs, a heartbeat on it at each
  // session's next sequence (the last delivered + 1) says it passed everything it missed, so those
  // pending ranges become gaps now. Repeated (a quarter of the timeout apart) while it stays silent
  // and the other line delivers; never when nothing new was delivered.
  const lineTimeout = o.lineTimeoutMs ?? 500;
  const heard = [performance.now(), performance.now()];
  let deadLines = 0;
  let deadHeartbeats = 0;
  let passedBatches = 0;
  let passedAt = 0;
  const wasDead = [false, false];
  /** Called every turn with the turn's clock reading: allocates nothing unless a line is dead. */
  const passDeadLines = (now: number) => {
    if (batches === passedBatches || now - passedAt < lineTimeout / 4) return;
    const deadA = now - heard[0] > lineTimeout;
    const deadB = now - heard[1] > lineTimeout;
    if (deadA && !wasDead[0]) deadLines++;
    if (deadB && !wasDead[1]) deadLines++;
    wasDead[0] = deadA;
    wasDead[1] = deadB;
    if (!deadA && !deadB) return;
    passedAt = now;
    passedBatches = batches;
    const items: Control[] = [];
    for (const [slot, s] of sessions) {
      if (s.ended || !nextSeq[slot]) continue;
      if (deadA) items.push({ raw: s.raw!, seq: BigInt(nextSeq[slot]), count: MOLD_HEARTBEAT, line: 1 });
      if (deadB) items.push({ raw: s.raw!, seq: BigInt(nextSeq[slot]), count: MOLD_HEARTBEAT, line: 2 });
    }
    deadHeartbeats += items.length;
    injectControls(items);
  };

  try {
    // SoupBinTCP: log in (any session, from the next sequence), then a client heartbeat each second
    // so a real server does not hang up on an idle client.
    const soup = o.transport === 'tcp' && !frames;
    if (soup) backend.send(0, [soupLoginRequest(o.user ?? 'wwfeed', o.password ?? '', '', 0n)]);
    let lastHeartbeat = performance.now();
    o.onReady?.();
    const deadline = o.duration ? t0 + o.duration * 1000 : Infinity;
    const untilEnd = o.untilEnd ?? true;
    let busyTurns = 0;
    let emptyReads = 0;
    // A/B start: wait (up to 200 ms) until both lines have data, then let each line's first
    // datagram reach the plugin before anything else, so that it knows both lines before either
    // misses something.
    for (let held = 0, heldB = 0, firstAt = 0; lineB; ) {
      const now = performance.now();
      if (o.signal?.aborted || now >= deadline) break;
      const n = held || backend.receive(0, burst);
      const nb = heldB || lineB.receive(0, burst);
      if (n > 0) heard[0] = now;
      if (nb > 0) heard[1] = now;
      if (!(n > 0 && nb > 0) && !((n > 0 || nb > 0) && now - (firstAt ||= now) > 200)) {
        held = n;
        heldB = nb;
        await new Promise((res) => setTimeout(res, 1));
        continue;
      }
      if (n > 0) {
        markLine(backend.queues[0].rxAddrs, n, 1);
        host.processBurst(backend.queues[0].rxAddrs, 1, verdicts);
      }
      if (nb > 0) takeLineB(nb);
      if (n > 1) host.processBurst(backend.queues[0].rxAddrs + 4, n - 1, verdicts);
      if (n > 0) backend.release(0);
      break;
    }
    // The loop: turn() does a turn's work synchronously, so the optimizing compiler takes it whole
    // and nothing of it lives across an await (a double kept over an await is a heap number a
    // turn); the loop awaits only what turn() asks for.
    const STOP = -1;
    const GO = -2;
    const YIELD = -3;
    /** One turn: STOP, GO (the next turn now), YIELD (a turn of the event loop first) or the ms to wait for data. */
    const turn = (): number => {
      // One clock reading a turn, for everything the turn times.
      const now = performance.now();
      if (o.signal?.aborted || now >= deadline) return STOP;
      if (soup && now - lastHeartbeat >= 1000 && !backend.ended) {
        backend.send(0, [soupPacket('R')]);
        lastHeartbeat = now;
      }
      if (now - lastProgress >= 1000) {
        const m = Number(counters().get(ITCH_COUNTERS.messages) ?? 0n);
        lastRate = ((m - messagesAtLast) * 1000) / (now - lastProgress);
        messagesAtLast = m;
        lastProgress = now;
        o.onProgress?.(report());
      }
      // Each line's burst is reaped just before it is processed: the receive time of a datagram
      // (taken at the reap) is not spent waiting for the other line's reap and processing.
      const n = backend.receive(0, burst);
      if (n > 0) {
        heard[0] = now;
        // The filter first: the frames it rejects are released with the burst, never decoded.
        const list = filter ? filter.list : backend.queues[0].rxAddrs;
        const k = filter ? filter.apply(backend.queues[0].rxAddrs, n) : n;
        if (frames && k > 0 && engine.parseList(list, k, 0, 0) > 0) ipFragments += fragmentsIn(list, k);
        if (lineB) markLine(list, k, 1);
        if (k > 0) host.processBurst(list, k, verdicts);
        backend.release(0);
      }
      const nb = lineB ? lineB.receive(0, burst) : 0;
      if (nb > 0) {
        heard[1] = now;
        takeLineB(nb);
      }
      if (lineB) passDeadLines(now);
      if (n > 0 || nb > 0) {
        if (answers.length) inject();
        // A/B: stop only once both lines are drained (the idle branch), not while one still has data.
        if (untilEnd && !lineB && finished()) return STOP;
        // Let timers and I/O callbacks run now and then, also under full load.
        return ++busyTurns % 64 === 0 ? YIELD : GO;
      }
      if (answers.length) {
        inject();
        return GO;
      }
      if (untilEnd && (finished() || backend.ended)) return !backend.ended || backend.receive(0, burst) === 0 ? STOP : GO;
      // A capture file that has nothing more to give has ended.
      if (o.backend === 'pcap' && ++emptyReads > 2) return STOP;
      return Math.min(rr || lineB ? 1 : 50, Math.max(0, deadline - now));
    };
    for (;;) {
      const r = turn();
      if (r === STOP) break;
      if (r === YIELD) await new Promise((res) => setImmediate(res));
      else if (r >= 0) {
        const idle = lineB ? waitLines(backend, lineB, r) : backend.waitAsync(0, r);
        if (idle) await idle;
      }
    }
    lastRate = 0;
    if (lineB) closeLines();
    if (soup && !backend.ended) {
      try {
        backend.send(0, [soupPacket('O')]); // logout
      } catch {
        // the server may have closed first
      }
    }
    return report();
  } finally {
    backend.close();
    lineB?.close();
    rr?.close();
    sup.stop();
  }
}

/**
 * A running feed client as streams. Start it, then read what you need:
 *
 *   const feed = openFeed({ backend: 'io_uring', transport: 'udp', host, port, book: {} });
 *   for await (const batch of feed.messages()) for (const m of batch) if (m.type === 'A') m.price;
 *
 * messages() gives typed objects (FeedMessage), views() a zero-copy MessageView per batch,
 * bookRecords() the book's BBO changes and trades. Each call is a reader of its own: it gets every
 * batch from the moment it is called (call it before awaiting anything else to miss nothing; the
 * client receives only after its backend is ready), and holds them until read. Streams nobody
 * reads keep nothing.
 */
export class Feed {
  readonly done: Promise<FeedReport>;
  private readonly batches;
  private readonly bookOut;
  private names: readonly string[] = [];
  book: OrderBook | null = null;

  constructor(o: FeedClientOptions) {
    let settle!: (v: unknown) => void;
    const finished = new Promise((r) => (settle = r));
    this.batches = fanout<Uint8Array>(finished);
    this.bookOut = fanout<BookRecord[]>(finished);
    this.done = runFeedClient({
      ...o,
      // A copy of each batch only for a messages() / views() reader or the caller's onMessages.
      onMessages: undefined,
      onMessageView: (v) => {
        this.names = v.sessions;
        if (this.batches.readers > 0 || o.onMessages) {
          const b = v.copy();
          this.batches.push(b);
          o.onMessages?.(b, v.sessions);
        }
        o.onMessageView?.(v);
      },
      // Record objects only for a bookRecords() reader or the caller's onBook: a Feed nobody reads
      // the book of makes no garbage per BBO change.
      onBookView: (v, book) => {
        this.book = book;
        if (this.bookOut.readers > 0) this.bookOut.push(book.records());
        o.onBookView?.(v, book);
      },
      onBook: o.onBook,
    });
    this.done.then(settle, settle);
  }

  /** Batches of typed messages, one per burst, in arrival order. */
  messages(): AsyncIterable<FeedMessage[]> {
    const src = this.batches.subscribe();
    const names = () => this.names;
    return (async function* () {
      for await (const b of src) yield batchMessages(b, names());
    })();
  }

  /** The same batches as zero-copy cursors: `while (v.next()) v.type, v.sequence, v.u64(0) …`. */
  views(): AsyncIterable<MessageView> {
    const src = this.batches.subscribe();
    const names = () => this.names;
    return (async function* () {
      for await (const b of src) yield new MessageView(b, names());
    })();
  }

  /** The book's BBO changes and trades, per batch (with the `book` option). */
  bookRecords(): AsyncIterable<BookRecord[]> {
    return this.bookOut.subscribe();
  }
}

export function openFeed(o: FeedClientOptions): Feed {
  return new Feed(o);
}
