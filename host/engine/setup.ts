// Setting the engine up, once, before any worker runs: config -> memory map -> shared memory ->
// engine header -> rings, frame pool, RSS, shapers, replay sources, flow tables. The result is
// what every other part of the engine works on (EngineRuntime); nothing here runs per burst.
import { computeLayout, createMemory, planScratch, writeControlBlock, MAX_RINGS, type EngineMap, type Layout, type RingSpec } from '../layout.js';
import { compileEngine, instantiateEngine } from '../wasm.js';
import { EH, ENGINE_MAGIC, NO_SOURCE_WORKER, OPT, RING_F_MP, RSS_KEY, RT, SRC, SRC_F, type EngineExports } from '../abi.js';
import { META } from '../meta.js';
import { PARSE_RSS, PARSE_RSS_SYMMETRIC, PARSE_VERIFY_CSUM } from '../ptype.js';
import { afpacketKernelBytes, afxdpKernelBytes, kernelBytesFor } from '../backends/index.js';
import { loadPlugin, PluginSupervisor, PLUGIN_SCRATCH_PER_WORKER } from '../plugins/index.js';
import { Filter, FilterError, compileExpression, type BpfInsn } from '../filter/index.js';
import { EngineConfigError, type ResolvedConfig } from './config.js';
import { captureStream, memoryStreams, writeStream, type Stream } from './stream.js';

/** The engine as set up: its memory, map, module instance and where its scratch parts lie. */
export interface EngineRuntime {
  readonly config: ResolvedConfig;
  readonly layout: Layout;
  readonly map: EngineMap;
  readonly memory: WebAssembly.Memory;
  readonly wasm: EngineExports;
  /** The engine header's address: the `ctx` every engine export takes. */
  readonly ctx: number;
  readonly u32: Uint32Array;
  /** One SPSC in ring per (target, source, class) rather than one MP ring per (target, class). */
  readonly pairs: boolean;
  /** The host's pool cache (the last one). */
  readonly hostCache: number;
  /** The host's stats block (after the queues' and the workers'): frames the host failed or recovered. */
  readonly hostStats: number;
  /** Where the host dequeues records and leftovers: 256 × 8 B. */
  readonly dequeue: number;
  /** Where recordsTake lays a burst of records out for the host (assembly/engine/records.ts), and its size. */
  readonly stage: number;
  readonly stageBytes: number;
  /** Crash recovery's open-claim records, CLAIM_BYTES per worker (assembly/engine/recover.ts). */
  readonly claims: number;
  /** Where claimSettle puts a dead consumer's claimed frames back from: 4 B per frame. */
  readonly claimSettle: number;
  /** The live source's frame list. */
  readonly sourceList: number;
  /** The first plugin gather slice (PLUGIN_SCRATCH_PER_WORKER per worker). */
  readonly pluginScratch: number;
  readonly streams: Stream[];
  readonly plugins?: PluginSupervisor;
  readonly filter?: EngineFilter;
}

/** The config's filter expression, compiled: the BPF (for the kernel) and its WASM module (for the workers). */
export interface EngineFilter {
  readonly expression: string;
  readonly insns: readonly BpfInsn[];
  /** The workers' WASM module; undefined on AF_PACKET, where the kernel runs the BPF. */
  readonly module?: WebAssembly.Module;
}

/** A live interface as the source (afpacket, afxdp or a DPDK port), rather than a replay. */
/**
 * Bytes of the stage where recordsTake lays a burst of records out for the host
 * (assembly/engine/records.ts has the layout): a 16 B header, 256 runs of 16 B, then 256 records of
 * 8 B plus a frame's first segment, sized for frames of up to 2048 bytes (larger ones that do not
 * fit are taken one by one).
 */
export const recordsStageBytes = (frameSize: number): number => 16 + 256 * 16 + 256 * (8 + Math.min(frameSize, 2048));

export const isLiveBackend = (c: ResolvedConfig): boolean => c.backend === 'afpacket' || c.backend === 'afxdp' || c.backend === 'dpdk';

