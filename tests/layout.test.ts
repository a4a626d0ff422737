import { describe, expect, it } from 'vitest';
import {
  CACHE_LINE, CONTROL_BLOCK_OFFSET, LayoutError, META_BYTES, PAGE_BYTES, RegionKind, computeLayout, createMemory, readControlBlock, writeControlBlock,
} from '../host/layout.js';
import { compileEngine, instantiateEngine } from '../host/wasm.js';

describe('computeLayout', () => {
  const layout = computeLayout({ queues: 3, workers: 2, frameCount: 1024, frameSize: 4096, kernelBytesPerQueue: 100_000, scratchBytes: 5000 });

  it('never places anything in the first page', () => {
    for (const r of layout.regions) expect(r.offset).toBeGreaterThanOrEqual(PAGE_BYTES);
  });

  it('places regions without overlap, inside the memory', () => {
    const spans = [...layout.regions].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < spans.length; i++) expect(spans[i].offset).toBeGreaterThanOrEqual(spans[i - 1].offset + spans[i - 1].size);
    const last = spans[spans.length - 1];
    expect(last.offset + last.size).toBeLessThanOrEqual(layout.totalBytes);
  });

  it('aligns the frame pool and kernel regions to 4 KiB, rings and stats to a cache line', () => {
    expect(layout.frames.offset % PAGE_BYTES).toBe(0);
    expect(layout.kernel).toHaveLength(3);
    for (const k of layout.kernel) {
      expect(k.offset % PAGE_BYTES).toBe(0);
      expect(k.size % PAGE_BYTES).toBe(0);
      expect(k.size).toBeGreaterThanOrEqual(100_000);
    }
    expect(layout.stats.offset % CACHE_LINE).toBe(0);
    for (const r of layout.rings) expect(r.offset % CACHE_LINE).toBe(0);
  });

  it('gives one rx ring per queue and a free ring holding every frame by default', () => {
    expect(layout.rings.map((r) => r.name)).toEqual(['rx0', 'rx1', 'rx2', 'free']);
    expect(layout.ring('free').slots).toBe(1024);
    expect(() => layout.ring('nope')).toThrow(/no ring named "nope".*rx0, rx1, rx2, free/);
  });

  it('addresses frames and metadata by index', () => {
    expect(layout.frameAddress(5)).toBe(layout.frames.offset + 5 * 4096);
    expect(layout.metaAddress(5)).toBe(layout.meta.offset + 5 * META_BYTES);
    expect(layout.meta.size).toBe(1024 * META_BYTES);
  });

  it.each([
    [{ frameSize: 3000 }, 'frameSize', /power of two from 2048 to 65536 \(nearest: 2048\)/],
    [{ frameCount: 1000 }, 'frameCount', /power of two from 16 to 1048576 \(nearest: 1024\)/],
    [{ ringSize: 0 }, 'ringSize', /power of two/],
    [{ queues: 0 }, 'queues', /whole number from 1 to 64/],
    [{ workers: 1.5 }, 'workers', /whole number from 1 to 64/],
    [{ rings: [{ name: 'a', slots: 8, slotBytes: 4 }, { name: 'a', slots: 8, slotBytes: 4 }] }, 'rings[1].name', /used twice/],
    [{ rings: [{ name: 'a', slots: 8, slotBytes: 2 as 4 }] }, 'rings[0].slotBytes', /use 4 or 8/],
    [{ maxMemoryBytes: 65536 }, 'maxMemoryBytes', /the map needs \d+ bytes; raise it/],
    [{ frameCount: 1 << 20, frameSize: 65536 }, 'frameCount', /over the 4 GiB/],
  ])('rejects %j naming the field and the allowed values', (config, field, message) => {
    let err: unknown;
    try {
      computeLayout(config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayoutError);
    expect((err as LayoutError).field).toBe(field);
    expect((err as Error).message).toMatch(message);
  });
});

describe('control block', () => {
  it('round-trips through the memory and is what the engine reads', () => {
    const layout = computeLayout({ queues: 2, kernelBytesPerQueue: 8192 });
    const memory = createMemory(layout);
    writeControlBlock(memory, layout);
    const back = readControlBlock(memory);
    expect(back.queues).toBe(2);
    expect(back.frameCount).toBe(layout.config.frameCount);
    expect(back.regions).toEqual(layout.regions.map((r) => ({ ...r })));

    const engine = instantiateEngine(compileEngine(), memory);
    expect(engine.init(CONTROL_BLOCK_OFFSET)).toBe(0);
    expect(engine.regionOffset(CONTROL_BLOCK_OFFSET, RegionKind.Frames, 0)).toBe(layout.frames.offset);
    expect(engine.regionOffset(CONTROL_BLOCK_OFFSET, RegionKind.Kernel, 1)).toBe(layout.kernel[1].offset);
    layout.rings.forEach((r, i) => expect(engine.ringOffset(CONTROL_BLOCK_OFFSET, i)).toBe(r.offset));
  });

  it('makes init fail on a memory without a control block', () => {
    const layout = computeLayout();
    const memory = createMemory(layout);
    const engine = instantiateEngine(compileEngine(), memory);
    expect(engine.init(CONTROL_BLOCK_OFFSET)).toBe(-2);
    expect(() => readControlBlock(memory)).toThrow(/call writeControlBlock first/);
  });

  it('sizes the memory for the map, with the maximum fixed as configured', () => {
    const layout = computeLayout({ maxMemoryBytes: 64 << 20 });
    const memory = createMemory(layout);
    expect(memory.buffer.byteLength).toBe(layout.totalBytes);
    expect(layout.maximumPages).toBe(1024);
  });
});
