/**
 * The memory map: the one place that computes where everything lives in the engine's shared
 * WebAssembly.Memory. Nothing else hard-codes an offset; AssemblyScript code takes addresses as
 * arguments or reads them from the control block written here.
 *
 * ```
 *  0x0000 ┌──────────────────────────────┐
 *         │ guard page (never valid)     │ 4 KiB: address 0 is never an object
 *  0x1000 ├──────────────────────────────┤
 *         │ control block                │ 4 KiB: magic, version, geometry, region table, ring table
 *  0x2000 ├──────────────────────────────┤
 *         │ stats                        │ per-queue and per-worker blocks, one writer per 64 B line
 *         ├──────────────────────────────┤
 *         │ rings                        │ ring headers (4 lines) + slots, each ring 64 B aligned
 *         ├──────────────────────────────┤ 4 KiB aligned
 *         │ frame pool  (= AF_XDP UMEM)  │ frameCount × frameSize
 *         ├──────────────────────────────┤
 *         │ frame metadata               │ frameCount × 64 B (one cache line per frame)
 *         ├──────────────────────────────┤ 4 KiB aligned, one per queue
 *         │ kernel ring regions          │ AF_XDP fill/completion/rx/tx or TPACKET ring, mapped by native/
 *         ├──────────────────────────────┤ 4 KiB aligned
 *         │ scratch                      │ the engine's: replay streams, dequeue area, source list, plugin slices, open claims (planScratch)
 *         ├──────────────────────────────┤ 4 KiB aligned, only with `dpdk`
 *         │ DPDK frames (= rte_mempool)  │ dpdk.frames × dpdk.stride: object i = frame frameCount + i
 *         └──────────────────────────────┘ total = initial byteLength; maximum fixed at start
 *
 * With `dpdk` (host/backends/dpdk.ts, native/dpdk/dpdk.cc): the DPDK frames take engine frame
 * indexes frameCount .. frameCount + dpdk.frames - 1, so the metadata region holds a record for
 * each of them after the pool's, and each queue q gets a return ring "dpdk-return<q>" (MP: any
 * worker releases; SC: the queue's poll thread drains it) with a slot for every DPDK frame.
 * ```
 *
 * The engine module has no static data and never allocates (tests/wasm-binary.test.ts asserts
 * it), so AssemblyScript's static area is empty and needs no room of its own.
 *
 * Control block (little-endian, at CONTROL_BLOCK_OFFSET):
 *
 * | off | size | field                                    |
 * |-----|------|------------------------------------------|
 * | 0   | 4    | magic 0x4d535757 ("WWSM")                |
 * | 4   | 4    | layout version                           |
 * | 8   | 4    | total bytes of the map                   |
 * | 12  | 4    | frame size                               |
 * | 16  | 4    | frame count                              |
 * | 20  | 4    | metadata record size                     |
 * | 24  | 4    | queue count                              |
 * | 28  | 4    | worker count                             |
 * | 32  | 4    | region count (entries in region table)   |
 * | 36  | 4    | ring count (entries in ring table)       |
 * | 40  | 24   | reserved, zero                           |
 * | 64  | 16×N | region table: {kind, index, offset, size}|
 * | 1024| 16×N | ring table: {offset, slots, slotBytes, flags} |
 */

import { CLAIM_BYTES, HIST_BUCKETS } from './abi.js';

export const PAGE_BYTES = 4096;
export const WASM_PAGE_BYTES = 65536;
export const CACHE_LINE = 64;
export const CONTROL_BLOCK_OFFSET = 4096;
export const CONTROL_BLOCK_BYTES = 4096;
export const LAYOUT_MAGIC = 0x4d535757;
export const LAYOUT_VERSION = 1;
export const META_BYTES = 64;
/** A ring header is four cache lines: config (read-only), producer, consumer, waiters. */
export const RING_HEADER_BYTES = 4 * CACHE_LINE;
/** Per-queue and per-worker statistics block: 8 cache lines, each with one writer. */
export const STATS_BLOCK_BYTES = 8 * CACHE_LINE;
export const MAX_REGIONS = 59; // (1024 - 64) / 16
export const MAX_RINGS = 192; // (4096 - 1024) / 16
/** The largest shared memory wasm32 can address, less one page so lengths fit in a u32. */
export const MAX_MEMORY_BYTES = 65536 * WASM_PAGE_BYTES - WASM_PAGE_BYTES;