/** A live source that sends what handlers forward: afxdp, dpdk, or afpacket with its TX ring (txFrames > 0). */
export function liveTransmits(c: ResolvedConfig): boolean {
  return c.backend === 'afxdp' || c.backend === 'dpdk' || (c.backend === 'afpacket' && (c.backendOptions as { txFrames?: number } | undefined)?.txFrames !== 0);
}

/** Builds everything the workers need; `nicQueue` deals frames given in memory over the queues. */
export function setupEngine(c: ResolvedConfig, nowNs: () => number, nicQueue: (frame: Uint8Array) => number, warn: (m: string) => void): EngineRuntime {
  const live = isLiveBackend(c);
  let streams: Stream[] = [];
  if (c.backend === 'pcap') {
    try {
      streams = [captureStream(c.file!, c.replay.loops, c.replay.count)];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const name = c.file === '-' ? 'stdin' : c.file;
      throw new EngineConfigError('file', code === 'ENOENT' ? `${name}: no such file; check the path` : `${name}: ${code ? `cannot read it (${code})` : (e as Error).message}`);
    }
  } else if (c.backend === 'memory') streams = memoryStreams(c.frames!, c.queues, c.linktype, nicQueue);
  const filter = c.filter === undefined ? undefined : compileFilter(c, c.filter, streams[0]?.refill?.linktype ?? c.linktype);
  const inSlots = Math.min(c.frameCount, 1 << 16);
  const rings: RingSpec[] = [
    ...Array.from({ length: c.queues }, (_, q) => ({ name: `rx${q}`, slots: c.ringSize, slotBytes: 4 as const })),
    { name: 'free', slots: c.frameCount, slotBytes: 4 },
    { name: 'records', slots: c.recordsRing, slotBytes: 8 },
    ...Array.from({ length: c.queues }, (_, q) => ({ name: `tx${q}`, slots: c.ringSize, slotBytes: 4 as const })),
  ];
  // One SPSC ring per (target, source, class) while the ring table has room; else one MP ring per (target, class).
  const pairs = c.workers * c.workers * c.classes + rings.length <= MAX_RINGS;
  for (let t = 0; t < c.workers; t++)
    for (let k = 0; k < c.classes; k++) {
      if (pairs) for (let s = 0; s < c.workers; s++) rings.push({ name: `in${t}.${s}.${k}`, slots: inSlots, slotBytes: 4 });
      else rings.push({ name: `in${t}.${k}`, slots: inSlots, slotBytes: 4 });
    }
  const streamBytes = streams.reduce((s, x) => s + x.bytes, 0);
  if (streamBytes > 2 ** 31)
    throw new EngineConfigError('frames', `the frames given in memory hold ${streamBytes} bytes; the engine's memory holds at most 2 GiB of them: give a capture file instead (it is read as it plays)`);
  const scratch = planScratch({
    streamBytes,
    sourceListBytes: live ? 4 * (Math.max(c.burst, Math.ceil(c.frameCount / c.queues)) + 1) : 0,
    stageBytes: recordsStageBytes(c.frameSize),
    pluginBytes: c.plugins.length ? 64 + c.workers * PLUGIN_SCRATCH_PER_WORKER : 0,
    workers: c.workers,
    frameCount: c.frameCount,
  });
  const afxdp = { ...c.backendOptions, burst: c.burst, frameCount: c.frameCount, queues: c.queues, enginePool: true };
  const layout = computeLayout({
    queues: c.queues,
    workers: c.workers,
    frameCount: c.frameCount,
    frameSize: c.frameSize,
    ringSize: c.ringSize,
    rings,
    scratchBytes: scratch.bytes,
    engine: { classes: c.classes, burst: c.burst, poolCache: c.poolCache, flowRules: c.maxRules },
    kernelBytesPerQueue: c.backend === 'afpacket' ? afpacketKernelBytes({ ...c.backendOptions, burst: c.burst, enginePool: true }) : c.backend === 'afxdp' ? afxdpKernelBytes(afxdp) : c.backend === 'dpdk' ? kernelBytesFor('dpdk') : 0,
    dpdk: c.dpdk && { frames: c.dpdk.frames, stride: c.dpdk.stride },
  });
  const at = scratch.place(layout.scratch.offset);
  // Validated and compiled before anything runs: a refused plugin fails start() with its reason.
  const plugins = c.plugins.length
    ? new PluginSupervisor(
        c.plugins.map((s) => loadPlugin(s, { engineMaxPages: layout.maximumPages })),
        { workers: c.workers, budgetMs: c.pluginBudgetMs },
      )
    : undefined;
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const wasm = instantiateEngine(compileEngine(), memory);
  const m = layout.engine!;
  const rt: EngineRuntime = {
    config: c, layout, map: m, memory, wasm, ctx: m.offset, u32: new Uint32Array(memory.buffer), pairs,
    hostCache: m.cache(c.workers), hostStats: layout.statsAddress(c.queues + c.workers),
    dequeue: at.dequeue, stage: at.stage, stageBytes: recordsStageBytes(c.frameSize), sourceList: at.sourceList, pluginScratch: at.plugins, claims: at.claims, claimSettle: at.claimSettle, streams, plugins, filter,
  };
  writeHeader(rt);
  initRings(rt, nowNs);
  writeDpdkHeader(rt);
  const prc = wasm.poolInit(rt.ctx, c.poolCache);
  if (prc !== 0) throw new Error(`engine: the frame pool did not initialise (code ${prc})`);
  new Uint8Array(memory.buffer).set(c.parse.rssKey.subarray(0, 40), m.offset + RSS_KEY);
  if (wasm.rssPrepare(m.offset + RSS_KEY, 40, m.rssTable) !== 0) throw new Error('engine: RSS key rejected');
  for (let i = 0; i < m.retaEntries; i++) rt.u32[(m.reta >> 2) + i] = i % c.workers;
  writeSources(rt, at.streams, nowNs);
  // The records are in the engine's memory now: the lists (an object and a BigInt per frame) would
  // only lengthen every full garbage collection of the host's thread for the engine's life.
  for (const st of streams) st.frames = [];
  return rt;
}

