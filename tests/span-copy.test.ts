// SpanCopier (host/span-copy.ts): copies between two memories exactly, never past the room it is
// given, and after warm-up without making a view object per copy.
import { describe, expect, it, vi } from 'vitest';
import { SpanCopier } from '../host/span-copy.js';

describe('SpanCopier', () => {
  const src = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) & 0xff);

  it('copies the bytes asked for, at the offset asked for, for every length', () => {
    const c = new SpanCopier();
    for (const len of [0, 1, 7, 1023, 1024, 1025, 3000]) {
      const dst = new Uint8Array(8192);
      c.copy(src, 100, len, dst, 50, 4096);
      expect(Array.from(dst.subarray(50, 50 + len))).toEqual(Array.from(src.subarray(100, 100 + len)));
      expect(dst.subarray(0, 50).every((b) => b === 0)).toBe(true);
    }
  });

  it('writes nothing past the room it is given, nor reads past the source', () => {
    const c = new SpanCopier();
    const dst = new Uint8Array(4096);
    c.copy(src, 0, 1500, dst, 0, 1600); // 2 KiB rounded does not fit in 1600: exact copy
    expect(dst.subarray(1500).every((b) => b === 0)).toBe(true);
    const dst2 = new Uint8Array(4096);
    c.copy(src, 8192 - 600, 600, dst2, 0, 4096); // 1 KiB rounded runs past the source's end: exact
    expect(Array.from(dst2.subarray(0, 600))).toEqual(Array.from(src.subarray(8192 - 600)));
    expect(dst2.subarray(600).every((b) => b === 0)).toBe(true);
  });

  it('makes no view after warm-up: copies of lengths seen before reuse theirs', () => {
    const c = new SpanCopier();
    const dst = new Uint8Array(8192);
    for (const len of [100, 1500, 3000]) c.copy(src, 64, len, dst, 0, 8192);
    const views = vi.spyOn(Uint8Array.prototype, 'subarray');
    try {
      for (const len of [90, 1100, 2900, 100]) c.copy(src, 64, len, dst, 0, 8192);
      expect(views).not.toHaveBeenCalled();
      c.copy(src, 128, 100, dst, 0, 8192); // another start: views of its own
      expect(views).toHaveBeenCalledTimes(1);
    } finally {
      views.mockRestore();
    }
  });
});