const REGION_TABLE_OFFSET = 64;
const RING_TABLE_OFFSET = 1024;

export enum RegionKind {
  Control = 1,
  Stats = 2,
  Rings = 3,
  Frames = 4,
  Meta = 5,
  Kernel = 6,
  Scratch = 7,
  /** The engine's own tables: pool caches, flow rules, RSS, per-worker burst lists (engineMap). */
  Engine = 8,
  /** DPDK frames: the mempool's objects, one per stride (see DpdkRegion). */
  Dpdk = 9,
}

/** The DPDK frame region: a separate part of the map, present only when the config asks for it. */
export interface DpdkSpec {
  /** Frames (mempool objects), 64 .. 2^20. */
  frames: number;
  /** Bytes per frame: mbuf + headroom + data; a power of two from 2048 to 65536. Default 4096 (the
   *  AF_XDP PMD reserves 576 bytes of headroom, so MTU 1500 needs more than 2048). */
  stride?: number;
}

export interface DpdkRegion {
  region: Region;
  frames: number;
  stride: number;
  /** Engine frame index of DPDK frame 0 (= the pool's frameCount). */
  frameBase: number;
  /** One per queue: released DPDK frames go back to the mempool through it. */
  returnRings: readonly RingPlacement[];
}

export interface RingSpec {
  /** A name unique in the layout, e.g. "rx0", "free", "records". */
  name: string;
  /** Slot count, a power of two from 2 to 2^24. */
  slots: number;
  /** 4 (frame indexes) or 8 (64-bit items). */
  slotBytes: 4 | 8;
  /** Free for the ring's owner (mode bits); stored in the ring table. */
  flags?: number;
}

export interface LayoutConfig {
  /** Receive queues, 1..64. */
  queues?: number;
  /** Worker threads, 1..64. */
  workers?: number;
  /** Frames in the pool, a power of two from 16 to 2^20. */
  frameCount?: number;
  /** Bytes per frame, a power of two from 2048 to 65536 (AF_XDP needs 2048 or 4096). */
  frameSize?: number;
  /** Rings to place; if absent, one rx ring per queue and one free-frame ring. */
  rings?: RingSpec[];
  /** Slots per default ring, a power of two. */
  ringSize?: number;
  /** Bytes reserved per queue for kernel rings mapped by native/ (rounded up to 4 KiB). */
  kernelBytesPerQueue?: number;
  /** Bytes of scratch space (rounded up to 4 KiB). */
  scratchBytes?: number;
  /** Maximum size of the memory in bytes; fixed for the engine's life. Default: the map's size. */
  maxMemoryBytes?: number;
  /** The engine region (host/engine/): absent for a bare map. */
  engine?: EngineSpec;
  /** A DPDK frame region: absent unless the dpdk backend runs. */
  dpdk?: DpdkSpec;
}

export interface Region {
  kind: RegionKind;
  index: number;
  offset: number;
  size: number;
}

export interface RingPlacement extends Required<RingSpec> {
  offset: number;
  bytes: number;
}

