// The engine header: the first 512 bytes of the engine region (host/layout.ts engineMap), written by
// the host before any worker starts and read-only after. It tells the WASM engine where every table
// is, so no offset is computed here. Lines after the header have their own writers, named below.
//
// | off | field        | off | field         | off | field          | off | field            |
// |-----|--------------|-----|---------------|-----|----------------|-----|------------------|
// | 0   | magic "WWEN" | 36  | meta base     | 72  | rx time table  | 108 | ring table       |
// | 4   | workers      | 40  | free ring     | 76  | worker blocks  | 112 | w: burst list    |
// | 8   | queues       | 44  | records ring  | 80  | worker bytes   | 116 | w: frames list   |
// | 12  | classes      | 48  | stats region  | 84  | pool caches    | 120 | w: stage list    |
// | 16  | burst        | 52  | rss table     | 88  | cache bytes    | 124 | w: records       |
// | 20  | pool cache   | 56  | reta          | 92  | shapers        | 128 | w: histogram     |
// | 24  | frame size   | 60  | flow control  | 96  | sources        | 132 | record slots     |
// | 28  | frame count  | 64  | flow tables   | 100 | parse flags    |     |                  |
// | 32  | frames base  | 68  | rules / table | 104 | options        | 136 | w: tx list       |
// |     |              |     |               |     |                | 140 | tx queues        |
// |     |              |     |               |     |                | 144 | tx hold lists    |
//
// | 232 | ext base   | 236 | ext bytes   | 240 | ext stride     | 244 | ext block shift  | 248 ext holders |
// ext: kernel ring regions whose packets pool frames may describe in place (assembly/extbuf.ts);
// ext bytes 0 when none.
//
// Run line at +256, written by the host only: 0 stop request (u32).
// RSS key at +384 (40 bytes), written by the host before start, read only by rssPrepare.
//
// Worker control line (first line of each worker block), written by that worker only:
// | 0 burst count | 4 seen flow generation | 8 state | 12 polls | 16 staged records | 20 stage count | 24 staged tx |
// | 28 rx frames left on this worker's rx rings after the poll (work to do even when its burst is empty) |
// | 32 source n | 36 source first | 40 source phase | 44 tmp n | 48 tmp first | 52 tmp ring | 56 tmp list | 60 record first |
//
// Recovery journal (words 32..63). A worker can be terminated at any interrupt check V8 makes in
// WASM: a function entry or a loop header. Code between two checks runs whole, so every hand-off
// below ends with a store here in the same straight-line stretch as the store that moved the frame
// (ring publish, pool cache count), and the host, alone with a dead worker's block, knows exactly
// which frames it held and whether their fate was counted (assembly/engine/recover.ts):
//   source frames list [first, n): sourcePoll's frames. phase 0: not yet counted as received (the
//          source cursor was not committed: the records are replayed again), released silently;
//          1: counted received, not yet on the rx ring: released as handler_error;
//          2: counted received and ring_full: released silently.
//   stage  frames list [0, STAGE_COUNT): ingest's burst off the rx ring; an entry leaves (NEXT_NONE)
//          in the same stretch as its frame was released (drop counted), moved to the tmp list,
//          or moved down the list past frames the filter rejected.
//   tmp    list [first, n): frames on their way out (to an in or tx ring, or released after complete,
//          but BURST_KEPT entries, which hold none);
//          list 0: the burst list, 1: the stage list (flushTx; each of its frames holds the
//          reference flushTx took). ring != 0: an enqueue to that ring was under way: if the
//          worker's claim record (pool cache line, assembly/ring.ts "Claims and worker death") names
//          the ring, its count are in (the host finishes the claim), else none; the rest are
//          released as handler_error (in ring) or tx_dropped (tx ring). ring == 0: their fate is
//          counted; released silently.
//   burst  burst list [0, BURST_COUNT): the handler's burst, released as handler_error; an entry
//          marked BURST_KEPT (assembly/engine/journal.ts) gave its reference to a record: counted, not released.
//   record records [first, RECORD_COUNT): staged records; REC_FRAME records hold a reference and are
//          released, REC_KEEP ones (as keep() staged them) hold none. A claim on the records ring
//          means its count went in: first = count.
//   tx     staged tx list [0, TX_COUNT) (word 24): entries forward() staged; those not yet moved
//          (not 0xffffffff) hold no reference and are counted tx_dropped.
//   claim  the pool cache line's claim record: finished (recoverClaim, claimSettle) before anything
//          else is released (a free-ring claim left open would stall the host's own frees).
// Transmit hold lists (per queue, drained by worker q mod workers) carry their own journal, see
// TX_HOLD_BYTES.

