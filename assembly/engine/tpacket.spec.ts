// The engine's TPACKET source (zero-copy V3 receive, block holders) and transmit (V2 TX ring)
// against a fake kernel: blocks and slots built here in memory, this test filling blocks and
// sending slots as the kernel would.
import { tpacketInit, TPS_RX_BYTES } from '../kernel/tpacket';
import { tpacketEngineHeld, tpacketEngineInit, tpacketEnginePollable, tpacketEngineRx, tpacketEngineStop, tpacketEngineTx, tpacketEngineTxInflight } from './tpacket';
import { frameData, frameMeta, rxRing, statsBlock, txHold, txRing } from '../engine-map';
import { META_CAPLEN, META_DATA, META_WIRELEN } from '../meta';
import { frameRelease, poolAlloc, poolAvailable, poolCache } from '../pool';
import { ringDequeueBurst32, ringEnqueueBurst32 } from '../ring';
import { STAT_DROPS, STAT_DROP_POOL_EMPTY, STAT_RX_BYTES, STAT_RX_PACKETS, STAT_TX_DROPPED, STAT_TX_PACKETS } from '../stats';
import { fakeEngine, fakeExtRegion, zeroed } from '../testing/fake-engine';
import { kernelFillV3 } from '../testing/fake-tpacket-kernel';

const BLOCK: u32 = 4096;
const BLOCKS: u32 = 4;
const HOLDERS: u32 = BLOCK * BLOCKS;

/** A V3 receive ring and its holder lines, declared as the engine's ext region. */
function rxQueue(ctx: usize): usize {
  const region = zeroed(HOLDERS + BLOCKS * 64);
  fakeExtRegion(ctx, region, HOLDERS + BLOCKS * 64, 12, HOLDERS);
  const st = zeroed(128);
  tpacketInit(st, 3, region, BLOCK, BLOCKS, 0, zeroed(64 * 64), 0, 0, 0);
  tpacketEngineInit(st, region + HOLDERS);
  return st;
}
const ringOf = (st: usize): usize => <usize>load<u32>(st, 4);
const blockStatus = (st: usize, b: u32): u32 => load<u32>(ringOf(st) + <usize>b * BLOCK, 8);
const holder = (st: usize, b: u32): u32 => load<u32>(ringOf(st) + HOLDERS + (<usize>b << 6));

/** The kernel fills block b with `pkts` packets of 64 bytes (payload word = seq) and hands it over. */
function kernelFill(st: usize, b: u32, pkts: u32, seq: u32): void {
  kernelFillV3(ringOf(st), BLOCK, b, pkts, seq);
}

describe('tpacket engine source (zero-copy V3)', () => {
  it('hands out packets in place and gives a block back only when its last frame is released, in any order', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = rxQueue(ctx);
    const cache = poolCache(ctx, 0);
    kernelFill(st, 0, 3, 100);
    kernelFill(st, 1, 2, 200);
    const list = zeroed(4 * 32);
    expect(tpacketEngineRx(st, ctx, 0, cache, list, 32, 5)).toBe(5);
    const out = zeroed(4 * 32);
    expect(ringDequeueBurst32(rxRing(ctx, 0), out, 32)).toBe(5);
    // Each frame describes its packet in the block: no copy.
    const f3 = load<u32>(out + 12);
    expect(load<u32>(<usize>load<u32>(frameMeta(ctx, f3), META_DATA))).toBe(200);
    expect(load<u32>(frameMeta(ctx, f3), META_CAPLEN)).toBe(64);
    expect(tpacketEngineHeld(st)).toBe(2);
    expect(holder(st, 0)).toBe(0x80000003);
    // Block 0 is read to its end: its frames alone hold it. Release them out of order.
    frameRelease(ctx, cache, load<u32>(out + 8));
    frameRelease(ctx, cache, load<u32>(out));
    expect(blockStatus(st, 0)).toBe(1);
    // Block 1 goes back first although it came later.
    frameRelease(ctx, cache, load<u32>(out + 16));
    frameRelease(ctx, cache, f3);
    expect(blockStatus(st, 1)).toBe(0);
    expect(holder(st, 1)).toBe(0);
    expect(blockStatus(st, 0)).toBe(1);
    // The frame points at its own slot again once detached.
    expect(load<u32>(frameMeta(ctx, f3), META_DATA)).toBe(<u32>frameData(ctx, f3));
    const f1 = load<u32>(out + 4);
    frameRelease(ctx, cache, f1);
    expect(blockStatus(st, 0)).toBe(0);
    expect(tpacketEngineHeld(st)).toBe(0);
    expect(load<u64>(statsBlock(ctx, 0), STAT_RX_PACKETS)).toBe(5);
  });

  it('never reopens a block still held, though its status still reads USER', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = rxQueue(ctx);
    const cache = poolCache(ctx, 0);
    const list = zeroed(4 * 32);
    const out = zeroed(4 * 32);
    for (let b: u32 = 0; b < BLOCKS; b++) kernelFill(st, b, 1, b);
    expect(tpacketEngineRx(st, ctx, 0, cache, list, 32, 1)).toBe(4);
    ringDequeueBurst32(rxRing(ctx, 0), out, 32);
    // The walker is back at block 0: held, USER from before, so not new.
    expect(tpacketEngineRx(st, ctx, 0, cache, list, 32, 2)).toBe(0);
    // While the block before the kernel's next is held, poll() cannot sleep.
    expect(tpacketEnginePollable(st)).toBe(0);
    frameRelease(ctx, cache, load<u32>(out));
    kernelFill(st, 0, 2, 50);
    expect(tpacketEngineRx(st, ctx, 0, cache, list, 32, 3)).toBe(2);
  });

  it('at stop, counts the packets that found no pool frame as pool_empty and lets the block go', () => {
    const ctx = fakeEngine(4, 1, 1);
    const st = rxQueue(ctx);
    const cache = poolCache(ctx, 0);
    const list = zeroed(4 * 32);
    kernelFill(st, 0, 6, 0);
    expect(tpacketEngineRx(st, ctx, 0, cache, list, 32, 1)).toBe(4);
    expect(tpacketEngineStop(st, ctx, 0)).toBe(2);
    expect(load<u64>(statsBlock(ctx, 0), STAT_DROPS + (<usize>STAT_DROP_POOL_EMPTY << 3))).toBe(2);
    const out = zeroed(4 * 32);
    ringDequeueBurst32(rxRing(ctx, 0), out, 32);
    for (let i: u32 = 0; i < 4; i++) frameRelease(ctx, cache, load<u32>(out + (<usize>i << 2)));
    expect(blockStatus(st, 0)).toBe(0);
    expect(poolAvailable(ctx)).toBe(4);
  });

  it('counts bytes by wire length, in its walker counters and the engine stats alike', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = rxQueue(ctx);
    const list = zeroed(4 * 32);
    kernelFillV3(ringOf(st), BLOCK, 0, 3, 0, 64, 1500);
    expect(tpacketEngineRx(st, ctx, 0, poolCache(ctx, 0), list, 32, 1)).toBe(3);
    expect(load<u64>(st, TPS_RX_BYTES)).toBe(3 * 1500);
    expect(load<u64>(statsBlock(ctx, 0), STAT_RX_BYTES)).toBe(3 * 1500);
    expect(load<u32>(frameMeta(ctx, load<u32>(list)), META_CAPLEN)).toBe(64);
  });
});