export interface Layout {
  readonly config: Readonly<Required<Omit<LayoutConfig, 'rings' | 'engine' | 'dpdk'>>>;
  readonly controlBlock: number;
  readonly stats: Region;
  readonly rings: readonly RingPlacement[];
  readonly frames: Region;
  readonly meta: Region;
  readonly kernel: readonly Region[];
  readonly scratch: Region;
  /** The engine region and the offsets inside it; undefined unless the config asked for one. */
  readonly engine?: EngineMap;
  /** The DPDK frame region; undefined unless the config asked for one. */
  readonly dpdk?: DpdkRegion;
  readonly regions: readonly Region[];
  /** Bytes the map needs: the memory's initial size (rounded to WASM pages). */
  readonly totalBytes: number;
  readonly initialPages: number;
  readonly maximumPages: number;
  ring(name: string): RingPlacement;
  frameAddress(index: number): number;
  metaAddress(index: number): number;
  statsAddress(block: number): number;
}

export class LayoutError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid layout config: ${field}: ${message}`);
    this.name = 'LayoutError';
  }
}

export const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * What is wrong with `v` where a power of two from min to max belongs, with the nearest valid size;
 * undefined when nothing is. One rule and one message for every size check (layout, engine config,
 * kernel rings).
 */
export function pow2Problem(v: unknown, min: number, max: number): string | undefined {
  if (typeof v === 'number' && isPow2(v) && v >= min && v <= max) return undefined;
  if (typeof v !== 'number' || isPow2(v) || !(Number.isFinite(v) && v > 0)) return `got ${String(v)}; use a power of two from ${min} to ${max}`;
  const lo = 2 ** Math.floor(Math.log2(v));
  const nearest = v - lo <= 2 * lo - v ? lo : 2 * lo;
  return `got ${v}; use a power of two from ${min} to ${max} (nearest: ${Math.min(max, Math.max(min, nearest))})`;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new LayoutError(field, `got ${v}; use a whole number from ${min} to ${max}`);
}

function checkPow2(field: string, v: number, min: number, max: number): void {
  const problem = pow2Problem(v, min, max);
  if (problem) throw new LayoutError(field, problem);
}

export function computeLayout(input: LayoutConfig = {}): Layout {
  const queues = input.queues ?? 1;
  const workers = input.workers ?? 1;
  const frameCount = input.frameCount ?? 4096;
  const frameSize = input.frameSize ?? 2048;
  const ringSize = input.ringSize ?? 4096;
  const kernelBytesPerQueue = alignUp(input.kernelBytesPerQueue ?? 0, PAGE_BYTES);
  const scratchBytes = alignUp(input.scratchBytes ?? 0, PAGE_BYTES);
  checkInt('queues', queues, 1, 64);
  checkInt('workers', workers, 1, 64);
  checkPow2('frameCount', frameCount, 16, 1 << 20);
  checkPow2('frameSize', frameSize, 2048, 65536);
  checkPow2('ringSize', ringSize, 2, 1 << 24);
  checkInt('kernelBytesPerQueue', kernelBytesPerQueue, 0, 1 << 30);
  checkInt('scratchBytes', scratchBytes, 0, 1 << 30);

  const dpdkSpec = input.dpdk && checkDpdkSpec(input.dpdk);
  const specs: RingSpec[] = [
    ...(input.rings ?? [
      ...Array.from({ length: queues }, (_, q) => ({ name: `rx${q}`, slots: ringSize, slotBytes: 4 as const })),
      { name: 'free', slots: Math.max(2, frameCount), slotBytes: 4 as const },
    ]),
    ...(dpdkSpec ? Array.from({ length: queues }, (_, q) => ({ name: `dpdk-return${q}`, slots: nextPow2(dpdkSpec.frames), slotBytes: 4 as const, flags: DPDK_RETURN_RING_FLAGS })) : []),
  ];
  if (specs.length > MAX_RINGS) throw new LayoutError('rings', `got ${specs.length} rings; at most ${MAX_RINGS}`);
  const seen = new Set<string>();
  specs.forEach((r, i) => {
    if (typeof r.name !== 'string' || r.name === '') throw new LayoutError(`rings[${i}].name`, 'give each ring a non-empty name');
    if (seen.has(r.name)) throw new LayoutError(`rings[${i}].name`, `"${r.name}" is used twice; ring names must be unique`);
    seen.add(r.name);
    checkPow2(`rings[${i}].slots`, r.slots, 2, 1 << 24);
    if (r.slotBytes !== 4 && r.slotBytes !== 8)
      throw new LayoutError(`rings[${i}].slotBytes`, `got ${r.slotBytes}; use 4 or 8`);
  });

  let cursor = CONTROL_BLOCK_OFFSET + CONTROL_BLOCK_BYTES;
  const regions: Region[] = [{ kind: RegionKind.Control, index: 0, offset: CONTROL_BLOCK_OFFSET, size: CONTROL_BLOCK_BYTES }];
  const place = (kind: RegionKind, index: number, size: number, align: number): Region => {
    cursor = alignUp(cursor, align);
    const r = { kind, index, offset: cursor, size };
    cursor += size;
    regions.push(r);
    return r;
  };

  // Queues, workers and one global block.
  const stats = place(RegionKind.Stats, 0, (queues + workers + 1) * STATS_BLOCK_BYTES, CACHE_LINE);

  const ringsStart = alignUp(cursor, CACHE_LINE);
  let ringCursor = ringsStart;
  const rings: RingPlacement[] = specs.map((r) => {
    const bytes = alignUp(RING_HEADER_BYTES + r.slots * r.slotBytes, CACHE_LINE);
    const p = { name: r.name, slots: r.slots, slotBytes: r.slotBytes, flags: r.flags ?? 0, offset: ringCursor, bytes };
    ringCursor += bytes;
    return p;
  });
  cursor = ringsStart;
  place(RegionKind.Rings, 0, ringCursor - ringsStart, CACHE_LINE);

  const frames = place(RegionKind.Frames, 0, frameCount * frameSize, PAGE_BYTES);
  const meta = place(RegionKind.Meta, 0, (frameCount + (dpdkSpec?.frames ?? 0)) * META_BYTES, CACHE_LINE);
  const kernel: Region[] = [];
  if (kernelBytesPerQueue > 0) for (let q = 0; q < queues; q++) kernel.push(place(RegionKind.Kernel, q, kernelBytesPerQueue, PAGE_BYTES));
  const scratch = place(RegionKind.Scratch, 0, scratchBytes, PAGE_BYTES);
  const dpdk: DpdkRegion | undefined = dpdkSpec && {
    region: place(RegionKind.Dpdk, 0, dpdkSpec.frames * dpdkSpec.stride, PAGE_BYTES),
    frames: dpdkSpec.frames,
    stride: dpdkSpec.stride,
    frameBase: frameCount,
    returnRings: rings.filter((r) => r.name.startsWith('dpdk-return')),
  };
  let engine: EngineMap | undefined;
  if (input.engine) {
    const spec = checkEngineSpec(input.engine, frameCount, workers);
    const region = place(RegionKind.Engine, 0, 0, PAGE_BYTES);
    engine = engineMap(region.offset, spec, { frameCount: frameCount + (dpdkSpec?.frames ?? 0), workers, queues });
    region.size = engine.bytes;
    cursor = region.offset + engine.bytes;
  }
  if (regions.length > MAX_REGIONS)
    throw new LayoutError('queues', `${regions.length} regions exceed the control block's ${MAX_REGIONS}; use fewer queues`);

  const totalBytes = alignUp(cursor, WASM_PAGE_BYTES);
  const maxMemoryBytes = input.maxMemoryBytes ?? totalBytes;
  if (totalBytes > MAX_MEMORY_BYTES)
    throw new LayoutError('frameCount', `the map needs ${totalBytes} bytes, over the 4 GiB a wasm32 memory can hold; use fewer or smaller frames`);
  checkInt('maxMemoryBytes', maxMemoryBytes, 0, MAX_MEMORY_BYTES);
  if (maxMemoryBytes < totalBytes)
    throw new LayoutError('maxMemoryBytes', `got ${maxMemoryBytes}, but the map needs ${totalBytes} bytes; raise it to at least ${totalBytes} or shrink frameCount/frameSize/rings`);

  const byName = new Map(rings.map((r) => [r.name, r]));
  const config = { queues, workers, frameCount, frameSize, ringSize, kernelBytesPerQueue, scratchBytes, maxMemoryBytes };
  return {
    config,
    controlBlock: CONTROL_BLOCK_OFFSET,
    stats,
    rings,
    frames,
    meta,
    kernel,
    scratch,
    engine,
    dpdk,
    regions,
    totalBytes,
    initialPages: totalBytes / WASM_PAGE_BYTES,
    maximumPages: Math.ceil(maxMemoryBytes / WASM_PAGE_BYTES),
    ring(name: string) {
      const r = byName.get(name);
      if (!r) throw new Error(`no ring named "${name}" in this layout; rings: ${[...byName.keys()].join(', ')}`);
      return r;
    },
    frameAddress: (i: number) => frames.offset + i * frameSize,
    metaAddress: (i: number) => meta.offset + i * META_BYTES,
    statsAddress: (block: number) => stats.offset + block * STATS_BLOCK_BYTES,
  };
}

