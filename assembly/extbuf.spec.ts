// Frames that describe bytes outside the pool: DPDK mbufs (engine-map EH_DPDK_*). A released DPDK
// frame goes on its queue's return ring, never into the pool; the pool's own frames are unaffected.
import { EH_DPDK_COUNT, EH_DPDK_RETURN, frameMeta } from './engine-map';
import { META_NEXT, META_REFCNT } from './meta';
import { frameRelease, poolAlloc, poolAvailable, poolCache, poolFlush } from './pool';
import { ringCount, ringDequeueBurst32 } from './ring';
import { dpdkReceived, dpdkReturnStride, fakeEngineWithDpdk, zeroed } from './testing/fake-engine';

const POOL: u32 = 64;
const DPDK: u32 = 32;
const STRIDE: usize = dpdkReturnStride(DPDK);

describe('DPDK frames (dpdkReturn)', () => {
  it('a released DPDK frame goes on its own queue\'s return ring, not into the pool', () => {
    const ctx = fakeEngineWithDpdk(POOL, DPDK, 1, 2);
    const cache = poolCache(ctx, 1);
    const rings = <usize>load<u32>(ctx + EH_DPDK_RETURN);
    const before = poolAvailable(ctx);
    dpdkReceived(ctx, POOL + 3, 1);
    dpdkReceived(ctx, POOL + DPDK - 1, 0);
    expect(frameRelease(ctx, cache, POOL + 3)).toBe(1);
    expect(frameRelease(ctx, cache, POOL + DPDK - 1)).toBe(1);
    poolFlush(ctx, cache);
    expect(poolAvailable(ctx)).toBe(before);
    expect(ringCount(rings)).toBe(1);
    expect(ringCount(rings + STRIDE)).toBe(1);
    const out = zeroed(64);
    expect(ringDequeueBurst32(rings + STRIDE, out, 8)).toBe(1);
    expect(load<u32>(out)).toBe(POOL + 3);
    expect(ringDequeueBurst32(rings, out, 8)).toBe(1);
    expect(load<u32>(out)).toBe(POOL + DPDK - 1);
  });

  it('a chain of DPDK segments returns segment by segment; a shared frame only on its last release', () => {
    const ctx = fakeEngineWithDpdk(POOL, DPDK, 1, 2);
    const cache = poolCache(ctx, 1);
    const rings = <usize>load<u32>(ctx + EH_DPDK_RETURN);
    dpdkReceived(ctx, POOL, 0);
    dpdkReceived(ctx, POOL + 1, 0);
    store<u32>(frameMeta(ctx, POOL), POOL + 1, META_NEXT);
    store<u32>(frameMeta(ctx, POOL), 2, META_REFCNT);
    expect(frameRelease(ctx, cache, POOL)).toBe(0);
    expect(ringCount(rings)).toBe(0);
    expect(frameRelease(ctx, cache, POOL)).toBe(2);
    expect(ringCount(rings)).toBe(2);
  });

  it('pool frames still go to the pool, and frames next to the range are the pool\'s', () => {
    const ctx = fakeEngineWithDpdk(POOL, DPDK, 1, 2);
    const cache = poolCache(ctx, 1);
    const rings = <usize>load<u32>(ctx + EH_DPDK_RETURN);
    const before = poolAvailable(ctx);
    const out = zeroed(64);
    expect(poolAlloc(ctx, cache, out, 4)).toBe(4);
    for (let i: u32 = 0; i < 4; i++) frameRelease(ctx, cache, load<u32>(out + (<usize>i << 2)));
    poolFlush(ctx, cache);
    expect(poolAvailable(ctx)).toBe(before);
    expect(ringCount(rings) + ringCount(rings + STRIDE)).toBe(0);
  });

  it('without DPDK (count 0) no frame is taken for one', () => {
    const ctx = fakeEngineWithDpdk(POOL, DPDK, 1, 2);
    store<u32>(ctx + EH_DPDK_COUNT, 0);
    const cache = poolCache(ctx, 1);
    const rings = <usize>load<u32>(ctx + EH_DPDK_RETURN);
    const out = zeroed(64);
    expect(poolAlloc(ctx, cache, out, 1)).toBe(1);
    frameRelease(ctx, cache, load<u32>(out));
    expect(ringCount(rings)).toBe(0);
  });
});
