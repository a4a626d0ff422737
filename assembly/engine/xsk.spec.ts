// The engine's AF_XDP source and transmit against a fake kernel: rings built here in memory,
// with this test taking fill addresses, posting RX descriptors and completing TX descriptors as
// the kernel would. The UMEM is the fake engine's frame pool, as in engine mode.
import { xskInit, xskRing, XSK_COMP, XSK_FILL, XSK_RX, XSK_TX } from '../kernel/xsk';
import { xskEngineFill, xskEngineKernelFrames, xskEngineReclaim, xskEngineRx, xskEngineTx, xskEngineTxInflight } from './xsk';
import { ehAddr, EH_FRAMES, frameMeta, rxRing, statsBlock, txHold, txRing, txShaper } from '../engine-map';
import { META_CAPLEN, META_DATA, META_QUEUE, META_WIRELEN } from '../meta';
import { frameRelease, poolAlloc, poolAvailable, poolCache } from '../pool';
import { ringCount, ringDequeueBurst32, ringEnqueueBurst32 } from '../ring';
import { shaperInit } from '../shaper';
import { STAT_DROPS, STAT_DROP_RING_FULL, STAT_RX_BYTES, STAT_RX_PACKETS, STAT_TX_BYTES, STAT_TX_PACKETS } from '../stats';
import { fakeEngine, RX_SLOTS, zeroed } from '../testing/fake-engine';
import { kernelDeliver, ringOf } from '../testing/fake-xsk-kernel';

const SHIFT: u32 = 11; // FRAME_SIZE
const RING: u32 = 16;
const NEAR_WRAP: u32 = 0xfffffff8;

// A fake AF_XDP ring: producer at +0, consumer at +64, flags at +128, descriptors at +192.
function kring(descBytes: u32): usize {
  const r = zeroed(192 + RING * descBytes);
  store<u32>(r, NEAR_WRAP);
  store<u32>(r, NEAR_WRAP, 64);
  return r;
}

function socket(ctx: usize): usize {
  const st = zeroed(256);
  const rx = kring(16);
  const fill = kring(8);
  const tx = kring(16);
  const comp = kring(8);
  xskRing(st, XSK_RX, rx, rx + 64, rx + 192, rx + 128, RING);
  xskRing(st, XSK_FILL, fill, fill + 64, fill + 192, fill + 128, RING);
  xskRing(st, XSK_TX, tx, tx + 64, tx + 192, tx + 128, RING);
  xskRing(st, XSK_COMP, comp, comp + 64, comp + 192, comp + 128, RING);
  // Engine mode: no frames of its own, the pool stocks the fill ring.
  xskInit(st, 2, ehAddr(ctx, EH_FRAMES), SHIFT, 0, 0, 0, zeroed(64 * 64), zeroed(256));
  return st;
}

/** The kernel's TX: consumes every TX descriptor, returns their addresses on the completion ring. */
function kernelSend(st: usize): u32 {
  const tx = ringOf(st, XSK_TX);
  const comp = ringOf(st, XSK_COMP);
  let tc = load<u32>(tx, 64);
  let cp = load<u32>(comp);
  let n: u32 = 0;
  while (tc != load<u32>(tx)) {
    store<u64>(comp + 192 + (<usize>(cp & (RING - 1)) << 3), load<u64>(tx + 192 + (<usize>(tc & (RING - 1)) << 4)));
    tc++;
    cp++;
    n++;
  }
  store<u32>(tx, tc, 64);
  store<u32>(comp, cp);
  return n;
}

