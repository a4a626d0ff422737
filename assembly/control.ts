// The engine's view of the control block that host/layout.ts writes. Only the block's own field
// offsets live here (a struct layout, like a header diagram); where regions are is read from it.
//
// | off | size | field          |      region table entry (16 B, from CB_REGION_TABLE):
// |-----|------|----------------|      | 0 kind | 4 index | 8 offset | 12 size |
// | 0   | 4    | magic "WWSM"   |
// | 4   | 4    | layout version |      ring table entry (16 B, from CB_RING_TABLE):
// | 8   | 4    | total bytes    |      | 0 offset | 4 slots | 8 slot bytes | 12 flags |
// | 12  | 4    | frame size     |
// | 16  | 4    | frame count    |
// | 20  | 4    | meta size      |
// | 24  | 4    | queues         |
// | 28  | 4    | workers        |
// | 32  | 4    | region count   |
// | 36  | 4    | ring count     |

export const CB_MAGIC: u32 = 0x4d535757;
export const CB_VERSION: u32 = 1;
export const CB_TOTAL_BYTES: usize = 8;
export const CB_FRAME_SIZE: usize = 12;
export const CB_FRAME_COUNT: usize = 16;
export const CB_META_SIZE: usize = 20;
export const CB_QUEUES: usize = 24;
export const CB_WORKERS: usize = 28;
export const CB_REGION_COUNT: usize = 32;
export const CB_RING_COUNT: usize = 36;
export const CB_REGION_TABLE: usize = 64;
export const CB_RING_TABLE: usize = 1024;

export const REGION_STATS: u32 = 2;
export const REGION_RINGS: u32 = 3;
export const REGION_FRAMES: u32 = 4;
export const REGION_META: u32 = 5;
export const REGION_KERNEL: u32 = 6;
export const REGION_SCRATCH: u32 = 7;

/** 0 when `cb` holds a control block this build understands; a negative reason otherwise. */
export function checkControlBlock(cb: usize): i32 {
  if (cb == 0) return -1;
  if (load<u32>(cb) != CB_MAGIC) return -2;
  if (load<u32>(cb, 4) != CB_VERSION) return -3;
  return 0;
}

/** Offset of the `index`-th region of `kind`, or 0 when the map has none. */
export function regionOffset(cb: usize, kind: u32, index: u32): usize {
  const n = load<u32>(cb, CB_REGION_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    const e = cb + CB_REGION_TABLE + (<usize>i << 4);
    if (load<u32>(e) == kind && load<u32>(e, 4) == index) return <usize>load<u32>(e, 8);
  }
  return 0;
}

/** Offset of ring `i` from the ring table, or 0 when out of range. */
export function ringOffset(cb: usize, i: u32): usize {
  if (i >= load<u32>(cb, CB_RING_COUNT)) return 0;
  return <usize>load<u32>(cb + CB_RING_TABLE + (<usize>i << 4));
}
