// SpanCopier, the copy of each burst's gathered bytes into a plugin's input and of each record
// batch into the book's input: the bytes asked for arrive, copy() writes nothing past the room it
// was given, copyExact() nothing past the bytes asked for, and a new source or start is never
// served from the views kept for the previous one.
import { describe, expect, it, vi } from 'vitest';
import { SpanCopier } from '../host/span-copy.js';

const SENTINEL = 0xa5;
const filled = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + 1) % 251);

describe('SpanCopier', () => {
  const lengths = [0, 1, 7, 1023, 1024, 1025, 2047, 3000, 5000, 8191, 8192];

  it('copyExact: dst gets src[from, from + len) at `to` and no other byte changes', () => {
    const c = new SpanCopier();
    const src = filled(20000, 1);
    for (const from of [0, 64, 333])
      for (const to of [0, 8, 1001])
        for (const len of lengths) {
          const dst = new Uint8Array(10000).fill(SENTINEL);
          c.copyExact(src, from, len, dst, to);
          expect(Buffer.from(dst.subarray(to, to + len)).equals(Buffer.from(src.subarray(from, from + len))), `from ${from} to ${to} len ${len}`).toBe(true);
          expect(dst.subarray(0, to).every((b) => b === SENTINEL)).toBe(true);
          expect(dst.subarray(to + len).every((b) => b === SENTINEL), `past the copy: from ${from} to ${to} len ${len}`).toBe(true);
        }
  });

  it('copyExact: also into and out of views that start inside their buffer, aligned or not', () => {
    const c = new SpanCopier();
    const whole = filled(30000, 5);
    for (const srcStart of [0, 4, 6])
      for (const dstStart of [0, 8, 3]) {
        const src = whole.subarray(srcStart);
        const buf = new Uint8Array(12000).fill(SENTINEL);
        const dst = buf.subarray(dstStart);
        for (const len of [61, 64, 100, 1027]) {
          buf.fill(SENTINEL);
          c.copyExact(src, 128, len, dst, 16);
          expect(Buffer.from(dst.subarray(16, 16 + len)).equals(Buffer.from(src.subarray(128, 128 + len))), `src at ${srcStart}, dst at ${dstStart}, len ${len}`).toBe(true);
          expect(buf.subarray(0, dstStart + 16).every((b) => b === SENTINEL)).toBe(true);
          expect(buf.subarray(dstStart + 16 + len).every((b) => b === SENTINEL)).toBe(true);
        }
      }
  });

  it('copy: dst gets src[from, from + len) at `to` and writes nothing past `dstRoom`', () => {
    const c = new SpanCopier();
    const src = filled(20000, 2);
    for (const len of lengths)
      for (const room of [len, len + 100, len + 1023, len + 5000]) {
        const dst = new Uint8Array(16000).fill(SENTINEL);
        c.copy(src, 64, len, dst, 8, room);
        expect(Buffer.from(dst.subarray(8, 8 + len)).equals(Buffer.from(src.subarray(64, 64 + len))), `len ${len} room ${room}`).toBe(true);
        expect(dst[7]).toBe(SENTINEL);
        expect(dst.subarray(8 + room).every((b) => b === SENTINEL), `past the room: len ${len} room ${room}`).toBe(true);
      }
    // At the end of src: the rounded length does not fit in it, the copy is exact.
    const dst = new Uint8Array(4096).fill(SENTINEL);
    c.copy(src, src.length - 1500, 1500, dst, 0, 4096);
    expect(Buffer.from(dst.subarray(0, 1500)).equals(Buffer.from(src.subarray(src.length - 1500)))).toBe(true);
    expect(dst.subarray(1500).every((b) => b === SENTINEL)).toBe(true);
    // The whole of a source (OrderBook.apply's batch).
    const batch = filled(700, 6);
    dst.fill(SENTINEL);
    c.copy(batch, 0, batch.length, dst, 24, 4000);
    expect(Buffer.from(dst.subarray(24, 724)).equals(Buffer.from(batch))).toBe(true);
    expect(dst.subarray(0, 24).every((b) => b === SENTINEL) && dst.subarray(724).every((b) => b === SENTINEL)).toBe(true);
  });

  it('a new source array, a new start, or new bytes in the same source: always the current bytes', () => {
    const c = new SpanCopier();
    const a = filled(8192, 3);
    const b = filled(8192, 4);
    for (const exact of [false, true]) {
      const copy = (src: Uint8Array, from: number, len: number, dst: Uint8Array) => (exact ? c.copyExact(src, from, len, dst, 0) : c.copy(src, from, len, dst, 0, dst.length));
      const check = (src: Uint8Array, from: number, len: number) => {
        const dst = new Uint8Array(8192);
        copy(src, from, len, dst);
        expect(Buffer.from(dst.subarray(0, len)).equals(Buffer.from(src.subarray(from, from + len))), `exact ${exact} from ${from} len ${len}`).toBe(true);
      };
      check(a, 0, 3000);
      check(b, 0, 3000); // same start, another array
      check(b, 8, 3000); // same array, another start
      check(b, 8, 2000);
      b[8 + 100] ^= 0xff; // the source's bytes changed under the kept views
      check(b, 8, 2000);
      check(a, 8, 5000);
    }
  });

  it('makes no view after warm-up: copies of lengths seen before reuse theirs', () => {
    const c = new SpanCopier();
    const src = filled(8192, 3);
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