/** Return rings: any worker releases (MP), one poll thread drains (SC). assembly/ring.ts RING_F_MP. */
export const DPDK_RETURN_RING_FLAGS = 1;

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

function checkDpdkSpec(d: DpdkSpec): Required<DpdkSpec> {
  const stride = d.stride ?? 4096;
  checkInt('dpdk.frames', d.frames, 64, 1 << 20);
  checkPow2('dpdk.stride', stride, 2048, 65536);
  return { frames: d.frames, stride };
}

/** A shared memory sized for the layout; its maximum is fixed here for the engine's life. */
export function createMemory(layout: Layout): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: layout.initialPages, maximum: layout.maximumPages, shared: true });
}

/** Writes the control block (header, region table, ring table) into the memory. */
export function writeControlBlock(memory: WebAssembly.Memory, layout: Layout): void {
  if (memory.buffer.byteLength < layout.totalBytes)
    throw new Error(`memory holds ${memory.buffer.byteLength} bytes but the layout needs ${layout.totalBytes}; create it with createMemory(layout)`);
  const v = new DataView(memory.buffer, layout.controlBlock, CONTROL_BLOCK_BYTES);
  new Uint8Array(memory.buffer, layout.controlBlock, CONTROL_BLOCK_BYTES).fill(0);
  const c = layout.config;
  // Each row is consecutive u32 words: the header one row, each table entry one 16-byte row.
  const row = (at: number, words: readonly number[]) => words.forEach((x, i) => v.setUint32(at + i * 4, x, true));
  row(0, [LAYOUT_MAGIC, LAYOUT_VERSION, layout.totalBytes, c.frameSize, c.frameCount, META_BYTES, c.queues, c.workers, layout.regions.length, layout.rings.length]);
  layout.regions.forEach((r, i) => row(REGION_TABLE_OFFSET + i * 16, [r.kind, r.index, r.offset, r.size]));
  layout.rings.forEach((r, i) => row(RING_TABLE_OFFSET + i * 16, [r.offset, r.slots, r.slotBytes, r.flags]));
}