const TX_SLOT: u32 = 256;
const TX_SLOTS: u32 = 4;

function txQueue(): usize {
  const st = zeroed(128);
  tpacketInit(st, 3, 0, 0, 0, 0, 0, zeroed(TX_SLOT * TX_SLOTS), TX_SLOT, TX_SLOTS);
  return st;
}
const txSlot = (st: usize, i: u32): usize => <usize>load<u32>(st, 64) + <usize>i * TX_SLOT;

function forward(ctx: usize, lens: StaticArray<u32>): usize {
  const cache = poolCache(ctx, 0);
  const fr = zeroed(4 * 16);
  const n = <u32>lens.length;
  poolAlloc(ctx, cache, fr, n);
  for (let i: u32 = 0; i < n; i++) {
    const f = load<u32>(fr + (<usize>i << 2));
    store<u32>(frameMeta(ctx, f), lens[i], META_CAPLEN);
    store<u32>(frameMeta(ctx, f), lens[i], META_WIRELEN);
    store<u8>(<usize>load<u32>(frameMeta(ctx, f), META_DATA), <u8>(i + 1));
  }
  ringEnqueueBurst32(txRing(ctx, 0), fr, n);
  return fr;
}

describe('tpacket engine transmit (V2 TX ring)', () => {
  it('copies frames into slots with SEND_REQUEST, frees them at once, drops what the kernel would reject', () => {
    const ctx = fakeEngine(16, 1, 1);
    const st = txQueue();
    const cache = poolCache(ctx, 0);
    const all = poolAvailable(ctx);
    forward(ctx, [60, 10, 100]); // 10 bytes: shorter than an Ethernet header
    const r = tpacketEngineTx(st, ctx, 0, cache, 1);
    expect(r >>> 31).toBe(1); // the kernel needs a send()
    expect(r & 0x7fffffff).toBe(2); // in flight
    expect(load<u32>(txSlot(st, 0))).toBe(1); // TP_STATUS_SEND_REQUEST
    expect(load<u32>(txSlot(st, 0), 4)).toBe(60);
    expect(load<u8>(txSlot(st, 0) + 32)).toBe(1);
    expect(load<u32>(txSlot(st, 1), 4)).toBe(100);
    expect(load<u8>(txSlot(st, 1) + 32)).toBe(3);
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_PACKETS)).toBe(2);
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_DROPPED)).toBe(1);
    expect(poolAvailable(ctx)).toBe(all);
  });

  it('holds frames while the TX ring is full and sends them as the kernel frees slots', () => {
    const ctx = fakeEngine(16, 1, 1);
    const st = txQueue();
    const cache = poolCache(ctx, 0);
    forward(ctx, [60, 61, 62, 63, 64, 65]);
    expect(tpacketEngineTx(st, ctx, 0, cache, 1) & 0x7fffffff).toBe(6); // 4 in flight, 2 held
    expect(tpacketEngineTxInflight(st)).toBe(4);
    expect(load<u32>(txHold(ctx, 0))).toBe(2);
    // The kernel sends the first two slots.
    store<u32>(txSlot(st, 0), 0);
    store<u32>(txSlot(st, 1), 0);
    expect(tpacketEngineTx(st, ctx, 0, cache, 2) & 0x7fffffff).toBe(4);
    expect(load<u32>(txHold(ctx, 0))).toBe(0);
    expect(load<u32>(txSlot(st, 0), 4)).toBe(64); // the ring wrapped: the fifth frame
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_PACKETS)).toBe(6);
  });
});