import { SHAPER_BYTES } from './shaper';
import { STATS_BLOCK_BYTES } from './stats';

export const ENGINE_MAGIC: u32 = 0x4e455757;

export const EH_MAGIC: usize = 0;
export const EH_WORKERS: usize = 4;
export const EH_QUEUES: usize = 8;
export const EH_CLASSES: usize = 12;
export const EH_BURST: usize = 16;
export const EH_POOL_CACHE: usize = 20;
export const EH_FRAME_SIZE: usize = 24;
export const EH_FRAME_COUNT: usize = 28;
export const EH_FRAMES: usize = 32;
export const EH_META: usize = 36;
export const EH_FREE_RING: usize = 40;
export const EH_RECORDS_RING: usize = 44;
export const EH_STATS: usize = 48;
export const EH_RSS_TABLE: usize = 52;
export const EH_RETA: usize = 56;
export const EH_FLOW_CONTROL: usize = 60;
export const EH_FLOW_TABLES: usize = 64;
export const EH_FLOW_RULES: usize = 68;
export const EH_RX_TIME: usize = 72;
export const EH_WORKER_BLOCKS: usize = 76;
export const EH_WORKER_BYTES: usize = 80;
export const EH_CACHES: usize = 84;
export const EH_CACHE_BYTES: usize = 88;
export const EH_SHAPERS: usize = 92;
export const EH_SOURCES: usize = 96;
export const EH_PARSE_FLAGS: usize = 100;
export const EH_OPTIONS: usize = 104;
export const EH_RING_TABLE: usize = 108;
export const EH_W_BURST: usize = 112;
export const EH_W_FRAMES: usize = 116;
export const EH_W_STAGE: usize = 120;
export const EH_W_RECORDS: usize = 124;
export const EH_W_HIST: usize = 128;
export const EH_RECORD_SLOTS: usize = 132;
export const EH_W_TX: usize = 136;
export const EH_TX_QUEUES: usize = 140;
export const EH_TX_HOLD: usize = 144;

/**
 * Per transmit queue: frames taken off its ring, waiting for the shaper.
 * | 0 count | 4 counted | 8 released | … | 64 list[count] u32 |
 * [0, counted) are sent and counted in tx_packets; [0, released) of them are back in the pool. Both
 * are 0 between drains; the host closes a dead drainer's list up (releases [released, counted),
 * drops [0, counted)), so the shaper's frames survive it: shaping delays, it never drops.
 */
export const TX_HOLD_BYTES: usize = 64 + 256 * 4;
export const TXH_COUNTED: usize = 4;
export const TXH_RELEASED: usize = 8;
export const TXH_LIST: usize = 64;

/**
 * DPDK mbufs (host/backends/dpdk.ts): engine frames [DPDK_BASE, DPDK_BASE + DPDK_COUNT) lie in the
 * DPDK region, each the data of a mempool object. Released, such a frame goes on the return ring of
 * its meta queue, at DPDK_RETURN + queue * DPDK_RETURN_STRIDE (the layout places the queues' return
 * rings one after another, all the same size). DPDK_COUNT is 0 without DPDK.
 */
export const EH_DPDK_BASE: usize = 148;
export const EH_DPDK_COUNT: usize = 152;
export const EH_DPDK_RETURN: usize = 156;
export const EH_DPDK_RETURN_STRIDE: usize = 160;

export const EH_EXT_BASE: usize = 232;
export const EH_EXT_BYTES: usize = 236;
export const EH_EXT_STRIDE: usize = 240;
export const EH_EXT_SHIFT: usize = 244;
export const EH_EXT_HOLDERS: usize = 248;

export const EH_RUN_STOP: usize = 256;
/** The RSS key (40 bytes) the host writes before rssPrepare expands it into the rss table. */
export const EH_RSS_KEY: usize = 384;
export const RSS_KEY_BYTES: u32 = 40;

