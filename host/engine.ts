/**
 * The engine: config -> memory map -> shared memory -> source -> workers.
 *
 * ```
 *   const engine = new Engine({ file: 'trace.pcap', workers: 2, handler: './count.mjs' });
 *   await engine.start();
 *   for await (const batch of engine.records()) { ... }   // optional: what handlers emit/keep
 *   const stats = await engine.done;                      // replay finished and drained
 *   // or: const stats = await engine.stop();
 * ```
 *
 * Every failure reaches the caller: start() rejects with the cause (bad config, unreadable capture,
 * a handler module that does not load); later failures are 'error' events (a worker that died and
 * could not be restarted) and make done/stop reject. Nothing waits forever: stop() gives workers
 * 10 s to drain, then terminates them and says which one hung.
 *
 * Frame accounting: every frame that enters is delivered or counted as dropped with its reason;
 * stop() checks that every frame is back in the pool (stats().pool.in_use === 0).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { computeLayout, createMemory, writeControlBlock, ENGINE_TX_HOLD_BYTES, MAX_RINGS, type Layout, type RingSpec } from './layout.js';
import { compileEngine, instantiateEngine } from './wasm.js';
import { artefact } from './paths.js';
import { META } from './meta.js';
import { Packet } from './packet.js';
import { EngineConfigError, resolveConfig, type EngineConfig, type ResolvedConfig } from './engine/config.js';
import { FlowTables, type FlowRuleInput } from './engine/flow.js';
import { clockBase, engineClock } from './engine/clock.js';
import { captureStream, memoryStreams, writeStream, type Stream } from './engine/source.js';
import {
  DROP_REASONS, HIST_BUCKETS, addDrops, emptyDrops, hostBlockAdd, latencyOf, readBlock, readHistogram, sumDrops, STATS_BLOCK, type EngineStats,
} from './engine/stats.js';
import { RECORD_FRAME, type BurstLayout } from './engine/burst.js';
import type { WorkerInit } from './workers/pool.js';
import { openBackend, afpacketKernelBytes, afxdpKernelBytes, type Backend } from './backends/index.js';
import type { AfXdpBackend } from './backends/afxdp.js';
import type { AfPacketBackend } from './backends/afpacket.js';
import type { EngineWorkerArgs } from './workers/engine-worker.js';
import { loadPlugin, PluginSupervisor, PLUGIN_SCRATCH_PER_WORKER, type PluginRecord } from './plugins/index.js';
export { EngineConfigError, type EngineConfig } from './engine/config.js';
export { FlowRuleError, parseFlowRule, type FlowRule, type FlowRuleInput } from './engine/flow.js';
export type { EngineStats } from './engine/stats.js';
export { Burst } from './engine/burst.js';

// Engine header fields (assembly/engine-map.ts EH_*), as u32 indexes from the header start.
const EH = {
  MAGIC: 0, WORKERS: 1, QUEUES: 2, CLASSES: 3, BURST: 4, POOL_CACHE: 5, FRAME_SIZE: 6, FRAME_COUNT: 7, FRAMES: 8, META: 9, FREE_RING: 10, RECORDS_RING: 11,
  STATS: 12, RSS_TABLE: 13, RETA: 14, FLOW_CONTROL: 15, FLOW_TABLES: 16, FLOW_RULES: 17, RX_TIME: 18, WORKER_BLOCKS: 19, WORKER_BYTES: 20, CACHES: 21,
  CACHE_BYTES: 22, SHAPERS: 23, SOURCES: 24, PARSE_FLAGS: 25, OPTIONS: 26, RING_TABLE: 27, W_BURST: 28, W_FRAMES: 29, W_STAGE: 30, W_RECORDS: 31,
  W_HIST: 32, RECORD_SLOTS: 33, W_TX: 34, TX_QUEUES: 35, TX_HOLD: 36, EXT_BASE: 58, EXT_BYTES: 59, EXT_STRIDE: 60, EXT_SHIFT: 61, EXT_HOLDERS: 62,
} as const;
const ENGINE_MAGIC = 0x4e455757;
const RUN_STOP = 256;

/** The WASM export the feeders report kernel drops through. */
type KernelDrops = { kernelDrops(ctx: number, q: number, n: number): void };
const RSS_KEY = 384;
const RT = { RX: 0, TX: 256, IN: 512 };
// Worker control line (assembly/engine-map.ts WC_*), byte offsets; 32.. is the recovery journal.
const WC = {
  BURST_COUNT: 0, SEEN_GENERATION: 4, STATE: 8, POLLS: 12, RECORD_COUNT: 16, STAGE_COUNT: 20,
  TX_COUNT: 24, FEED_N: 32, FEED_FIRST: 36, FEED_PHASE: 40, TMP_N: 44, TMP_FIRST: 48, TMP_RING: 52, TMP_LIST: 56, RECORD_FIRST: 60,
};
const NEXT_NONE = 0xffffffff;
/** Ring fields (assembly/ring.ts): config, producer and consumer lines. */
const RING = { MASK: 8, SLOT_BYTES: 16, P_TAIL: 68, P_ENQUEUED: 80, C_TAIL: 132, C_DEQUEUED: 144, HEADER: 256 };
/** A pool cache's claim record (assembly/pool.ts PC_CLAIM; assembly/ring.ts "Claims and worker death"). */
const PC = { COUNT: 0, CLAIM: 16, SLOTS: 64 };
/** A transmit hold list's journal (assembly/engine-map.ts TX_HOLD_BYTES). */
const TXH = { COUNT: 0, COUNTED: 4, RELEASED: 8, LIST: 64 };
const TX_NONE = 0xffffffff;
const WS = { RUNNING: 1, INGEST_DONE: 2, STOPPED: 3 };
const SRC = { BASE: 0, END: 4, CURSOR: 8, LOOPS: 12, FEEDER: 20, FLAGS: 24, DONE: 28, SPEED: 32, START_NS: 40, FIRST_TS: 48, FED: 56, BYTES: 128 };
const SRC_F = { ACTIVE: 1, SPEED: 2, LOSSY: 4, RATE: 8 };
const OPT = { DROP_PARSE_ERRORS: 1, RSS: 2, PAIRS: 4 };
const PARSE = { VERIFY_CSUM: 1, RSS: 4, RSS_SYMMETRIC: 8 };
const RING_F = { MP: 1, MC: 2 };
const NO_FEEDER = 0xffffffff;

