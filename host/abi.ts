/**
 * The TypeScript view of the engine module (assembly/): its exports, typed once, and the layouts
 * of the memory it shares with the host (engine header, worker control lines, replay sources,
 * rings, pool caches, transmit hold lists, kernel-walker state blocks). assembly/ is the source of
 * truth: every constant here names the assembly/ constant it mirrors, and docs/memory-map.md draws
 * the map. Importable from every part of host/ (engine, backends, workers, parser), so it depends
 * on nothing.
 */

/**
 * Offsets in the kernel walkers' state blocks that the backends read (the AF_XDP ring lines and
 * both walkers' traffic counters: assembly/kernel/xsk.ts XSK_* and XS_*, kernel/tpacket.ts TPS_*).
 * The backends take them from the module's own globals, so TypeScript holds no copy to keep in step.
 */
export const WALKER_OFFSETS = [
  'XSK_RX', 'XSK_FILL', 'XSK_TX', 'XSK_COMP', 'XS_RX_PKTS', 'XS_RX_BYTES', 'XS_TX_PKTS', 'XS_TX_BYTES',
  'TPS_RX', 'TPS_RX_BYTES', 'TPS_TX', 'TPS_TX_BYTES',
] as const;
export type WalkerOffset = (typeof WALKER_OFFSETS)[number];

/** The engine module's exports (assembly/index.ts exports them all); one instance per thread over one memory. */
export interface EngineExports extends Readonly<Record<WalkerOffset, WebAssembly.Global>> {
  // Control block and memory map (assembly/control.ts).
  init(controlBlock: number): number;
  counterAddLoop(addr: number, delta: number, times: number): number;
  regionOffset(controlBlock: number, kind: number, index: number): number;
  ringOffset(controlBlock: number, ring: number): number;

  // Rings (assembly/ring.ts).
  ringInit(ring: number, slots: number, slotBytes: number, flags: number): number;
  ringCount(ring: number): number;
  ringFree(ring: number): number;
  ringEnqueue32(ring: number, value: number): number;
  ringDequeue32(ring: number): bigint;
  ringEnqueueBurst32(ring: number, src: number, n: number): number;
  ringEnqueueBulk32(ring: number, src: number, n: number): number;
  ringDequeueBurst32(ring: number, dst: number, n: number): number;
  ringDequeueBulk32(ring: number, dst: number, n: number): number;
  ringEnqueueWait32(ring: number, src: number, n: number, timeoutUs: number): number;
  ringDequeueWait32(ring: number, dst: number, n: number, timeoutUs: number): number;
  ringEnqueueBurst64(ring: number, src: number, n: number): number;
  ringEnqueueBulk64(ring: number, src: number, n: number): number;
  ringDequeueBurst64(ring: number, dst: number, n: number): number;
  ringDequeueBulk64(ring: number, dst: number, n: number): number;
  ringEnqueueWait64(ring: number, src: number, n: number, timeoutUs: number): number;
  ringDequeueWait64(ring: number, dst: number, n: number, timeoutUs: number): number;

  // Frame pool (assembly/pool.ts).
  poolInit(ctx: number, cacheSize: number): number;
  poolFlush(ctx: number, cache: number): number;
  poolAvailable(ctx: number): number;
  frameRelease(ctx: number, cache: number, frame: number): number;
  frameReleaseList(ctx: number, cache: number, list: number, n: number): void;
  frameRecover(ctx: number, cache: number, frame: number, skip: number): number;

  // The records ring's host side: a burst laid out for the host (assembly/engine/records.ts).
  recordsTake(ctx: number, cache: number, list: number, max: number, stage: number, stageBytes: number): number;

  // Parser, RSS, flow director, checksum (assembly/parse/parse.ts, parse/rss.ts, engine/flow.ts, parse/checksum.ts).
  parseFrame(meta: number, flags: number, rssTable: number): number;
  parseBurst(metaBase: number, count: number, flags: number, rssTable: number): number;
  parseList(list: number, count: number, flags: number, rssTable: number): number;
  ipv6UpperProtocol(meta: number): number;
  rssPrepare(key: number, keyLen: number, table: number): number;
  rssHashMeta(meta: number, table: number, flags: number): number;
  toeplitz(table: number, input: number, len: number): number;
  toeplitzBitwise(key: number, keyLen: number, input: number, len: number): number;
  flowKey(meta: number, out: number): number;
  flowMatch(table: number, count: number, meta: number): number;
  internetChecksum(p: number, len: number, simd: number): number;