describe('xsk engine source', () => {
  it('stocks the fill ring from the pool up to the target, and no further', () => {
    const ctx = fakeEngine(64, 1, 3);
    const st = socket(ctx);
    const scratch = zeroed(4 * RING);
    expect(xskEngineFill(st, ctx, poolCache(ctx, 0), 8, scratch)).toBe(8);
    expect(xskEngineKernelFrames(st)).toBe(8);
    expect(load<u32>(ringOf(st, XSK_FILL))).toBe(NEAR_WRAP + 8);
    expect(xskEngineFill(st, ctx, poolCache(ctx, 0), 8, scratch)).toBe(0);
    // Every address handed to the kernel is a pool frame's UMEM offset.
    const f = <u32>(load<u64>(ringOf(st, XSK_FILL) + 192 + (<usize>(NEAR_WRAP & (RING - 1)) << 3)) >> SHIFT);
    expect(f).toBeLessThan(64);
  });

  it('turns RX descriptors into pool frames on rx ring q, counted, and tops the fill ring up again', () => {
    const ctx = fakeEngine(64, 1, 3);
    const st = socket(ctx);
    const cache = poolCache(ctx, 0);
    const list = zeroed(4 * RING);
    xskEngineFill(st, ctx, cache, 8, list);
    kernelDeliver(st, 5, 60, RING);
    expect(xskEngineRx(st, ctx, 2, cache, list, 32, 777, 1000, 8) & 0x7fffffff).toBe(5);
    expect(xskEngineKernelFrames(st)).toBe(8);
    // The 5 received left the kernel: 5 more fill addresses replace them.
    expect(load<u32>(ringOf(st, XSK_FILL))).toBe(NEAR_WRAP + 13);
    const out = zeroed(4 * 32);
    expect(ringDequeueBurst32(rxRing(ctx, 2), out, 32)).toBe(5);
    const f = load<u32>(out);
    const m = frameMeta(ctx, f);
    expect(load<u32>(m, META_DATA)).toBe(<u32>(ehAddr(ctx, EH_FRAMES) + (<usize>f << SHIFT) + 256));
    expect(load<u32>(m, META_CAPLEN)).toBe(60);
    expect(load<u16>(m, META_QUEUE)).toBe(2);
    const qs = statsBlock(ctx, 2);
    expect(load<u64>(qs, STAT_RX_PACKETS)).toBe(5);
    expect(load<u64>(qs, STAT_RX_BYTES)).toBe(300);
    // Released frames go back to the pool, not to the kernel: the fill ring is the pool's client.
    const before = poolAvailable(ctx);
    for (let i: u32 = 0; i < 5; i++) frameRelease(ctx, poolCache(ctx, 0), load<u32>(out + (<usize>i << 2)));
    expect(poolAvailable(ctx)).toBeGreaterThanOrEqual(before + 5);
  });

  it('counts ring_full and gives the frame back when rx ring q has no room', () => {
    const ctx = fakeEngine(128, 1, 1);
    const st = socket(ctx);
    const cache = poolCache(ctx, 0);
    const list = zeroed(4 * RX_SLOTS);
    // Fill rx ring 0 to one free slot.
    const junk = zeroed(4 * RX_SLOTS);
    const got = poolAlloc(ctx, cache, junk, RX_SLOTS - 1);
    expect(ringEnqueueBurst32(rxRing(ctx, 0), junk, got)).toBe(RX_SLOTS - 1);
    xskEngineFill(st, ctx, cache, 4, list);
    kernelDeliver(st, 3, 100, RING);
    const free = poolAvailable(ctx);
    expect(xskEngineRx(st, ctx, 0, cache, list, 32, 1, 1, 0) & 0x7fffffff).toBe(3);
    expect(ringCount(rxRing(ctx, 0))).toBe(RX_SLOTS);
    expect(load<u64>(statsBlock(ctx, 0), STAT_DROPS + (<usize>STAT_DROP_RING_FULL << 3))).toBe(2);
    expect(load<u64>(statsBlock(ctx, 0), STAT_RX_PACKETS)).toBe(3);
    expect(poolAvailable(ctx)).toBe(free + 2);
  });

  it('reclaims the frames still on the fill ring at stop', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = socket(ctx);
    const cache = poolCache(ctx, 0);
    const all = poolAvailable(ctx);
    xskEngineFill(st, ctx, cache, 10, zeroed(4 * RING));
    kernelDeliver(st, 4, 60, RING); // the kernel took 4: they are RX descriptors now, not fill entries
    expect(xskEngineReclaim(st, ctx, cache)).toBe(6);
    expect(xskEngineKernelFrames(st)).toBe(4);
    expect(poolAvailable(ctx)).toBe(all - 4);
  });
});

describe('xsk engine transmit', () => {
  it('puts forwarded frames on the TX ring as they are, and frees them on completion', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = socket(ctx);
    const cache = poolCache(ctx, 0);
    const fr = zeroed(4 * 8);
    expect(poolAlloc(ctx, cache, fr, 3)).toBe(3);
    for (let i: u32 = 0; i < 3; i++) {
      const m = frameMeta(ctx, load<u32>(fr + (<usize>i << 2)));
      store<u32>(m, 100 + i, META_CAPLEN);
      store<u32>(m, 100 + i, META_WIRELEN);
    }
    ringEnqueueBurst32(txRing(ctx, 0), fr, 3);
    const all = poolAvailable(ctx);
    expect(xskEngineTx(st, ctx, 0, cache, 1) & 0x7fffffff).toBe(3); // 3 in flight
    expect(xskEngineTxInflight(st)).toBe(3);
    const tx = ringOf(st, XSK_TX);
    const d = tx + 192 + (<usize>(NEAR_WRAP & (RING - 1)) << 4);
    const f0 = load<u32>(fr);
    expect(load<u64>(d)).toBe(<u64>f0 << SHIFT);
    expect(load<u32>(d, 8)).toBe(100);
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_PACKETS)).toBe(3);
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_BYTES)).toBe(303);
    // Still the kernel's until completed: nothing back in the pool yet.
    expect(poolAvailable(ctx)).toBe(all);
    expect(kernelSend(st)).toBe(3);
    expect(xskEngineTx(st, ctx, 0, cache, 2) & 0x7fffffff).toBe(0);
    expect(poolAvailable(ctx)).toBe(all + 3);
  });

  it('holds what the shaper does not allow yet, in order, and drops nothing', () => {
    const ctx = fakeEngine(64, 1, 1);
    const st = socket(ctx);
    const cache = poolCache(ctx, 0);
    // 2 packets of burst, 1 packet per microsecond.
    shaperInit(txShaper(ctx, 0), 1e6, 2, 0, 1, 0);
    const fr = zeroed(4 * 8);
    poolAlloc(ctx, cache, fr, 5);
    for (let i: u32 = 0; i < 5; i++) store<u32>(frameMeta(ctx, load<u32>(fr + (<usize>i << 2))), 64, META_CAPLEN);
    ringEnqueueBurst32(txRing(ctx, 0), fr, 5);
    expect(xskEngineTx(st, ctx, 0, cache, 0) & 0x7fffffff).toBe(5); // 2 in flight + 3 held
    expect(xskEngineTxInflight(st)).toBe(2);
    const hold = txHold(ctx, 0);
    expect(load<u32>(hold)).toBe(3);
    expect(load<u32>(hold + 64)).toBe(load<u32>(fr + 8)); // the third frame is next
    expect(xskEngineTx(st, ctx, 0, cache, 1000) & 0x7fffffff).toBe(5); // one more token after 1 µs: 3 in flight, 2 held
    expect(load<u32>(hold)).toBe(2);
    expect(xskEngineTx(st, ctx, 0, cache, 1_000_000) & 0x7fffffff).toBe(5);
    expect(load<u32>(hold)).toBe(0);
    expect(load<u64>(statsBlock(ctx, 0), STAT_TX_PACKETS)).toBe(5);
  });
});