interface EngineExports {
  ringInit(ring: number, slots: number, slotBytes: number, flags: number): number;
  ringCount(ring: number): number;
  ringDequeueBurst64(ring: number, dst: number, n: number): number;
  ringDequeueBurst32(ring: number, dst: number, n: number): number;
  poolInit(ctx: number, cacheSize: number): number;
  poolFlush(ctx: number, cache: number): number;
  poolAvailable(ctx: number): number;
  frameRelease(ctx: number, cache: number, frame: number): number;
  frameRecover(ctx: number, cache: number, frame: number, skip: number): number;
  ringEnqueueBurst32(ring: number, src: number, n: number): number;
  rssPrepare(key: number, keyLen: number, table: number): number;
  shaperInit(sh: number, pps: number, burstPkts: number, bytesPerSec: number, burstBytes: number, nowNs: number): void;
  engineCheck(ctx: number): number;
  engineWorkerStop(ctx: number, w: number): void;
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

export interface WorkerExit {
  worker: number;
  code: number;
  error?: Error;
  /** Frames the dead worker held, recovered to the pool (counted as handler_error). */
  recovered: number;
  restarted: boolean;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A ring claim a dead worker left open, its items already in the slots: published when the tail reaches head. */
interface OpenClaim {
  ring: number;
  consumer: boolean;
  head: number;
  count: number;
  /** Consumer side (the free ring): the frames it had claimed, back to the pool once published. */
  frames: number[];
}



export class Engine extends EventEmitter {
  readonly config: ResolvedConfig;
  private state: State = 'new';
  private layout?: Layout;
  private memory?: WebAssembly.Memory;
  private wasm?: EngineExports;
  private ctx = 0;
  private u32 = new Uint32Array(0);
  private workers: (Worker | undefined)[] = [];
  private restarts: number[] = [];
  private ready: boolean[] = [];
  private exits: Promise<void>[] = [];
  private flow?: FlowTables;
  private streams: Stream[] = [];
  private startedAt = 0;
  private monitor?: NodeJS.Timeout;
  private last?: { t: number; rx: number; bytes: number; q: number[]; qb: number[]; w: number[] };
  private failure?: Error;
  private finalStats?: EngineStats;
  private stopping?: Promise<EngineStats>;
  private resolveDone!: (s: EngineStats) => void;
  private rejectDone!: (e: Error) => void;
  private recordConsumers = 0;
  private recordsDst = 0;
  private pairs = false;
  /** Claims of dead workers waiting for their turn to publish (settleClaims). */
  private openClaims: OpenClaim[] = [];
  /** The engine's clock (host/engine/clock.ts): ns since setup, shared by every thread. */
  private readonly clockBase = clockBase();
  private readonly nowNs = engineClock(this.clockBase);
  private affinity: (number[] | undefined)[] = [];
  private live?: Backend;
  private liveLoop?: Promise<void>;
  private liveStopping = false;
  private liveKernel: number[] = [];
  private liveList = 0;
  private nic?: { memory: WebAssembly.Memory; wasm: EngineExports & { parseFrame(m: number, f: number, t: number): number }; meta: number; data: number; table: number };
  private plugins?: PluginSupervisor;
  private pluginScratch = 0;
  private pluginRecords: PluginRecord[] = [];
  private pluginRecordsDropped = 0;
  /** Resolves with the final stats when the replay has ended and drained (or stop() was called). */
  readonly done: Promise<EngineStats>;
  /** Problems reading the capture that did not stop the replay (a file cut short). */
  warnings: string[] = [];

  constructor(config: EngineConfig) {
    super();
    this.config = resolveConfig(config);
    this.done = new Promise<EngineStats>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through 'error' or stop(); never an unhandled rejection
  }

  /** Where the frame pool lies in the shared memory (with afxdp, the UMEM) and its metadata records: set by start(). */
  get frameRegion(): { offset: number; size: number; frameSize: number; meta: number } | undefined {
    return this.layout && { offset: this.layout.frames.offset, size: this.layout.frames.size, frameSize: this.config.frameSize, meta: this.layout.meta.offset };
  }

  /** The live backend while running (afpacket, afxdp): its mode, rings and counters. */
  get backend(): Backend | undefined {
    return this.live;
  }

  /** A live source that sends what handlers forward: afxdp, or afpacket with its TX ring (txFrames > 0). */
  private get liveTx(): boolean {
    const c = this.config;
    return c.backend === 'afxdp' || (c.backend === 'afpacket' && (c.backendOptions as { txFrames?: number } | undefined)?.txFrames !== 0);
  }

  /** A live interface as the source (afpacket or afxdp), rather than a replay. */
  get isLive(): boolean {
    return this.config.backend === 'afpacket' || this.config.backend === 'afxdp';
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Builds the memory, loads the source, starts the workers; resolves once every handler loaded. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`engine: start() called when ${this.state}; create a new Engine to run again`);
    this.state = 'starting';
    try {
      this.setup();
      await Promise.all(Array.from({ length: this.config.workers }, (_, i) => this.spawn(i)));
      if (this.isLive) this.openLive();
      this.startedAt = performance.now();
      if (this.failure) throw this.failure;
      this.state = 'running';
      if (this.live) this.liveLoop = this.config.backend === 'afxdp' ? this.feedXdp() : (this.live as AfPacketBackend).zeroCopy ? this.feedTpacket() : this.feedLive();
      this.monitor = setInterval(() => this.watch(), 10);
      this.monitor.unref?.();
    } catch (e) {
      this.state = 'failed';
      this.live?.close();
      await this.teardownWorkers();
      throw e;
    }
  }