function writeHeader(rt: EngineRuntime): void {
  const { config: c, layout, map: m, u32 } = rt;
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
  h(EH.PARSE_FLAGS, (c.parse.verifyChecksums ? PARSE_VERIFY_CSUM : 0) | (rss ? PARSE_RSS : 0) | (rss && c.parse.symmetric ? PARSE_RSS_SYMMETRIC : 0));
  h(EH.OPTIONS, (c.parse.dropErrors ? OPT.DROP_PARSE_ERRORS : 0) | (spread ? OPT.RSS : 0) | (rt.pairs ? OPT.PAIRS : 0) | (rt.filter?.module ? OPT.FILTER : 0));
  h(EH.RING_TABLE, m.ringTable);
  h(EH.W_BURST, m.w.burst);
  h(EH.W_FRAMES, m.w.frames);
  h(EH.W_STAGE, m.w.stage);
  h(EH.W_RECORDS, m.w.records);
  h(EH.W_HIST, m.w.hist);
  h(EH.RECORD_SLOTS, m.w.recordSlots);
  h(EH.W_TX, m.w.tx);
  // A live source transmits forwarded frames from the main thread's source loop, which owns the
  // socket's rings (xskEngineTx, tpacketEngineTx): no worker drains a tx ring then.
  h(EH.TX_QUEUES, liveTransmits(c) ? 0 : c.queues);
  h(EH.TX_HOLD, m.txHold);
  h(EH.MAGIC, ENGINE_MAGIC);
}

/**
 * The DPDK frames (engine indexes DPDK_BASE .. + DPDK_COUNT) for the pool's release path: such a
 * frame goes on the return ring of its queue (assembly/extbuf.ts dpdkReturn). The layout places
 * the return rings one after another, all the same size. COUNT last, atomically: a worker that
 * sees it sees the rest.
 */