/** options: frames with parse errors are dropped (counted as parse_error) instead of delivered. */
export const OPT_DROP_PARSE_ERRORS: u32 = 1;
/** options: spread frames over workers by the RSS hash (else each stays with its ingesting worker). */
export const OPT_RSS: u32 = 2;
/**
 * options: one SPSC in ring per (target, source worker, class), so no two workers ever write one
 * ring; without it every source shares one MP ring per (target, class) (many workers, few ring slots).
 */
export const OPT_PAIRS: u32 = 4;
/**
 * options: the engine has a filter expression: ingest runs the filter module's burst function
 * (imported as filter.burst) over each burst off the rx ring, before parsing; without it no cost.
 */
export const OPT_FILTER: u32 = 8;

// Ring table: rx[64], tx[64], in[(target << 8) | (source << 2) | class] (without OPT_PAIRS every
// source's entry holds the same shared ring).
export const RT_RX: usize = 0;
export const RT_TX: usize = 256;
export const RT_IN: usize = 512;

// Worker control line.
export const WC_BURST_COUNT: usize = 0;
export const WC_SEEN_GENERATION: usize = 4;
export const WC_STATE: usize = 8;
export const WC_POLLS: usize = 12;
export const WC_RECORD_COUNT: usize = 16;
export const WC_STAGE_COUNT: usize = 20;
export const WC_TX_COUNT: usize = 24;
export const WC_RX_PENDING: usize = 28;
export const WC_SOURCE_N: usize = 32;
export const WC_SOURCE_FIRST: usize = 36;
export const WC_SOURCE_PHASE: usize = 40;
export const WC_TMP_N: usize = 44;
export const WC_TMP_FIRST: usize = 48;
export const WC_TMP_RING: usize = 52;
export const WC_TMP_LIST: usize = 56;
export const WC_RECORD_FIRST: usize = 60;

// Flow control line.
export const FC_ACTIVE: usize = 0;
export const FC_GENERATION: usize = 4;
export const FC_COUNT0: usize = 8;
export const FC_COUNT1: usize = 12;

@inline export function eh(ctx: usize, field: usize): u32 {
  return load<u32>(ctx + field);
}
@inline export function ehAddr(ctx: usize, field: usize): usize {
  return <usize>load<u32>(ctx + field);
}
@inline export function frameMeta(ctx: usize, frame: u32): usize {
  return ehAddr(ctx, EH_META) + (<usize>frame << 6);
}
@inline export function frameData(ctx: usize, frame: u32): usize {
  return ehAddr(ctx, EH_FRAMES) + <usize>frame * <usize>eh(ctx, EH_FRAME_SIZE);
}
@inline export function workerBlock(ctx: usize, w: u32): usize {
  return ehAddr(ctx, EH_WORKER_BLOCKS) + <usize>w * <usize>eh(ctx, EH_WORKER_BYTES);
}
@inline export function statsBlock(ctx: usize, block: u32): usize {
  return ehAddr(ctx, EH_STATS) + <usize>block * STATS_BLOCK_BYTES;
}

/** Shaper slots (SHAPER_BYTES each): transmit queue q's at q, receive queue q's at SHAPER_RX + q. */
export const SHAPER_RX: u32 = 64;

@inline export function txShaper(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SHAPERS) + <usize>q * SHAPER_BYTES;
}
@inline export function rxShaper(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_SHAPERS) + <usize>(SHAPER_RX + q) * SHAPER_BYTES;
}
@inline export function rxRing(ctx: usize, q: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_RX + (<usize>q << 2));
}
@inline export function txRing(ctx: usize, q: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_TX + (<usize>q << 2));
}
@inline export function inRing(ctx: usize, target: u32, source: u32, c: u32): usize {
  return <usize>load<u32>(ehAddr(ctx, EH_RING_TABLE) + RT_IN + (<usize>((target << 8) | (source << 2) | c) << 2));
}
/** Hold list of transmit queue q; its frame indexes (u32) start at TXH_LIST. */
@inline export function txHold(ctx: usize, q: u32): usize {
  return ehAddr(ctx, EH_TX_HOLD) + <usize>q * TX_HOLD_BYTES;
}