  private setup(): void {
    const c = this.config;
    if (c.backend === 'pcap') {
      const { stream, problem } = captureStream(c.file!);
      if (problem) this.warnings.push(`${c.file}: ${problem.message}; replaying the ${stream.frames.length} records before it`);
      this.streams = [stream];
    } else if (c.backend === 'memory') this.streams = memoryStreams(c.frames!, c.queues, c.linktype, (f) => this.nicQueue(f));
    else this.streams = [];
    const inSlots = Math.min(c.frameCount, 1 << 16);
    const rings: RingSpec[] = [
      ...Array.from({ length: c.queues }, (_, q) => ({ name: `rx${q}`, slots: c.ringSize, slotBytes: 4 as const })),
      { name: 'free', slots: c.frameCount, slotBytes: 4 },
      { name: 'records', slots: c.recordsRing, slotBytes: 8 },
      ...Array.from({ length: c.queues }, (_, q) => ({ name: `tx${q}`, slots: c.ringSize, slotBytes: 4 as const })),
    ];
    // One SPSC ring per (target, source, class) while the ring table has room; else one MP ring per (target, class).
    const pairs = c.workers * c.workers * c.classes + rings.length <= MAX_RINGS;
    this.pairs = pairs;
    for (let t = 0; t < c.workers; t++)
      for (let k = 0; k < c.classes; k++) {
        if (pairs) for (let s = 0; s < c.workers; s++) rings.push({ name: `in${t}.${s}.${k}`, slots: inSlots, slotBytes: 4 });
        else rings.push({ name: `in${t}.${k}`, slots: inSlots, slotBytes: 4 });
      }
    // Scratch: the streams, then 256 × 8 B where the host dequeues records.
    const streamBytes = this.streams.reduce((s, x) => s + x.bytes, 0);
    if (streamBytes > 2 ** 31)
      throw new EngineConfigError(c.file ? 'file' : 'frames', `${c.file ?? 'the frames'} hold ${streamBytes} bytes; a replay keeps them in the engine's memory, at most 2 GiB: split the capture (editcap -c N in.pcap out.pcap) and replay the parts`);
    // Then, with plugins, one slice per worker for their burst gather (host/plugins/stage.ts).
    const pluginBytes = c.plugins.length ? 64 + c.workers * PLUGIN_SCRATCH_PER_WORKER : 0;
    // Then the live feeder's frame list: a burst, or (AF_XDP) the frames of one fill-ring top-up.
    const liveListBytes = this.isLive ? 4 * (Math.max(c.burst, Math.ceil(c.frameCount / c.queues)) + 1) : 0;
    const scratchBytes = streamBytes + 8 * 256 + liveListBytes + pluginBytes;
    const afxdp = { ...c.backendOptions, burst: c.burst, frameCount: c.frameCount, queues: c.queues, enginePool: true };
    const layout = computeLayout({
      queues: c.queues,
      workers: c.workers,
      frameCount: c.frameCount,
      frameSize: c.frameSize,
      ringSize: c.ringSize,
      rings,
      scratchBytes,
      engine: { classes: c.classes, burst: c.burst, poolCache: c.poolCache, flowRules: c.maxRules },
      kernelBytesPerQueue: c.backend === 'afpacket' ? afpacketKernelBytes({ ...c.backendOptions, burst: c.burst, enginePool: true }) : c.backend === 'afxdp' ? afxdpKernelBytes(afxdp) : 0,
    });
    this.layout = layout;
    this.recordsDst = layout.scratch.offset + streamBytes;
    this.liveList = this.recordsDst + 8 * 256;
    if (c.plugins.length) {
      // Validated and compiled before anything runs: a refused plugin fails start() with its reason.
      const loaded = c.plugins.map((s) => loadPlugin(s, { engineMaxPages: layout.maximumPages }));
      this.plugins = new PluginSupervisor(loaded, { workers: c.workers, budgetMs: c.pluginBudgetMs });
      this.pluginScratch = Math.ceil((this.liveList + liveListBytes) / 64) * 64;
    }
    const memory = createMemory(layout);
    this.memory = memory;
    writeControlBlock(memory, layout);
    const wasm = instantiateEngine(compileEngine(), memory) as unknown as EngineExports;
    this.wasm = wasm;
    const m = layout.engine!;
    this.ctx = m.offset;
    const u32 = new Uint32Array(memory.buffer);
    this.u32 = u32;
    const h = (f: number, v: number) => (u32[(m.offset >> 2) + f] = v);
    h(EH.WORKERS, c.workers);
    h(EH.QUEUES, c.queues);
    h(EH.CLASSES, c.classes);
    h(EH.BURST, c.burst);
    h(EH.POOL_CACHE, c.poolCache);
    h(EH.FRAME_SIZE, c.frameSize);
    h(EH.FRAME_COUNT, c.frameCount);
    h(EH.FRAMES, layout.frames.offset);
    h(EH.META, layout.meta.offset);
    h(EH.FREE_RING, layout.ring('free').offset);
    h(EH.RECORDS_RING, layout.ring('records').offset);
    h(EH.STATS, layout.stats.offset);
    h(EH.RSS_TABLE, m.rssTable);
    h(EH.RETA, m.reta);
    h(EH.FLOW_CONTROL, m.flowControl);
    h(EH.FLOW_TABLES, m.flowTables);
    h(EH.FLOW_RULES, m.flowRules);
    h(EH.RX_TIME, m.rxTime);
    h(EH.WORKER_BLOCKS, m.workers);
    h(EH.WORKER_BYTES, m.workerBytes);
    h(EH.CACHES, m.caches);
    h(EH.CACHE_BYTES, m.cacheBytes);
    h(EH.SHAPERS, m.shapers);
    h(EH.SOURCES, m.sources);
    const rss = c.parse.rss;
    const spread = c.parse.spread && c.workers > 1;
    h(EH.PARSE_FLAGS, (c.parse.verifyChecksums ? PARSE.VERIFY_CSUM : 0) | (rss ? PARSE.RSS : 0) | (rss && c.parse.symmetric ? PARSE.RSS_SYMMETRIC : 0));
    h(EH.OPTIONS, (c.parse.dropErrors ? OPT.DROP_PARSE_ERRORS : 0) | (spread ? OPT.RSS : 0) | (this.pairs ? OPT.PAIRS : 0));
    h(EH.RING_TABLE, m.ringTable);
    h(EH.W_BURST, m.w.burst);
    h(EH.W_FRAMES, m.w.frames);
    h(EH.W_STAGE, m.w.stage);
    h(EH.W_RECORDS, m.w.records);
    h(EH.W_HIST, m.w.hist);
    h(EH.RECORD_SLOTS, m.w.recordSlots);
    h(EH.W_TX, m.w.tx);
    // A live source transmits forwarded frames from the feeder, which owns the socket's rings
    // (xskEngineTx, tpacketEngineTx): no worker drains a tx ring then.
    h(EH.TX_QUEUES, this.liveTx ? 0 : c.queues);
    h(EH.TX_HOLD, m.txHold);
    h(EH.MAGIC, ENGINE_MAGIC);

    const ring = (name: string, flags: number) => {
      const r = layout.ring(name);
      const rc = wasm.ringInit(r.offset, r.slots, r.slotBytes, flags);
      if (rc !== 0) throw new Error(`engine: ring ${name} did not initialise (code ${rc})`);
      return r.offset;
    };
    const rt = m.ringTable >> 2;
    // One producer (the feeder) and one consumer (worker q mod workers) per rx ring.
    for (let q = 0; q < c.queues; q++) u32[rt + RT.RX / 4 + q] = ring(`rx${q}`, 0);
    for (let t = 0; t < c.workers; t++)
      for (let k = 0; k < c.classes; k++) {
        const shared = this.pairs ? 0 : ring(`in${t}.${k}`, c.workers > 1 ? RING_F.MP : 0);
        for (let s = 0; s < c.workers; s++) u32[rt + RT.IN / 4 + ((t << 8) | (s << 2) | k)] = this.pairs ? ring(`in${t}.${s}.${k}`, 0) : shared;
      }
    ring('records', RING_F.MP);
    for (let q = 0; q < c.queues; q++) {
      u32[rt + RT.TX / 4 + q] = ring(`tx${q}`, c.workers > 1 ? RING_F.MP : 0);
      if (c.tx.rate || c.tx.bitRate) {
        const pps = c.tx.rate ?? 0;
        const bytesPerSec = (c.tx.bitRate ?? 0) / 8;
        wasm.shaperInit(m.shapers + q * 64, pps, c.tx.burstPackets ?? Math.max(c.burst, pps / 50), bytesPerSec, c.tx.burstBytes ?? Math.max(c.frameSize, bytesPerSec / 50), this.nowNs());
      }
    }
    const prc = wasm.poolInit(this.ctx, c.poolCache);
    if (prc !== 0) throw new Error(`engine: the frame pool did not initialise (code ${prc})`);
    new Uint8Array(memory.buffer).set(c.parse.rssKey.subarray(0, 40), m.offset + RSS_KEY);
    if (wasm.rssPrepare(m.offset + RSS_KEY, 40, m.rssTable) !== 0) throw new Error('engine: RSS key rejected');
    for (let i = 0; i < m.retaEntries; i++) u32[(m.reta >> 2) + i] = i % c.workers;

    // Sources: stream q in the scratch region, fed by worker q mod workers.
    const dv = new DataView(memory.buffer);
    let at = layout.scratch.offset;
    for (let q = 0; q < c.queues; q++) {
      const s = m.sources + q * SRC.BYTES;
      const st = this.streams[q];
      if (!st || st.frames.length === 0) {
        dv.setUint32(s + SRC.FEEDER, NO_FEEDER, true);
        // A live queue is never done: it ends when stop() is called.
        dv.setUint32(s + SRC.DONE, this.isLive ? 0 : 1, true);
        continue;
      }
      writeStream(memory, at, st);
      const r = c.replay;
      dv.setUint32(s + SRC.BASE, at, true);
      dv.setUint32(s + SRC.CURSOR, at, true);
      dv.setUint32(s + SRC.END, at + st.bytes, true);
      dv.setUint32(s + SRC.LOOPS, r.loops === 0 ? 0xffffffff : r.loops, true);
      dv.setUint32(s + SRC.FEEDER, q % c.workers, true);
      dv.setUint32(s + SRC.FLAGS, SRC_F.ACTIVE | (r.speed ? SRC_F.SPEED : 0) | (r.lossy ? SRC_F.LOSSY : 0) | (r.rate || r.bitRate ? SRC_F.RATE : 0), true);
      dv.setFloat64(s + SRC.SPEED, r.speed ?? 1, true);
      dv.setBigUint64(s + SRC.FIRST_TS, st.firstTs, true);
      if (r.rate || r.bitRate) {
        // The rate is the engine's: split over the queues that replay.
        const share = this.streams.filter((x) => x.frames.length).length;
        const pps = (r.rate ?? 0) / share;
        const bytesPerSec = (r.bitRate ?? 0) / 8 / share;
        // Buckets deep enough for 20 ms: a worker that slept through a scheduler tick must not lose tokens.
        wasm.shaperInit(m.shapers + (64 + q) * 64, pps, Math.max(c.burst, pps / 50), bytesPerSec, Math.max(c.frameSize, bytesPerSec / 50), this.nowNs());
      }
      at += st.bytes;
    }

    this.flow = new FlowTables(memory, { control: m.flowControl, tables: m.flowTables, maxRules: m.flowRules, limits: { workers: c.workers, classes: c.classes } }, () =>
      this.workers.map((wk, i) => {
        const state = u32[(m.worker(i) + WC.STATE) >> 2];
        return wk && state !== WS.STOPPED && state !== 0 ? u32[(m.worker(i) + WC.SEEN_GENERATION) >> 2] : undefined;
      }),
    );
    this.flow.installInitial(c.rules);
    if (wasm.engineCheck(this.ctx) !== 0) throw new Error('engine: header check failed');
  }