/** Reads the header back; used by workers to check they were handed the memory they expect. */
export function readControlBlock(memory: WebAssembly.Memory, controlBlock = CONTROL_BLOCK_OFFSET) {
  const v = new DataView(memory.buffer, controlBlock, CONTROL_BLOCK_BYTES);
  const magic = v.getUint32(0, true);
  if (magic !== LAYOUT_MAGIC)
    throw new Error(`no wirewasm control block at ${controlBlock} (magic 0x${magic.toString(16)}); call writeControlBlock first`);
  const version = v.getUint32(4, true);
  if (version !== LAYOUT_VERSION) throw new Error(`control block layout version ${version}, this build reads ${LAYOUT_VERSION}`);
  const n = v.getUint32(32, true);
  const regions: Region[] = [];
  for (let i = 0; i < n; i++) {
    const o = REGION_TABLE_OFFSET + i * 16;
    regions.push({ kind: v.getUint32(o, true), index: v.getUint32(o + 4, true), offset: v.getUint32(o + 8, true), size: v.getUint32(o + 12, true) });
  }
  return {
    totalBytes: v.getUint32(8, true),
    frameSize: v.getUint32(12, true),
    frameCount: v.getUint32(16, true),
    metaBytes: v.getUint32(20, true),
    queues: v.getUint32(24, true),
    workers: v.getUint32(28, true),
    ringCount: v.getUint32(36, true),
    regions,
  };
}

