// The frame pool in WASM on its own: allocation through caches, reference counts (a frame held by
// two is freed once, after both let go), scatter-gather chains freed whole, nothing lost.
import { describe, expect, it } from 'vitest';
import { computeLayout, createMemory, writeControlBlock } from '../../host/layout.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { META, NEXT_NONE } from '../../host/meta.js';

interface PoolExports {
  poolInit(ctx: number, cacheSize: number): number;
  poolAlloc(ctx: number, cache: number, out: number, n: number): number;
  poolFlush(ctx: number, cache: number): number;
  poolAvailable(ctx: number): number;
  poolCopyIn(ctx: number, cache: number, src: number, len: number, slot: number, scratch: number, filed: number, n: number): number;
  frameRetain(ctx: number, f: number, n: number): void;
  frameRelease(ctx: number, cache: number, f: number): number;
}

function pool(frameCount = 64, cacheSize = 8, workers = 1) {
  const layout = computeLayout({ frameCount, workers, rings: [{ name: 'free', slots: frameCount, slotBytes: 4 }], scratchBytes: 65536, engine: { classes: 1, burst: 32, poolCache: cacheSize, flowRules: 1 } });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const m = layout.engine!;
  const u32 = new Uint32Array(memory.buffer);
  const h = (i: number, v: number) => (u32[(m.offset >> 2) + i] = v);
  // Engine header fields the pool reads (assembly/engine-map.ts).
  h(1, workers);
  h(6, layout.config.frameSize);
  h(7, frameCount);
  h(8, layout.frames.offset);
  h(9, layout.meta.offset);
  h(10, layout.ring('free').offset);
  h(21, m.caches);
  h(22, m.cacheBytes);
  const w = instantiateEngine(compileEngine(), memory) as unknown as PoolExports;
  expect(w.poolInit(m.offset, cacheSize)).toBe(0);
  const out = layout.scratch.offset;
  return { w, ctx: m.offset, cache: (i: number) => m.cache(i), out, u32, memory, layout, list: (n: number) => [...u32.subarray(out >> 2, (out >> 2) + n)] };
}

describe('frame pool', () => {
  it('hands out every frame once, then none, and takes them all back', () => {
    const p = pool(64, 8, 1);
    const got = p.w.poolAlloc(p.ctx, p.cache(0), p.out, 64);
    expect(got).toBe(64);
    expect(new Set(p.list(64)).size).toBe(64);
    expect(p.w.poolAlloc(p.ctx, p.cache(0), p.out + 1024, 1)).toBe(0);
    expect(p.w.poolAvailable(p.ctx)).toBe(0);
    for (const f of p.list(64)) expect(p.w.frameRelease(p.ctx, p.cache(1), f)).toBe(1);
    expect(p.w.poolAvailable(p.ctx)).toBe(64);
  });

  it('a frame held by two holders is freed once, after both release it', () => {
    const p = pool();
    p.w.poolAlloc(p.ctx, p.cache(0), p.out, 1);
    const f = p.list(1)[0];
    p.w.frameRetain(p.ctx, f, 1);
    const before = p.w.poolAvailable(p.ctx);
    expect(p.w.frameRelease(p.ctx, p.cache(0), f)).toBe(0);
    expect(p.w.poolAvailable(p.ctx)).toBe(before);
    expect(p.w.frameRelease(p.ctx, p.cache(0), f)).toBe(1);
    expect(p.w.poolAvailable(p.ctx)).toBe(before + 1);
  });

  it('copies a record longer than a frame into a chain and frees the whole chain with its head', () => {
    const p = pool(64, 0);
    const src = p.out + 256;
    const bytes = new Uint8Array(p.memory.buffer);
    const len = 2048 * 2 + 100;
    for (let i = 0; i < len; i++) bytes[src + i] = i & 255;
    const head = p.w.poolCopyIn(p.ctx, p.cache(0), src, len, p.out, p.out, 0, 0) >>> 0;
    expect(head).not.toBe(NEXT_NONE);
    const segs: number[] = [];
    let copied: number[] = [];
    for (let f = head; f !== NEXT_NONE; f = p.u32[(p.layout.metaAddress(f) + META.NEXT) >> 2]) {
      segs.push(f);
      const m = p.layout.metaAddress(f) >> 2;
      const data = p.u32[m + META.DATA / 4];
      copied = copied.concat([...bytes.subarray(data, data + p.u32[m + META.CAPLEN / 4])]);
    }
    expect(segs).toHaveLength(3);
    expect(copied).toEqual(Array.from({ length: len }, (_, i) => i & 255));
    expect(p.w.poolAvailable(p.ctx)).toBe(61);
    expect(p.w.frameRelease(p.ctx, p.cache(0), head)).toBe(3);
    expect(p.w.poolAvailable(p.ctx)).toBe(64);
  });

  it('gives nothing (and keeps nothing) when a chain does not fit', () => {
    const p = pool(16, 0);
    p.w.poolAlloc(p.ctx, p.cache(0), p.out, 14);
    const head = p.w.poolCopyIn(p.ctx, p.cache(0), p.out + 1024, 2048 * 3, p.out + 512, p.out + 512, 0, 0) >>> 0;
    expect(head).toBe(NEXT_NONE);
    expect(p.w.poolAvailable(p.ctx)).toBe(2);
  });

  it('caches refill and flush in bursts, and a flush returns every cached frame', () => {
    const p = pool(256, 16, 1);
    const c = p.cache(0);
    p.w.poolAlloc(p.ctx, c, p.out, 1);
    // One allocation pulled a whole refill into the cache: size more than asked.
    expect(p.u32[c >> 2]).toBe(16);
    const f = p.list(1)[0];
    p.w.frameRelease(p.ctx, c, f);
    expect(p.w.poolFlush(p.ctx, c)).toBe(17);
    expect(p.u32[c >> 2]).toBe(0);
    expect(p.w.poolAvailable(p.ctx)).toBe(256);
  });
});