function writeDpdkHeader(rt: EngineRuntime): void {
  const d = rt.layout.dpdk;
  if (!d) return;
  const h = rt.map.offset >> 2;
  const rings = d.returnRings;
  rt.u32[h + EH.DPDK_BASE] = d.frameBase;
  rt.u32[h + EH.DPDK_RETURN] = rings[0].offset;
  rt.u32[h + EH.DPDK_RETURN_STRIDE] = rings.length > 1 ? rings[1].offset - rings[0].offset : 0;
  Atomics.store(rt.u32, h + EH.DPDK_COUNT, d.frames);
}

/**
 * Compiles the expression with libpcap for the frames' link type (a live source's are Ethernet).
 * On AF_PACKET the kernel runs the BPF (sources.ts), Linux ancillary loads such as `inbound` too;
 * every other source runs its WASM translation in the workers.
 */
function compileFilter(c: ResolvedConfig, expression: string, linktype: number): EngineFilter {
  try {
    const insns = compileExpression(expression, { linktype: isLiveBackend(c) ? 1 : linktype });
    return c.backend === 'afpacket' ? { expression, insns } : { expression, insns, module: new Filter(insns, expression).module };
  } catch (e) {
    if (e instanceof FilterError) throw new EngineConfigError('filter', e.message);
    throw e;
  }
}

function initRings(rt: EngineRuntime, nowNs: () => number): void {
  const { config: c, layout, map: m, u32, wasm } = rt;
  const ring = (name: string, flags: number) => {
    const r = layout.ring(name);
    const rc = wasm.ringInit(r.offset, r.slots, r.slotBytes, flags);
    if (rc !== 0) throw new Error(`engine: ring ${name} did not initialise (code ${rc})`);
    return r.offset;
  };
  const rtab = m.ringTable >> 2;
  // One producer (the source) and one consumer (worker q mod workers) per rx ring.
  for (let q = 0; q < c.queues; q++) u32[rtab + RT.RX / 4 + q] = ring(`rx${q}`, 0);
  for (let t = 0; t < c.workers; t++)
    for (let k = 0; k < c.classes; k++) {
      const shared = rt.pairs ? 0 : ring(`in${t}.${k}`, c.workers > 1 ? RING_F_MP : 0);
      for (let s = 0; s < c.workers; s++) u32[rtab + RT.IN / 4 + ((t << 8) | (s << 2) | k)] = rt.pairs ? ring(`in${t}.${s}.${k}`, 0) : shared;
    }
  // Not adaptive: the host's reader sleeps on it and the workers wake it themselves, at most once
  // per recordsWakeUs each (host/engine/reader-wake.ts), not on every publish.
  ring('records', RING_F_MP);
  // DPDK: any worker releases onto a return ring (MP), the queue's poll thread drains it.
  for (const r of layout.dpdk?.returnRings ?? []) ring(r.name, r.flags);
  for (let q = 0; q < c.queues; q++) {
    u32[rtab + RT.TX / 4 + q] = ring(`tx${q}`, c.workers > 1 ? RING_F_MP : 0);
    if (c.tx.rate || c.tx.bitRate) {
      const pps = c.tx.rate ?? 0;
      const bytesPerSec = (c.tx.bitRate ?? 0) / 8;
      wasm.shaperInit(m.txShaper(q), pps, c.tx.burstPackets ?? Math.max(c.burst, pps / 50), bytesPerSec, c.tx.burstBytes ?? Math.max(c.frameSize, bytesPerSec / 50), nowNs());
    }
  }
}