  // Engine: header check, workers, shapers, live ingest (assembly/engine/worker.ts, engine/rx.ts, shaper.ts).
  engineCheck(ctx: number): number;
  enginePoll(ctx: number, w: number, nowNs: number, handledOk: number): number;
  engineWorkerStart(ctx: number, w: number): void;
  engineWorkerStop(ctx: number, w: number): void;
  replayWaitNs(ctx: number, w: number, nowNs: number): number;
  shaperInit(sh: number, pps: number, burstPkts: number, bytesPerSec: number, burstBytes: number, nowNs: number): void;
  backendIngest(ctx: number, q: number, cache: number, addrs: number, n: number, list: number, nowNs: number): number;
  kernelDrops(ctx: number, q: number, n: number): void;
  sourceCount(ctx: number, q: number, rx: number, rxBytes: number, ringFull: number, tx: number, txBytes: number, txDropped: number): void;

  // Crash recovery and the transmit hold lists' release at stop (assembly/engine/recover.ts, txhold.ts).
  recoverClaim(ctx: number, w: number, claim: number): number;
  claimSettle(claim: number, scratch: number): number;
  recoverWorker(ctx: number, w: number, claim: number): number;
  txHoldRelease(ctx: number, q: number, cache: number): number;

  // Parser plugins' burst gather (assembly/engine/gather.ts).
  pluginGather(
    metaList: number, count: number, start: number, mode: number, trusted: number, port: number, mark: number,
    dst: number, dstCap: number, base: number, sel: number, pos: number, out: number, metaBase: number,
  ): number;

  // AF_XDP ring walker and the engine's AF_XDP source (assembly/kernel/xsk.ts, assembly/engine/xsk.ts).
  xskRing(st: number, ring: number, prod: number, cons: number, desc: number, flags: number, size: number): void;
  xskInit(st: number, queue: number, umem: number, shift: number, first: number, rxFrames: number, txFrames: number, meta: number, free: number): number;
  xskRx(st: number, out: number, max: number, ts: bigint): number;
  xskRelease(st: number): number;
  xskRxReady(st: number): number;
  xskEngineRx(st: number, ctx: number, q: number, cache: number, list: number, max: number, ts: bigint, nowNs: number, target: number): number;
  xskEngineFill(st: number, ctx: number, cache: number, target: number, scratch: number): number;
  xskEngineReclaim(st: number, ctx: number, cache: number): number;
  xskEngineKernelFrames(st: number): number;
  xskEngineTx(st: number, ctx: number, q: number, cache: number, nowNs: number): number;
  xskEngineTxInflight(st: number): number;
  xskTxReserve(st: number, out: number, n: number): number;
  xskTxSubmit(st: number, lens: number, k: number): number;
  xskTxPending(st: number): number;

  // TPACKET ring walker and the engine's zero-copy AF_PACKET source (assembly/kernel/tpacket.ts, engine/tpacket.ts).
  tpacketInit(st: number, version: number, ring: number, unit: number, count: number, queue: number, records: number, txRing: number, txFrameSize: number, txFrameCount: number): void;
  tpacketRx(st: number, out: number, max: number): number;
  tpacketRelease(st: number): void;
  tpacketRxReady(st: number): number;
  tpacketTxReserve(st: number, out: number, n: number): number;
  tpacketTxSubmit(st: number, lens: number, k: number): number;
  tpacketTxPending(st: number): number;
  tpacketEngineInit(st: number, holders: number): void;
  tpacketEngineRx(st: number, ctx: number, q: number, cache: number, list: number, max: number, nowNs: number): number;
  tpacketEngineStop(st: number, ctx: number, q: number): number;
  tpacketEngineHeld(st: number): number;
  tpacketEnginePollable(st: number): number;
  tpacketEngineTx(st: number, ctx: number, q: number, cache: number, nowNs: number): number;
  tpacketEngineTxInflight(st: number): number;
}

