// Copies into pool frames on a fake engine (2 KiB frames).
import { frameData, frameMeta } from './engine-map';
import { META_CAPLEN, META_DATA, META_NEXT, NEXT_NONE } from './meta';
import { poolCache, poolCopyIn, poolCopyInCached } from './pool';
import { fakeEngine, FRAME_SIZE, zeroed } from './testing/fake-engine';

/** `len` bytes 1, 2, 3, ... */
function bytes(len: u32): usize {
  const b = zeroed(len);
  for (let i: u32 = 0; i < len; i++) store<u8>(b + i, <u8>(i + 1));
  return b;
}

function sameBytes(a: usize, b: usize, len: u32): bool {
  for (let i: u32 = 0; i < len; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

describe('poolCopyIn / poolCopyInCached', () => {
  it("start a copy that fits one frame the frame's index mod 16 lines in: the pool's frames over 16 cache lines", () => {
    const ctx = fakeEngine(64, 1, 1);
    const cache = poolCache(ctx, 0);
    const src = bytes(64);
    const slot = zeroed(4);
    const lines = zeroed(16);
    for (let i: u32 = 0; i < 64; i++) {
      let f = poolCopyInCached(ctx, cache, src, 64, slot, 0, 0);
      if (f == NEXT_NONE) f = poolCopyIn(ctx, cache, src, 64, slot, zeroed(4), 0, 0);
      const m = frameMeta(ctx, f);
      const at = <usize>load<u32>(m, META_DATA) - frameData(ctx, f);
      expect(at).toBe(<usize>(f & 15) << 6);
      expect(load<u32>(m, META_CAPLEN)).toBe(64);
      expect(sameBytes(<usize>load<u32>(m, META_DATA), src, 64)).toBe(true);
      store<u8>(lines + (at >> 6), 1);
    }
    let distinct: u32 = 0;
    for (let i: u32 = 0; i < 16; i++) distinct += load<u8>(lines + i);
    expect(distinct).toBe(16);
  });

  it("start at the frame's start what would not fit after the spread, and a chain's segments at theirs", () => {
    const ctx = fakeEngine(64, 1, 1);
    const cache = poolCache(ctx, 0);
    const whole = bytes(FRAME_SIZE);
    const f = poolCopyIn(ctx, cache, whole, FRAME_SIZE, zeroed(4), zeroed(4), 0, 0);
    expect(<usize>load<u32>(frameMeta(ctx, f), META_DATA)).toBe(frameData(ctx, f));
    expect(sameBytes(frameData(ctx, f), whole, FRAME_SIZE)).toBe(true);
    const long = bytes(FRAME_SIZE + 100);
    const head = poolCopyIn(ctx, cache, long, FRAME_SIZE + 100, zeroed(4), zeroed(4), 0, 0);
    const next = load<u32>(frameMeta(ctx, head), META_NEXT);
    expect(<usize>load<u32>(frameMeta(ctx, head), META_DATA)).toBe(frameData(ctx, head));
    expect(<usize>load<u32>(frameMeta(ctx, next), META_DATA)).toBe(frameData(ctx, next));
    expect(load<u32>(frameMeta(ctx, next), META_CAPLEN)).toBe(100);
    expect(sameBytes(frameData(ctx, next), long + FRAME_SIZE, 100)).toBe(true);
  });
});