/** The map as rows for `wirewasm info`. */
export function describeLayout(layout: Layout): { region: string; offset: number; size: number }[] {
  const name = (r: Region) => RegionKind[r.kind].toLowerCase() + (r.kind === RegionKind.Kernel ? `[${r.index}]` : '');
  const rows = [{ region: 'guard', offset: 0, size: PAGE_BYTES }, ...layout.regions.map((r) => ({ region: name(r), offset: r.offset, size: r.size }))];
  for (const r of layout.rings) rows.push({ region: `  ring ${r.name} (${r.slots}×${r.slotBytes} B)`, offset: r.offset, size: r.bytes });
  return rows.sort((a, b) => a.offset - b.offset);
}

// ─── the engine region ───────────────────────────────────────────────────────────────────────────

export interface EngineSpec {
  /** Strict-priority classes per worker, 1..4 (class 0 is served first). */
  classes: number;
  /** Frames per burst, 1..256. */
  burst: number;
  /** Frames a pool cache holds between trips to the free ring (rte_mempool's cache size), 0..512. */
  poolCache: number;
  /** Flow-director rules per table, 1..4096. */
  flowRules: number;
}

/**
 * Where everything of the engine region is (absolute offsets). The region starts with a header
 * that the host writes and the WASM engine reads (assembly/engine-map.ts, EH_*), so the WASM code
 * never computes a layout:
 *
 * ```
 *  header      512 B    geometry + addresses of every table below (EH_* in assembly/engine-map.ts)
 *  flow ctl    64 B     active table, generation, rule counts       (host writes)
 *  ring table  64.5 KiB rx[64], tx[64], in[(target << 8) | (source << 2) | class] ring addresses
 *  reta        512 B    128 entries: RSS hash & 127 -> worker
 *  shapers     8 KiB    64 tx queues + 64 rx queues × 64 B (assembly/shaper.ts)
 *  sources     8 KiB    64 rx queues × 128 B: replay stream cursor (assembly/engine/replay.ts SRC_*)
 *  rss table   36 KiB   Toeplitz lookup table (assembly/parse/rss.ts)
 *  tx hold     68 KiB   64 transmit queues: frames taken off the tx ring, waiting for the shaper
 *  flow tables 2 × flowRules × 64 B (assembly/engine/flow.ts)
 *  rx time     (frameCount + dpdk.frames) × 8 B: when each frame entered the engine (latency start)
 *  workers     workers × workerBytes: control line | burst list | stage lists | records | histogram | tx list
 *  caches      (workers + 1) × cacheBytes: pool caches (assembly/pool.ts), the last one the host's
 * ```
 */