  /**
   * The receive queue a multi-queue NIC's RSS would give this frame: Toeplitz hash of its 5-tuple
   * (the engine's key, symmetric as configured) modulo the queues. Computed with the engine's own
   * parser on a small private memory, so the memory backend deals flows to queues as hardware does.
   */
  private nicQueue(frame: Uint8Array): number {
    const q = this.config.queues;
    if (q === 1) return 0;
    if (!this.nic) {
      const layout = computeLayout({ frameCount: 16, scratchBytes: 65536 + 36 * 1024 + 4096 });
      const memory = createMemory(layout);
      const wasm = instantiateEngine(compileEngine(), memory) as unknown as EngineExports & { parseFrame(m: number, f: number, t: number): number };
      const base = layout.scratch.offset;
      new Uint8Array(memory.buffer).set(this.config.parse.rssKey.subarray(0, 40), base);
      wasm.rssPrepare(base, 40, base + 64);
      this.nic = { memory, wasm, meta: base + 64 + 36 * 1024, data: base + 64 + 36 * 1024 + 64, table: base + 64 };
    }
    const n = this.nic;
    const len = Math.min(frame.length, 16384);
    new Uint8Array(n.memory.buffer).set(frame.subarray(0, len), n.data);
    const dv = new DataView(n.memory.buffer);
    new Uint8Array(n.memory.buffer).fill(0, n.meta, n.meta + 64);
    dv.setUint32(n.meta + META.DATA, n.data, true);
    dv.setUint32(n.meta + META.CAPLEN, len, true);
    dv.setUint16(n.meta + META.LINKTYPE, this.config.linktype, true);
    n.wasm.parseFrame(n.meta, PARSE.RSS | (this.config.parse.symmetric ? PARSE.RSS_SYMMETRIC : 0), n.table);
    return (dv.getUint32(n.meta + META.HASH, true) & 127) % q;
  }