/** Engine header fields (assembly/engine-map.ts EH_*), as u32 indexes from the header start (EH_x / 4). */
export const EH = {
  MAGIC: 0, WORKERS: 1, QUEUES: 2, CLASSES: 3, BURST: 4, POOL_CACHE: 5, FRAME_SIZE: 6, FRAME_COUNT: 7, FRAMES: 8, META: 9, FREE_RING: 10, RECORDS_RING: 11,
  STATS: 12, RSS_TABLE: 13, RETA: 14, FLOW_CONTROL: 15, FLOW_TABLES: 16, FLOW_RULES: 17, RX_TIME: 18, WORKER_BLOCKS: 19, WORKER_BYTES: 20, CACHES: 21,
  CACHE_BYTES: 22, SHAPERS: 23, SOURCES: 24, PARSE_FLAGS: 25, OPTIONS: 26, RING_TABLE: 27, W_BURST: 28, W_FRAMES: 29, W_STAGE: 30, W_RECORDS: 31,
  W_HIST: 32, RECORD_SLOTS: 33, W_TX: 34, TX_QUEUES: 35, TX_HOLD: 36, DPDK_BASE: 37, DPDK_COUNT: 38, DPDK_RETURN: 39,
  DPDK_RETURN_STRIDE: 40, EXT_BASE: 58, EXT_BYTES: 59, EXT_STRIDE: 60, EXT_SHIFT: 61, EXT_HOLDERS: 62,
} as const;
/** assembly/engine-map.ts ENGINE_MAGIC: engineCheck refuses a header without it. */
export const ENGINE_MAGIC = 0x4e455757;
/** Byte offset in the header of the run/stop word workers wait on (EH_RUN_STOP). */
export const RUN_STOP = 256;
/** Byte offset in the header of the 40-byte RSS key rssPrepare reads. */
export const RSS_KEY = 384;
/** The ring table's sections (assembly/engine-map.ts RT_*), byte offsets: rx ring q, tx ring q, in ring (t << 8 | s << 2 | k). */
export const RT = { RX: 0, TX: 256, IN: 512 } as const;
/** Header EH_OPTIONS bits (assembly/engine-map.ts OPT_*). */
export const OPT = { DROP_PARSE_ERRORS: 1, RSS: 2, PAIRS: 4, FILTER: 8 } as const;

/**
 * A worker's control line (assembly/engine-map.ts WC_*), byte offsets. 32.. is the recovery
 * journal: SOURCE_* are the replay source's frames (words 32..40), TMP_* frames leaving through a
 * ring, RECORD_FIRST the records already published.
 */
export const WC = {
  BURST_COUNT: 0, SEEN_GENERATION: 4, STATE: 8, POLLS: 12, RECORD_COUNT: 16, STAGE_COUNT: 20,
  TX_COUNT: 24, SOURCE_N: 32, SOURCE_FIRST: 36, SOURCE_PHASE: 40, TMP_N: 44, TMP_FIRST: 48, TMP_RING: 52, TMP_LIST: 56, RECORD_FIRST: 60,
} as const;
/** Worker states in WC_STATE (assembly/engine/worker.ts WS_*). */
export const WS = { RUNNING: 1, INGEST_DONE: 2, STOPPED: 3 } as const;

/** A replay source's block (assembly/engine/replay.ts SRC_*), byte offsets: WORKER is the worker that replays it, SENT the records it took, INPUT_END set once a refilled stream has no more to come; BYTES is the stride. */
export const SRC = { BASE: 0, END: 4, CURSOR: 8, LOOPS: 12, INPUT_END: 16, WORKER: 20, FLAGS: 24, DONE: 28, SPEED: 32, START_NS: 40, FIRST_TS: 48, SENT: 56, BYTES: 128 } as const;
/** SRC_FLAGS bits (assembly/engine/replay.ts SRC_F_*). */
export const SRC_F = { ACTIVE: 1, SPEED: 2, LOSSY: 4, RATE: 8, REFILL: 16 } as const;
/** A refilled stream's caplen that sends the replay source back to the ring's start (assembly/engine/replay.ts). */
export const STREAM_WRAP = 0xffffffff;
/** SRC_WORKER of a queue no worker replays (a live queue). */
export const NO_SOURCE_WORKER = 0xffffffff;

/** Multi-producer enqueue (default: single producer). */
export const RING_F_MP = 1;
/** Multi-consumer dequeue (default: single consumer). */
export const RING_F_MC = 2;
/** Waits spin, then sleep in memory.atomic.wait32 until notified (default: busy-poll). */
export const RING_F_ADAPTIVE = 4;
export const RING_F_MPMC = RING_F_MP | RING_F_MC;

export const RING_MAGIC = 0x31474e52;
/** Byte offsets in a ring header (assembly/ring.ts, see the diagram there); `bytes` is where the slots start. */
export const RingHeader = {
  magic: 0,
  slots: 4,
  mask: 8,
  capacity: 12,
  slotBytes: 16,
  flags: 20,
  prodHead: 64,
  prodTail: 68,
  prodCachedConsTail: 72,
  enqueued: 80,
  full: 88,
  consHead: 128,
  consTail: 132,
  consCachedProdTail: 136,
  dequeued: 144,
  empty: 152,
  consumersWaiting: 192,
  producersWaiting: 196,
  wakeups: 200,
  bytes: 256,
} as const;
/** The latency histogram (assembly/stats.ts HIST_*): log-linear, 2^HIST_SUB_BITS buckets per power of two up to 2^HIST_MAX_EXP ns. */
export const HIST_SUB_BITS = 4;
export const HIST_MAX_EXP = 40;
export const HIST_BUCKETS = (HIST_MAX_EXP - 3 + 1) << HIST_SUB_BITS;

/** Bytes of an open-claim record crash recovery keeps (assembly/engine/recover.ts CLAIM_BYTES). */
export const CLAIM_BYTES = 16;