export interface EngineMap extends Readonly<EngineSpec> {
  readonly offset: number;
  readonly bytes: number;
  readonly flowControl: number;
  readonly ringTable: number;
  readonly reta: number;
  readonly retaEntries: number;
  readonly shapers: number;
  readonly sources: number;
  readonly rssTable: number;
  /** 64 transmit queues × ENGINE_TX_HOLD_BYTES: frames waiting for the shaper. */
  readonly txHold: number;
  readonly flowTables: number;
  readonly rxTime: number;
  readonly workers: number;
  readonly workerBytes: number;
  readonly caches: number;
  readonly cacheBytes: number;
  readonly histBytes: number;
  /** Offsets inside a worker block. */
  readonly w: { control: number; burst: number; frames: number; stage: number; records: number; recordSlots: number; hist: number; tx: number };
  worker(index: number): number;
  /** Cache `index` (0..workers-1 the workers', `workers` the host's). */
  cache(index: number): number;
  /** The shaper of transmit queue q (the first 64), and of replay source q (the next 64). */
  txShaper(q: number): number;
  sourceShaper(q: number): number;
  /** Replay source q's block (assembly/engine/replay.ts SRC_*). */
  source(q: number): number;
  /** Transmit queue q's hold list. */
  txHoldList(q: number): number;
}

export const ENGINE_HEADER_BYTES = 512;
export const ENGINE_RETA_ENTRIES = 128;
export const ENGINE_RSS_TABLE_BYTES = 36 * 256 * 4;
export const ENGINE_MAX_CLASSES = 4;
export const ENGINE_RECORD_SLOTS = 256;
export const ENGINE_TX_HOLD_BYTES = 64 + 256 * 4; // assembly/engine-map.ts TX_HOLD_BYTES
export const ENGINE_SHAPER_BYTES = 64; // assembly/shaper.ts
export const ENGINE_SOURCE_BYTES = 128; // assembly/engine/replay.ts SRC_* stride

function checkEngineSpec(e: EngineSpec, frameCount: number, workers: number): EngineSpec {
  checkInt('engine.classes', e.classes, 1, ENGINE_MAX_CLASSES);
  checkInt('engine.burst', e.burst, 1, 256);
  checkInt('engine.poolCache', e.poolCache, 0, 512);
  checkInt('engine.flowRules', e.flowRules, 1, 4096);
  if ((workers + 1) * e.poolCache * 1.5 > frameCount / 2)
    throw new LayoutError('engine.poolCache', `${workers + 1} caches of ${e.poolCache} frames could hold more than half of the ${frameCount} frames; use a smaller poolCache or more frames`);
  return e;
}

/** `g.frameCount`: every engine frame index, the pool's and the DPDK region's. */
function engineMap(offset: number, e: EngineSpec, g: { frameCount: number; workers: number; queues: number }): EngineMap {
  let at = offset + ENGINE_HEADER_BYTES;
  const take = (bytes: number, align = CACHE_LINE) => {
    at = alignUp(at, align);
    const o = at;
    at += bytes;
    return o;
  };
  const flowControl = take(CACHE_LINE);
  const ringTable = take((64 + 64 + 64 * 64 * ENGINE_MAX_CLASSES) * 4);
  const reta = take(ENGINE_RETA_ENTRIES * 4);
  const shapers = take(128 * ENGINE_SHAPER_BYTES);
  const sources = take(64 * ENGINE_SOURCE_BYTES);
  const rssTable = take(ENGINE_RSS_TABLE_BYTES);
  const txHold = take(64 * ENGINE_TX_HOLD_BYTES);
  const flowTables = take(2 * e.flowRules * 64);
  const rxTime = take(g.frameCount * 8);
  const histBytes = HIST_BUCKETS * 8;
  let wo = CACHE_LINE;
  const wtake = (bytes: number) => {
    const o = wo;
    wo = alignUp(wo + bytes, CACHE_LINE);
    return o;
  };
  const w = {
    control: 0,
    burst: wtake(e.burst * 4),
    frames: wtake(e.burst * 4),
    stage: wtake(e.burst * 4),
    records: wtake(ENGINE_RECORD_SLOTS * 8),
    recordSlots: ENGINE_RECORD_SLOTS,
    hist: wtake(histBytes),
    tx: wtake(e.burst * 4),
  };
  const workerBytes = wo;
  const workersAt = take(g.workers * workerBytes);
  const cacheBytes = alignUp(CACHE_LINE + 2 * Math.max(e.poolCache, 1) * 4, CACHE_LINE);
  const caches = take((g.workers + 1) * cacheBytes);
  const bytes = alignUp(at - offset, PAGE_BYTES);
  return {
    ...e,
    offset,
    bytes,
    flowControl,
    ringTable,
    reta,
    retaEntries: ENGINE_RETA_ENTRIES,
    shapers,
    sources,
    rssTable,
    txHold,
    flowTables,
    rxTime,
    workers: workersAt,
    workerBytes,
    caches,
    cacheBytes,
    histBytes,
    w,
    worker: (i: number) => workersAt + i * workerBytes,
    cache: (i: number) => caches + i * cacheBytes,
    txShaper: (q: number) => shapers + q * ENGINE_SHAPER_BYTES,
    sourceShaper: (q: number) => shapers + (64 + q) * ENGINE_SHAPER_BYTES,
    source: (q: number) => sources + q * ENGINE_SOURCE_BYTES,
    txHoldList: (q: number) => txHold + q * ENGINE_TX_HOLD_BYTES,
  };
}

