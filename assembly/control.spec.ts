import { checkControlBlock, regionOffset, ringOffset, CB_MAGIC, CB_VERSION, CB_REGION_COUNT, CB_RING_COUNT, CB_REGION_TABLE, CB_RING_TABLE, REGION_FRAMES, REGION_KERNEL } from './control';

function makeBlock(): usize {
  const cb = heap.alloc(4096);
  memory.fill(cb, 0, 4096);
  store<u32>(cb, CB_MAGIC);
  store<u32>(cb, CB_VERSION, 4);
  store<u32>(cb, 3, CB_REGION_COUNT);
  // frames at 0x10000, kernel[0] at 0x20000, kernel[1] at 0x30000
  const t = cb + CB_REGION_TABLE;
  store<u32>(t, REGION_FRAMES); store<u32>(t, 0, 4); store<u32>(t, 0x10000, 8); store<u32>(t, 4096, 12);
  store<u32>(t + 16, REGION_KERNEL); store<u32>(t + 16, 0, 4); store<u32>(t + 16, 0x20000, 8);
  store<u32>(t + 32, REGION_KERNEL); store<u32>(t + 32, 1, 4); store<u32>(t + 32, 0x30000, 8);
  store<u32>(cb, 1, CB_RING_COUNT);
  store<u32>(cb + CB_RING_TABLE, 0x4040);
  return cb;
}

describe('control block', () => {
  it('accepts a block with the magic and version', () => {
    expect(checkControlBlock(makeBlock())).toBe(0);
  });
  it('rejects a null address, a wrong magic and a wrong version with distinct reasons', () => {
    expect(checkControlBlock(0)).toBe(-1);
    const cb = makeBlock();
    store<u32>(cb, 0xdeadbeef);
    expect(checkControlBlock(cb)).toBe(-2);
    store<u32>(cb, CB_MAGIC);
    store<u32>(cb, 99, 4);
    expect(checkControlBlock(cb)).toBe(-3);
  });
  it('finds regions by kind and index, and 0 for a region the map lacks', () => {
    const cb = makeBlock();
    expect(regionOffset(cb, REGION_FRAMES, 0)).toBe(0x10000);
    expect(regionOffset(cb, REGION_KERNEL, 1)).toBe(0x30000);
    expect(regionOffset(cb, REGION_KERNEL, 2)).toBe(0);
  });
  it('reads ring offsets and 0 past the table', () => {
    const cb = makeBlock();
    expect(ringOffset(cb, 0)).toBe(0x4040);
    expect(ringOffset(cb, 1)).toBe(0);
  });
});
