// Copies between two memories (no shared buffer, so no copyWithin) without a view object per
// copy: set() needs a source view exactly as long as the copy, and a subarray() per burst is
// garbage at the burst rate. Views of the source from one fixed start are kept, one per length
// in whole STEPs, so after warm-up a copy allocates nothing. copy() may carry up to STEP - 1 bytes
// past the ones asked for; copyExact() writes the part past the last whole STEP byte by byte, for
// a destination that must not see what the source holds after them (an isolated plugin).

const STEP = 1024;

export class SpanCopier {
  private src: Uint8Array | null = null;
  private from = -1;
  private views: Uint8Array[] = [];

  /**
   * Copies src[from, from + len) to dst at `to`, and maybe up to STEP - 1 bytes after them:
   * `dstRoom` bytes from `to` may be written (the copy is exact when the rounded length does not
   * fit there or in src).
   */
  copy(src: Uint8Array, from: number, len: number, dst: Uint8Array, to: number, dstRoom: number): void {
    const k = Math.ceil(len / STEP);
    if (k * STEP > dstRoom || from + k * STEP > src.length) {
      dst.set(src.subarray(from, from + len), to);
      return;
    }
    dst.set(this.view(src, from, k), to);
  }

  /** Copies src[from, from + len) to dst at `to`, and nothing else. */
  copyExact(src: Uint8Array, from: number, len: number, dst: Uint8Array, to: number): void {
    const k = Math.floor(len / STEP);
    if (k > 0) dst.set(this.view(src, from, k), to);
    for (let i = k * STEP; i < len; i++) dst[to + i] = src[from + i];
  }

  /** src[from, from + k * STEP), kept for the next call with the same src and from. */
  private view(src: Uint8Array, from: number, k: number): Uint8Array {
    if (src !== this.src || from !== this.from) {
      this.src = src;
      this.from = from;
      this.views = [];
    }
    return (this.views[k] ??= src.subarray(from, from + k * STEP));
  }
}