  private spawn(index: number): Promise<void> {
    const c = this.config;
    const layout = this.layout!;
    const m = layout.engine!;
    const block = m.worker(index);
    const burstLayout: BurstLayout = {
      metaBase: layout.meta.offset,
      framesBase: layout.frames.offset,
      frameSize: c.frameSize,
      list: block + m.w.burst,
      control: block,
      records: block + m.w.records,
      recordSlots: m.w.recordSlots,
      statsBlock: layout.statsAddress(c.queues + index),
      tx: block + m.w.tx,
      txSlots: c.burst,
      txQueues: c.queues,
    };
    const args: EngineWorkerArgs = {
      ctx: this.ctx,
      poll: c.poll,
      burst: c.burst,
      layout: burstLayout,
      cache: m.cache(index),
      stopWord: this.ctx + RUN_STOP,
      handler: c.handler ? (c.handler.startsWith('file:') ? c.handler : pathToFileURL(c.handler).href) : undefined,
      handlerArgs: c.handlerArgs,
      cpu: c.cpus?.[index],
      clockBase: this.clockBase,
      plugins: this.plugins && {
        ...this.plugins.workerArgs(),
        scratch: { offset: this.pluginScratch + index * PLUGIN_SCRATCH_PER_WORKER, size: PLUGIN_SCRATCH_PER_WORKER },
        maxBurst: c.burst,
      },
    };
    const init: WorkerInit = {
      index,
      count: c.workers,
      memory: this.memory!,
      module: compileEngine(),
      controlBlock: layout.controlBlock,
      task: pathToFileURL(artefact('dist/host/workers/engine-worker.js')).href,
      args,
    };
    const w = new Worker(artefact('dist/host/workers/worker.js'), { workerData: init });
    this.workers[index] = w;
    this.restarts[index] ??= 0;
    // The plugin watchdog ends this worker if a plugin holds it past the budget; onDeath restarts it.
    this.plugins?.watch(index, w);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let finished = false;
      let error: Error | undefined;
      w.on('message', (msg: { type?: string; name?: string; message?: string; count?: number; affinity?: number[] }) => {
        if (msg?.type === 'ready') {
          ready = true;
          if (this.workers[index] === w) this.ready[index] = true;
          this.affinity[index] = msg.affinity;
          resolve();
        } else if (msg?.type === 'result') finished = true;
        else if (msg?.type === 'handler-error') this.emit('handler-error', { worker: index, name: msg.name, message: msg.message, count: msg.count });
        else if (msg?.type === 'plugin-records') this.takePluginRecords((msg as unknown as { records: PluginRecord[] }).records);
      });
      w.on('error', (e) => {
        error = e instanceof Error ? e : new Error(String(e));
      });
      this.exits[index] = new Promise<void>((exited) => {
        w.on('exit', (code) => {
          if (this.workers[index] === w) {
            this.workers[index] = undefined;
            this.ready[index] = false;
          }
          if (!ready) {
            reject(new Error(`engine: worker ${index} failed to start: ${error?.message ?? `exited with code ${code}`}`, { cause: error }));
            exited();
            return;
          }
          if (!finished) this.onDeath(index, code, error);
          exited();
        });
      });
    });
  }

  private openLive(): void {
    const c = this.config;
    const xdp = c.backend === 'afxdp';
    this.live = openBackend(c.backend, {
      ...c.backendOptions, iface: c.iface, netns: c.netns, memory: this.memory!, layout: this.layout!, queues: c.queues, burst: c.burst,
      enginePool: true, engine: this.wasm,
    } as Parameters<typeof openBackend>[1]);
    this.liveKernel = new Array(c.queues).fill(0);
    const pkt = this.live as AfPacketBackend;
    if (!xdp && pkt.zeroCopy) {
      // Frames that describe packets in the TPACKET blocks: frameRelease finds their block by these.
      const x = pkt.extRegions(this.layout!);
      const h = (this.layout!.engine!.offset >> 2);
      this.u32[h + EH.EXT_BASE] = x.base;
      this.u32[h + EH.EXT_STRIDE] = x.stride;
      this.u32[h + EH.EXT_SHIFT] = x.shift;
      this.u32[h + EH.EXT_HOLDERS] = x.holders;
      // Last, and atomically: a worker testing a frame against the range sees the rest set.
      Atomics.store(this.u32, h + EH.EXT_BYTES, x.bytes);
    }
    if (xdp) {
      // The kernel gets its first frames from the pool; from here on, the feeder tops it up.
      const b = this.live as AfXdpBackend;
      const cache = this.layout!.engine!.cache(c.workers);
      for (let q = 0; q < c.queues; q++) b.refill(q, this.ctx, cache, this.liveList);
    }
  }

  /**
   * The feeders' common loop, on the main thread: each round receives a burst and sends what
   * handlers forwarded on every queue (`receive(q)`, `transmit(q)`: one WASM call each), reads the
   * kernel's drop counters every 100 ms, waits in `idle(sent)` after a round that received nothing
   * and yields to the event loop every 8 busy rounds.
   */
  private async feedLoop(receive: (q: number) => number, transmit: (q: number) => number, idle: (sent: number) => Promise<void>): Promise<void> {
    const queues = this.config.queues;
    const drops = this.wasm as unknown as KernelDrops;
    let round = 0;
    let lastDrops = 0;
    while (!this.liveStopping) {
      let got = 0;
      let sent = 0;
      for (let q = 0; q < queues; q++) {
        got += receive(q);
        sent += transmit(q);
      }
      const now = performance.now();
      if (now - lastDrops >= 100) {
        lastDrops = now;
        this.countKernelDrops(drops);
      }
      if (got === 0) await idle(sent);
      else if (++round % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    this.countKernelDrops(drops);
  }

  /**
   * The AF_XDP feeder (zero-copy): per queue and burst, one WASM call turns the RX descriptors
   * into pool frames on the engine's rx ring and tops the fill ring up from the pool. A frame a
   * handler keeps stays out of the fill ring until its last holder releases it.
   */
  private async feedXdp(): Promise<void> {
    const b = this.live as AfXdpBackend;
    const c = this.config;
    const cache = this.layout!.engine!.cache(c.workers);
    const list = this.liveList;
    await this.feedLoop(
      (q) => b.ingest(q, this.ctx, cache, list, c.burst, this.nowNs()),
      (q) => b.transmit(q, this.ctx, cache, this.nowNs()),
      async (sent) => {
        // Idle (ingest also topped the fill rings up with frames released since); frames to send: no sleep.
        if (sent === 0) b.wait(0, 1);
        await new Promise((r) => setImmediate(r));
      },
    );
    // Nothing more arrives once the program is gone: take what is on the RX rings, then the
    // fill rings' frames come back to the pool.
    b.detach();
    for (let q = 0; q < c.queues; q++) while (b.ingest(q, this.ctx, cache, list, c.burst, this.nowNs()) > 0);
    this.countKernelDrops(this.wasm as unknown as KernelDrops);
    let stranded = 0;
    for (let q = 0; q < c.queues; q++) {
      b.reclaim(q, this.ctx, cache);
      stranded += b.kernelFrames(q);
    }
    if (stranded) this.warnings.push(`afxdp: the driver kept ${stranded} pool frames at stop (a zero-copy driver does not hand back frames it had taken); they stay out of the pool`);
  }

  /**
   * The AF_PACKET feeder, zero-copy (TPACKET_V3): per queue and burst, one WASM call turns packets
   * into pool frames that point into the kernel's blocks, on the engine's rx ring. A block goes
   * back to the kernel when the last frame describing one of its packets is released (by any
   * thread), not here. At stop, what the blocks still hold is taken in, then the walker lets go.
   * Forwarded frames go out from here too (transmit(): copied into the TX ring, then released).
   */
  private async feedTpacket(): Promise<void> {
    const b = this.live as AfPacketBackend;
    const c = this.config;
    const cache = this.layout!.engine!.cache(c.workers);
    const list = this.liveList;
    await this.feedLoop(
      (q) => b.ingest(q, this.ctx, cache, list, c.burst, this.nowNs()),
      (q) => b.transmit(q, this.ctx, cache, this.nowNs()),
      async (sent) => {
        // Packets ready that the walker did not take: the pool is empty; wait 1 ms for frames to come back.
        if (b.ready(0) > 0) await new Promise((r) => setTimeout(r, 1));
        else {
          // Frames to send: no sleep.
          if (sent === 0) b.wait(0, 1);
          await new Promise((r) => setImmediate(r));
        }
      },
    );
    for (let q = 0; q < c.queues; q++) {
      while (b.ingest(q, this.ctx, cache, list, c.burst, this.nowNs()) > 0);
      b.finish(q, this.ctx);
    }
    this.countKernelDrops(this.wasm as unknown as KernelDrops);
  }

  /**
   * The live backend's feeder when it copies: each queue's burst is copied into pool frames in one
   * WASM call (backendIngest) and released to the kernel at once, so the kernel ring never waits
   * on a handler. AF_PACKET: forwarded frames go out from here too (transmit()).
   */
  private async feedLive(): Promise<void> {
    const b = this.live!;
    const c = this.config;
    const cache = this.layout!.engine!.cache(c.workers);
    const list = this.liveList;
    const wasm = this.wasm as unknown as { backendIngest(ctx: number, q: number, cache: number, addrs: number, n: number, list: number, now: number): number };
    const pkt = b.name === 'afpacket' ? (b as AfPacketBackend) : undefined;
    await this.feedLoop(
      (q) => {
        const n = b.receive(q, c.burst);
        if (n === 0) return 0;
        wasm.backendIngest(this.ctx, q, cache, b.queues[q].rxAddrs, n, list, this.nowNs());
        b.release(q);
        return n;
      },
      (q) => (pkt ? pkt.transmit(q, this.ctx, cache, this.nowNs()) : 0),
      async (sent) => {
        // Frames to send: no sleep.
        if (sent === 0) b.wait(0, 1);
        await new Promise((r) => setImmediate(r));
      },
    );
  }

  private countKernelDrops(ingest: KernelDrops): void {
    const st = this.live!.stats();
    for (let q = 0; q < this.config.queues; q++) {
      const d = st.queues?.[q]?.drops ?? (q === 0 ? st.drops : {});
      const total = (d.ringFull ?? 0) + (d.fillRingEmpty ?? 0);
      if (total > this.liveKernel[q]) {
        ingest.kernelDrops(this.ctx, q, total - this.liveKernel[q]);
        this.liveKernel[q] = total;
      }
    }
  }

  /** A worker died without finishing: recover what it held and start another in its place. */
  private onDeath(index: number, code: number, error?: Error): void {
    const recovered = this.recover(index);
    // While starting (the others still load), running or stopping (the new one drains what the dead one left).
    const live = this.state === 'starting' || this.state === 'running' || this.state === 'stopping';
    const restart = this.config.restart && live;
    const info: WorkerExit = { worker: index, code, error, recovered, restarted: restart };
    this.emit('worker-exit', info);
    if (restart) {
      this.restarts[index]++;
      this.spawn(index).catch((e) => this.fail(new Error(`engine: worker ${index} died and could not be restarted: ${(e as Error).message}`, { cause: e })));
      return;
    }
    // Not restarting: let the others finish without it.
    this.wasm!.engineWorkerStop(this.ctx, index);
    if (live) this.fail(new Error(`engine: worker ${index} died (exit code ${code})${error ? `: ${error.message}` : ''} and restart is off`, { cause: error }));
  }

  /**
   * Frames a dead worker held, from its recovery journal (assembly/engine-map.ts, words 32..63 of
   * its control line): V8 ends a worker only at a function entry or a loop header, and every
   * hand-off files the frame in the same straight-line stretch, so the journal is exact wherever it
   * died. Frames whose fate was not counted yet are counted as handler_error (the worker failed
   * them); then the worker's pool cache goes back to the free ring. The other workers keep running:
   * this touches only the dead worker's block and cache, and frames no other thread can reach.
   */
  private recover(index: number): number {
    const m = this.layout!.engine!;
    const block = m.worker(index);
    const u32 = this.u32;
    const w = (field: number) => (block + field) >> 2;
    const hostCache = m.cache(this.config.workers);
    const claim = this.takeClaim(index);
    const release = (f: number) => this.wasm!.frameRecover(this.ctx, hostCache, f, claim.skip);
    let failed = 0;
    let txDropped = 0;
    let held = 0;
    // feed: sourcePoll's frames (phase 0: not received yet, the records are fed again; 1: received; 2: counted ring_full).
    const feedN = u32[w(WC.FEED_N)];
    const feedPhase = u32[w(WC.FEED_PHASE)];
    for (let i = u32[w(WC.FEED_FIRST)]; i < feedN; i++) release(u32[((block + m.w.frames) >> 2) + i]);
    if (feedPhase === 1) failed += feedN - u32[w(WC.FEED_FIRST)];
    held += Math.max(0, feedN - u32[w(WC.FEED_FIRST)]);
    // stage: ingest's burst off the rx ring; entries that left read NEXT_NONE.
    const stageN = u32[w(WC.STAGE_COUNT)];
    for (let i = 0; i < stageN; i++) {
      const f = u32[((block + m.w.frames) >> 2) + i];
      if (f === NEXT_NONE) continue;
      release(f);
      failed++;
      held++;
    }
    // tmp: frames leaving through the burst list (to an in ring) or the stage list (to a tx ring).
    const tmpN = u32[w(WC.TMP_N)];
    const ring = u32[w(WC.TMP_RING)];
    const tx = u32[w(WC.TMP_LIST)] === 1;
    const tmpList = (block + (tx ? m.w.stage : m.w.burst)) >> 2;
    let first = u32[w(WC.TMP_FIRST)];
    if (ring !== 0) first = claim.ring === ring ? Math.min(tmpN, claim.count) : 0;
    for (let i = first; i < tmpN; i++) release(u32[tmpList + i]);
    if (ring !== 0) {
      if (tx) txDropped += tmpN - first;
      else failed += tmpN - first;
    }
    held += Math.max(0, tmpN - first);
    // staged forwards not moved yet: no reference of their own (flushTx takes it), never sent.
    const txN = u32[w(WC.TX_COUNT)];
    for (let i = 0; i < txN; i++) if (u32[((block + m.w.tx) >> 2) + i] !== TX_NONE) txDropped++;
    // burst: the handler's, failed with it.
    const n = u32[w(WC.BURST_COUNT)];
    for (let i = 0; i < n; i++) release(u32[((block + m.w.burst) >> 2) + i]);
    failed += n;
    held += n;
    // records staged and not published: the frames they hold (RECORD_KEEP ones hold none yet).
    const recs = u32[w(WC.RECORD_COUNT)];
    const recFirst = claim.ring === this.layout!.ring('records').offset ? claim.count : u32[w(WC.RECORD_FIRST)];
    for (let i = recFirst; i < recs; i++) {
      const o = ((block + m.w.records) >> 2) + i * 2;
      if (u32[o + 1] === RECORD_FRAME) release(u32[o]);
    }
    // transmit hold lists this worker drained: finish the releases it counted, close the list up.
    const txQueues = u32[(this.ctx >> 2) + EH.TX_QUEUES];
    for (let q = index; q < txQueues; q += this.config.workers) {
      const hold = (m.txHold + q * ENGINE_TX_HOLD_BYTES) >> 2;
      const counted = u32[hold + TXH.COUNTED / 4];
      if (counted === 0) continue;
      for (let i = u32[hold + TXH.RELEASED / 4]; i < counted; i++) release(u32[hold + TXH.LIST / 4 + i]);
      u32.copyWithin(hold + TXH.LIST / 4, hold + TXH.LIST / 4 + counted, hold + TXH.LIST / 4 + u32[hold]);
      u32[hold] -= counted;
      u32[hold + TXH.COUNTED / 4] = 0;
      u32[hold + TXH.RELEASED / 4] = 0;
    }
    const hostBlock = this.layout!.statsAddress(this.config.queues + this.config.workers);
    if (failed) hostBlockAdd(this.memory!.buffer, hostBlock, 'handler_error', failed);
    if (txDropped) hostBlockAdd(this.memory!.buffer, hostBlock, 'tx_dropped', txDropped);
    for (const f of [WC.BURST_COUNT, WC.RECORD_COUNT, WC.STAGE_COUNT, WC.TX_COUNT, WC.FEED_N, WC.FEED_FIRST, WC.FEED_PHASE, WC.TMP_N, WC.TMP_FIRST, WC.TMP_RING, WC.TMP_LIST, WC.RECORD_FIRST]) u32[w(f)] = 0;
    const flushed = this.wasm!.poolFlush(this.ctx, m.cache(index));
    return held + flushed;
  }

  /**
   * The ring claim a dead worker left open (assembly/ring.ts, "Claims and worker death"), taken out
   * of its pool cache line before anything else: its items go into the claimed slots now (the
   * worker's lists are reused by its successor), and the claim is published as soon as the ring's
   * tail reaches it (settleClaims; a free-ring claim must be, before the host frees anything).
   * Returns what the journal needs: the ring and count that went in, and a frame the claim already
   * put back in the pool (a capacity-0 cache's single free).
   */
  private takeClaim(index: number): { ring: number; count: number; skip: number } {
    const m = this.layout!.engine!;
    const u32 = this.u32;
    const cache = m.cache(index);
    const rec = (cache + PC.CLAIM) >> 2;
    const word = u32[rec];
    const none = { ring: 0, count: 0, skip: NEXT_NONE };
    if (word === 0) return none;
    const ring = word & ~1;
    const consumer = (word & 1) === 1;
    const list = u32[rec + 1];
    const head = u32[rec + 2];
    const count = u32[rec + 3];
    u32.fill(0, rec, rec + 4);
    const mask = u32[(ring + RING.MASK) >> 2];
    const slotWords = u32[(ring + RING.SLOT_BYTES) >> 2] / 4;
    const slot = (i: number) => ((ring + RING.HEADER) >> 2) + (((head + i) & mask) >>> 0) * slotWords;
    const free = this.layout!.ring('free').offset;
    const frames: number[] = [];
    let skip = NEXT_NONE;
    if (consumer) {
      // The frames are still in the slots (producers cannot reach them before the consumer tail does).
      for (let i = 0; i < count; i++) frames.push(u32[slot(i)]);
    } else if (list !== 0) {
      for (let i = 0; i < count; i++) for (let k = 0; k < slotWords; k++) u32[slot(i) + k] = u32[(list >> 2) + i * slotWords + k];
      // From the dead worker's own cache: those slots are the ring's, the count store never ran.
      const slots = cache + PC.SLOTS;
      if (ring === free && list >= slots && list < slots + 4 * u32[(cache + 4) >> 2]) u32[(cache + PC.COUNT) >> 2] = (list - slots) >> 2;
    } else if (ring === free) skip = u32[slot(0)];
    this.openClaims.push({ ring, consumer, head, count, frames });
    // Earlier claimers are live workers a few instructions from their publish, or other dead ones.
    const end = Date.now() + 200;
    while (!this.settleClaims() && Date.now() < end) Atomics.wait(new Int32Array(this.memory!.buffer), rec, 0, 0.05);
    return { ring: consumer ? 0 : ring, count, skip };
  }

  /** Publishes every open claim whose turn has come, in turn order; true when none is left. */
  private settleClaims(): boolean {
    const u32 = this.u32;
    let progress = true;
    while (progress && this.openClaims.length) {
      progress = false;
      for (let i = 0; i < this.openClaims.length; i++) {
        const c = this.openClaims[i];
        const tail = (c.ring + (c.consumer ? RING.C_TAIL : RING.P_TAIL)) >> 2;
        if (Atomics.load(u32, tail) !== c.head) continue;
        const count64 = (c.ring + (c.consumer ? RING.C_DEQUEUED : RING.P_ENQUEUED)) >> 2;
        const lo = u32[count64] + c.count;
        u32[count64] = lo >>> 0;
        u32[count64 + 1] += Math.floor(lo / 2 ** 32);
        Atomics.store(u32, tail, (c.head + c.count) >>> 0);
        Atomics.notify(new Int32Array(this.memory!.buffer), tail);
        if (c.frames.length) {
          const dst = this.recordsDst;
          u32.set(c.frames, dst >> 2);
          this.wasm!.ringEnqueueBurst32(c.ring, dst, c.frames.length);
        }
        this.openClaims.splice(i, 1);
        progress = true;
        break;
      }
    }
    return this.openClaims.length === 0;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    if (this.listenerCount('error') > 0) this.emit('error', e);
    this.rejectDone(e);
    void this.stop().catch(() => undefined);
  }

  /** Ends the replay when every source is done. */
  private watch(): void {
    if (this.openClaims.length) this.settleClaims();
    if (this.state !== 'running') return;
    const m = this.layout!.engine!;
    for (let q = 0; q < this.config.queues; q++) if (this.u32[(m.sources + q * SRC.BYTES + SRC.DONE) >> 2] === 0) return;
    void this.stop().catch(() => undefined);
  }

  /**
   * Stops feeding, lets every worker drain the rings, waits for them (10 s at most each), releases
   * every frame still held and resolves with the final stats.
   */
  stop(): Promise<EngineStats> {
    if (this.stopping) return this.stopping;
    if (this.state === 'new') return Promise.reject(new Error('engine: stop() before start()'));
    this.stopping = (async () => {
      this.state = 'stopping';
      clearInterval(this.monitor);
      // A live backend stops feeding first, so nothing enters after the workers drain.
      if (this.live) {
        this.liveStopping = true;
        await this.liveLoop?.catch((e) => this.fail(e as Error));
      }
      const stopAt = (this.ctx + RUN_STOP) >> 2;
      Atomics.store(this.u32, stopAt, 1);
      Atomics.notify(new Int32Array(this.memory!.buffer), stopAt);
      // A live source: frames the workers forward while draining still go out, from here.
      const tx = this.liveTx ? (this.live as AfXdpBackend | AfPacketBackend) : undefined;
      let pumping = Boolean(tx);
      const pump = (async () => {
        while (pumping) {
          this.transmitLive(tx!);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const hung = await this.waitWorkers(10_000);
      pumping = false;
      await pump;
      if (tx) await this.flushLive(tx);
      this.plugins?.stop();
      if (hung.length) {
        await this.teardownWorkers();
        for (const i of hung) this.recover(i);
      }
      this.drainLeftovers();
      this.drainRecords();
      this.wasm!.poolFlush(this.ctx, this.layout!.engine!.cache(this.config.workers));
      this.closeLive();
      const stats = this.stats();
      this.finalStats = stats;
      this.state = 'stopped';
      this.emit('stopped', stats);
      if (hung.length) {
        const e = new Error(`engine: worker(s) ${hung.join(', ')} did not stop within 10 s (a handler that never returns?); terminated`);
        this.fail(e);
        throw e;
      }
      if (this.failure) throw this.failure;
      this.resolveDone(stats);
      return stats;
    })();
    return this.stopping;
  }

  private transmitLive(b: AfXdpBackend | AfPacketBackend): number {
    const cache = this.layout!.engine!.cache(this.config.workers);
    let left = 0;
    for (let q = 0; q < this.config.queues; q++) left += b.transmit(q, this.ctx, cache, this.nowNs());
    return left;
  }

  /**
   * At stop, after the workers finished: what they forwarded goes out (as the shaper allows) and
   * the kernel finishes the TX rings (AF_XDP: every frame comes back through the completion rings),
   * for 1 s at most. Frames the shaper still holds then are counted tx_dropped by drainLeftovers.
   */
  private async flushLive(b: AfXdpBackend | AfPacketBackend): Promise<void> {
    const end = Date.now() + 1000;
    while (this.transmitLive(b) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
    let inflight = 0;
    for (let q = 0; q < this.config.queues; q++) inflight += b.txInflight(q);
    if (inflight && b.name === 'afxdp') this.warnings.push(`afxdp: ${inflight} forwarded frame(s) not completed by the kernel at stop; they stay out of the pool`);
    if (inflight && b.name === 'afpacket') this.warnings.push(`afpacket: ${inflight} forwarded frame(s) still on the TX ring at stop, not sent by the kernel within 1 s; the socket closes with them`);
  }

  /**
   * Closes the live backend once the workers drained: with zero-copy AF_PACKET, frames point into
   * the kernel's blocks until released, so the ring stays mapped until every block came back.
   */
  private closeLive(): void {
    const b = this.live;
    if (!b) return;
    if (b.name === 'afpacket' && (b as AfPacketBackend).zeroCopy) {
      let held = 0;
      for (let q = 0; q < this.config.queues; q++) held += (b as AfPacketBackend).heldBlocks(q);
      if (held) this.warnings.push(`afpacket: ${held} ring block(s) still held at stop (frames from records() not released yet); their packets read as zeros from now on`);
    }
    b.close();
  }

  private async waitWorkers(ms: number): Promise<number[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      // A worker restarting during stop gets spawned again by onDeath; wait for the current set.
      const live = this.workers.map((w, i) => (w ? i : -1)).filter((i) => i >= 0);
      if (live.length === 0) return [];
      const left = deadline - Date.now();
      if (this.openClaims.length) this.settleClaims();
      if (left <= 0) return live;
      await Promise.race([Promise.all(live.map((i) => this.exits[i])), new Promise((r) => setTimeout(r, Math.min(left, 50)))]);
    }
  }

  private async teardownWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w?.terminate()));
    this.workers = [];
  }

  /**
   * Frames left in rings no worker drains any more (a worker that died with restart off, or hung
   * and was terminated): released, and counted as handler_error, the failure that stranded them.
   */
  private drainLeftovers(): void {
    const layout = this.layout!;
    const hostCache = layout.engine!.cache(this.config.workers);
    const dst = this.recordsDst;
    let n = 0;
    for (const r of layout.rings) {
      if (!/^(rx|in)\d/.test(r.name)) continue;
      for (;;) {
        const k = this.wasm!.ringDequeueBurst32(r.offset, dst, 256);
        for (let i = 0; i < k; i++) this.wasm!.frameRelease(this.ctx, hostCache, this.u32[(dst >> 2) + i]);
        n += k;
        if (k < 256) break;
      }
    }
    if (n) hostBlockAdd(this.memory!.buffer, layout.statsAddress(this.config.queues + this.config.workers), 'handler_error', n);
    // Forwarded frames not sent yet (the shaper held them): already delivered, so counted apart.
    let tx = 0;
    for (let q = 0; q < this.config.queues; q++) {
      const ring = layout.ring(`tx${q}`).offset;
      for (;;) {
        const k = this.wasm!.ringDequeueBurst32(ring, dst, 256);
        for (let i = 0; i < k; i++) this.wasm!.frameRelease(this.ctx, hostCache, this.u32[(dst >> 2) + i]);
        tx += k;
        if (k < 256) break;
      }
      const hold = layout.engine!.txHold + q * ENGINE_TX_HOLD_BYTES;
      const held = this.u32[hold >> 2];
      for (let i = 0; i < held; i++) this.wasm!.frameRelease(this.ctx, hostCache, this.u32[((hold + 64) >> 2) + i]);
      this.u32[hold >> 2] = 0;
      tx += held;
    }
    if (tx) hostBlockAdd(this.memory!.buffer, layout.statsAddress(this.config.queues + this.config.workers), 'tx_dropped', tx);
  }

  private takePluginRecords(records: PluginRecord[]): void {
    const room = PLUGIN_RECORDS_MAX - this.pluginRecords.length;
    if (records.length > room) this.pluginRecordsDropped += records.length - Math.max(0, room);
    for (let i = 0; i < Math.min(room, records.length); i++) this.pluginRecords.push(records[i]);
  }

  private drainRecords(): void {
    const batch = this.takeRecords();
    if (batch) this.releaseBatch(batch);
  }

  private takeRecords(): { values: number[]; frames: number[] } | undefined {
    const ring = this.layout!.ring('records').offset;
    const values: number[] = [];
    const frames: number[] = [];
    const dst = this.recordsDst;
    for (;;) {
      const n = this.wasm!.ringDequeueBurst64(ring, dst, 256);
      for (let i = 0; i < n; i++) {
        const lo = this.u32[(dst >> 2) + 2 * i];
        const hi = this.u32[(dst >> 2) + 2 * i + 1];
        if (hi === RECORD_FRAME) frames.push(lo);
        else values.push(hi * 0x100000000 + lo);
      }
      if (n < 256) break;
    }
    return values.length || frames.length ? { values, frames } : undefined;
  }

  private releaseBatch(b: { frames: number[] }): void {
    const cache = this.layout!.engine!.cache(this.config.workers);
    for (const f of b.frames) this.wasm!.frameRelease(this.ctx, cache, f);
  }

  /**
   * What handlers emit() and keep(), in batches. Kept frames are Packet views valid until the loop
   * asks for the next batch; then they go back to the pool. Ends after the engine stopped.
   */
  async *records(): AsyncGenerator<RecordBatch> {
    if (this.state === 'new') throw new Error('engine: records() before start()');
    this.recordConsumers++;
    let held: number[] = [];
    try {
      for (;;) {
        this.releaseBatch({ frames: held });
        held = [];
        const ended = this.state === 'stopped' || this.state === 'failed';
        const b = this.state === 'stopped' ? undefined : this.takeRecords();
        const plugins = this.pluginRecords.splice(0);
        if (b || plugins.length) {
          held = b?.frames ?? [];
          const buf = this.memory!.buffer;
          yield { values: b?.values ?? [], packets: held.map((f) => new Packet(buf, this.layout!.meta.offset + f * META.BYTES)), plugins };
          continue;
        }
        if (ended || this.state === 'stopping') {
          if (this.state === 'stopping') await this.stopping?.catch(() => undefined);
          // Plugin records the workers posted while draining arrive with their last messages.
          const rest = this.pluginRecords.splice(0);
          if (rest.length) yield { values: [], packets: [], plugins: rest };
          return;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      this.releaseBatch({ frames: held });
      this.recordConsumers--;
    }
  }

  /** Adds a flow-director rule while running (or before start); resolves with its id once in force. */
  addRule(rule: FlowRuleInput): Promise<number> {
    if (!this.flow) return Promise.reject(new Error('engine: add rules after start(), or pass them as config.rules'));
    return this.flow.add(rule);
  }

  /** Removes a rule; resolves once no worker can match it any more. */
  removeRule(id: number): Promise<boolean> {
    if (!this.flow) return Promise.reject(new Error('engine: no rules before start()'));
    return this.flow.remove(id);
  }

  /**
   * The thread running worker `index` now, once it reported ready (undefined while it starts or
   * restarts): for supervisors and tests that end a worker from outside (`terminate()`); the engine
   * recovers what it held and restarts it.
   */
  workerThread(index: number): Worker | undefined {
    return this.ready[index] ? this.workers[index] : undefined;
  }

  /** The CPUs each worker's thread may run on, as the kernel reports after pinning (config.cpus); undefined when not pinned. */
  workerAffinity(): (number[] | undefined)[] {
    return this.config.cpus ? [...this.affinity] : [];
  }

  rules(): { id: number; rule: FlowRuleInput }[] {
    return this.flow?.list() ?? [];
  }

  /** A snapshot of every counter (see EngineStats); rates are against the previous call. */
  stats(): EngineStats {
    if (this.finalStats) return this.finalStats;
    if (!this.layout || !this.memory) throw new Error('engine: stats() before start()');
    const c = this.config;
    const buf = this.memory.buffer;
    const m = this.layout.engine!;
    const now = performance.now();
    const dt = this.last ? (now - this.last.t) / 1000 : 0;
    const rate = (x: number, prev: number | undefined) => (dt > 0 && prev !== undefined ? (x - prev) / dt : 0);
    const total = { rx: 0, rxBytes: 0, delivered: 0, deliveredBytes: 0, tx: 0, txBytes: 0, txDropped: 0, records: 0 };
    const dropped = emptyDrops();
    const queues = [];
    for (let q = 0; q < c.queues; q++) {
      const b = readBlock(buf, this.layout.statsAddress(q));
      total.rx += b.rx_packets;
      total.rxBytes += b.rx_bytes;
      total.tx += b.tx_packets;
      total.txBytes += b.tx_bytes;
      total.txDropped += b.tx_dropped;
      addDrops(dropped, b.dropped);
      queues.push({ queue: q, rx_packets: b.rx_packets, rx_bytes: b.rx_bytes, tx_packets: b.tx_packets, tx_bytes: b.tx_bytes, pps: rate(b.rx_packets, this.last?.q[q]), bps: rate(b.rx_bytes * 8, this.last?.qb[q]), dropped: b.dropped });
    }
    const hist = new Float64Array(HIST_BUCKETS);
    let latCount = 0;
    let latSum = 0;
    let latMax = 0;
    const workers = [];
    for (let w = 0; w <= c.workers; w++) {
      const b = readBlock(buf, this.layout.statsAddress(c.queues + w));
      total.delivered += b.delivered;
      total.deliveredBytes += b.delivered_bytes;
      total.txDropped += b.tx_dropped;
      total.records += b.records_dropped;
      addDrops(dropped, b.dropped);
      if (w === c.workers) break; // the host's block: recovered frames only
      const own = new Float64Array(HIST_BUCKETS);
      readHistogram(buf, m.worker(w) + m.w.hist, own);
      for (let i = 0; i < HIST_BUCKETS; i++) hist[i] += own[i];
      latCount += b.latency.count;
      latSum += b.latency.sum;
      latMax = Math.max(latMax, b.latency.max);
      workers.push({
        worker: w,
        delivered: b.delivered,
        delivered_bytes: b.delivered_bytes,
        bursts: b.bursts,
        pps: rate(b.delivered, this.last?.w[w]),
        dropped: b.dropped,
        latency_ns: latencyOf(own, b.latency.count, b.latency.sum, b.latency.max),
        restarts: this.restarts[w] ?? 0,
      });
    }
    const droppedTotal = sumDrops(dropped);
    const free = this.wasm!.poolAvailable(this.ctx);
    const s: EngineStats = {
      rx_packets: total.rx,
      rx_bytes: total.rxBytes,
      delivered: total.delivered,
      delivered_bytes: total.deliveredBytes,
      tx_packets: total.tx,
      tx_bytes: total.txBytes,
      tx_dropped: total.txDropped,
      dropped,
      dropped_total: droppedTotal,
      in_flight: total.rx - total.delivered - droppedTotal,
      pps: rate(total.rx, this.last?.rx),
      bps: rate(total.rxBytes * 8, this.last?.bytes),
      latency_ns: latencyOf(hist, latCount, latSum, latMax),
      latency_hist: hist,
      queues,
      workers,
      pool: { frames: c.frameCount, free, in_use: c.frameCount - free },
      records_dropped: total.records + this.pluginRecordsDropped,
      elapsed_s: this.startedAt ? (now - this.startedAt) / 1000 : 0,
      plugins: this.plugins?.stats() ?? [],
    };
    this.last = { t: now, rx: total.rx, bytes: total.rxBytes * 8, q: queues.map((q) => q.rx_packets), qb: queues.map((q) => q.rx_bytes * 8), w: workers.map((w) => w.delivered) };
    return s;
  }

  /** Total frames the capture or frame list holds (× loops): the progress bar's 100%. */
  get expectedPackets(): number | undefined {
    const loops = this.config.replay.loops;
    if (loops === 0) return undefined;
    return this.streams.reduce((s, x) => s + x.frames.length, 0) * loops;
  }

  /** The drop reasons the stats use. */
  static readonly dropReasons = DROP_REASONS;
  static readonly statsBlockBytes = STATS_BLOCK;
}