/** Replay sources: stream q in the scratch region, replayed by worker q mod workers. */
function writeSources(rt: EngineRuntime, streamsAt: number, nowNs: () => number): void {
  const { config: c, map: m, memory, wasm, streams } = rt;
  const dv = new DataView(memory.buffer);
  let at = streamsAt;
  for (let q = 0; q < c.queues; q++) {
    const s = m.source(q);
    const st = streams[q];
    if (!st || (st.count === 0 && !st.refill)) {
      dv.setUint32(s + SRC.WORKER, NO_SOURCE_WORKER, true);
      // A live queue is never done: it ends when stop() is called.
      dv.setUint32(s + SRC.DONE, isLiveBackend(c) ? 0 : 1, true);
      continue;
    }
    const r = c.replay;
    dv.setUint32(s + SRC.BASE, at, true);
    dv.setUint32(s + SRC.CURSOR, at, true);
    if (st.refill) {
      // The host loops a refilled stream (it reads the file again); the first records go in now.
      st.refill.place(at);
      dv.setUint32(s + SRC.END, at, true);
      dv.setUint32(s + SRC.LOOPS, 1, true);
      st.refill.pump(memory, s);
    } else {
      writeStream(memory, at, st);
      dv.setUint32(s + SRC.END, at + st.bytes, true);
      dv.setUint32(s + SRC.LOOPS, r.loops === 0 ? 0xffffffff : r.loops, true);
    }
    dv.setUint32(s + SRC.WORKER, q % c.workers, true);
    dv.setUint32(s + SRC.FLAGS, SRC_F.ACTIVE | (st.refill ? SRC_F.REFILL : 0) | (r.speed ? SRC_F.SPEED : 0) | (r.lossy ? SRC_F.LOSSY : 0) | (r.rate || r.bitRate ? SRC_F.RATE : 0), true);
    dv.setFloat64(s + SRC.SPEED, r.speed ?? 1, true);
    dv.setBigUint64(s + SRC.FIRST_TS, st.firstTs, true);
    if (r.rate || r.bitRate) {
      // The rate is the engine's: split over the queues that replay.
      const share = streams.filter((x) => x.count || x.refill).length;
      const pps = (r.rate ?? 0) / share;
      const bytesPerSec = (r.bitRate ?? 0) / 8 / share;
      // Buckets deep enough for 20 ms: a worker that slept through a scheduler tick must not lose tokens.
      wasm.shaperInit(m.sourceShaper(q), pps, Math.max(c.burst, pps / 50), bytesPerSec, Math.max(c.frameSize, bytesPerSec / 50), nowNs());
    }
    at += st.bytes;
  }
}

/**
 * The receive queue a multi-queue NIC's RSS would give a frame: Toeplitz hash of its 5-tuple (the
 * engine's key, symmetric as configured) modulo the queues. Computed with the engine's own parser
 * on a small private memory, so the memory backend deals flows to queues as hardware does.
 */
export function nicQueues(c: ResolvedConfig): (frame: Uint8Array) => number {
  let nic: { memory: WebAssembly.Memory; wasm: EngineExports; meta: number; data: number; table: number } | undefined;
  return (frame) => {
    const q = c.queues;
    if (q === 1) return 0;
    if (!nic) {
      const layout = computeLayout({ frameCount: 16, scratchBytes: 65536 + 36 * 1024 + 4096 });
      const memory = createMemory(layout);
      const wasm = instantiateEngine(compileEngine(), memory);
      const base = layout.scratch.offset;
      new Uint8Array(memory.buffer).set(c.parse.rssKey.subarray(0, 40), base);
      wasm.rssPrepare(base, 40, base + 64);
      nic = { memory, wasm, meta: base + 64 + 36 * 1024, data: base + 64 + 36 * 1024 + 64, table: base + 64 };
    }
    const n = nic;
    const len = Math.min(frame.length, 16384);
    new Uint8Array(n.memory.buffer).set(frame.subarray(0, len), n.data);
    const dv = new DataView(n.memory.buffer);
    new Uint8Array(n.memory.buffer).fill(0, n.meta, n.meta + 64);
    dv.setUint32(n.meta + META.DATA, n.data, true);
    dv.setUint32(n.meta + META.CAPLEN, len, true);
    dv.setUint16(n.meta + META.LINKTYPE, c.linktype, true);
    n.wasm.parseFrame(n.meta, PARSE_RSS | (c.parse.symmetric ? PARSE_RSS_SYMMETRIC : 0), n.table);
    return (dv.getUint32(n.meta + META.HASH, true) & 127) % q;
  };
}
