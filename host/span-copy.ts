// Copies between two memories (no shared buffer, so no copyWithin) without a view object per
// copy: set() needs a source view exactly as long as the copy, and a subarray() per burst is
// garbage at the burst rate. Views of the source from one fixed start are kept, one per length
// rounded up to STEP, so after warm-up a copy allocates nothing; it may carry up to STEP - 1 bytes
// past the ones asked for.

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
    const n = k * STEP;
    if (n > dstRoom || from + n > src.length) {
      dst.set(src.subarray(from, from + len), to);
      return;
    }
    if (src !== this.src || from !== this.from) {
      this.src = src;
      this.from = from;
      this.views = [];
    }
    const v = (this.views[k] ??= src.subarray(from, from + n));
    dst.set(v, to);
  }
}