/** Bytes of the engine's dequeue area in scratch: 256 records of 8 B. */
export const SCRATCH_DEQUEUE_BYTES = 8 * 256;

/** What the engine keeps in the scratch region, in this order. */
export interface ScratchNeeds {
  /** The replay streams (host/engine/stream.ts), back to back. */
  streamBytes: number;
  /** The live source's frame list: a burst, or (AF_XDP) the frames of one fill-ring top-up. */
  sourceListBytes: number;
  /** The host's records stage (host/engine/setup.ts recordsStageBytes). */
  stageBytes: number;
  /** The plugin gather slices (host/plugins/stage.ts), with 64 B to align them. */
  pluginBytes: number;
  /** Workers: each has an open-claim record (CLAIM_BYTES) crash recovery fills (host/engine/recover.ts). */
  workers: number;
  /** Frames in the pool: the most a ring claim can hold, room claimSettle needs to put a consumer's claim back. */
  frameCount: number;
}

/** Where each part of the engine's scratch lies, as absolute addresses once the layout placed the region. */
export interface ScratchPlan {
  readonly bytes: number;
  place(scratchOffset: number): { streams: number; dequeue: number; sourceList: number; stage: number; plugins: number; claims: number; claimSettle: number };
}

/**
 * The engine's sub-allocation of scratch: the replay streams, the host's dequeue area (SCRATCH_DEQUEUE_BYTES),
 * the live source's frame list, the records stage and the plugin slices (each on a cache line), then crash
 * recovery's open-claim records (one per worker) and the list claimSettle puts a dead consumer's claimed frames back from.
 */
export function planScratch(n: ScratchNeeds): ScratchPlan {
  return {
    bytes: n.streamBytes + SCRATCH_DEQUEUE_BYTES + n.sourceListBytes + CACHE_LINE + n.stageBytes + n.pluginBytes + CACHE_LINE + n.workers * CLAIM_BYTES + 4 * n.frameCount,
    place(scratchOffset: number) {
      const streams = scratchOffset;
      const dequeue = streams + n.streamBytes;
      const sourceList = dequeue + SCRATCH_DEQUEUE_BYTES;
      const stage = alignUp(sourceList + n.sourceListBytes, CACHE_LINE);
      const plugins = alignUp(stage + n.stageBytes, CACHE_LINE);
      const claims = alignUp(plugins + n.pluginBytes, CACHE_LINE);
      const claimSettle = claims + n.workers * CLAIM_BYTES;
      return { streams, dequeue, sourceList, stage, plugins, claims, claimSettle };
    },
  };
}
