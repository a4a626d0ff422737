// Copies between two memories (no shared buffer, so no copyWithin) without a view object per
// copy: set() needs a source view exactly as long as the copy, and a subarray() per burst is
// garbage at the burst rate. Views of the source from one fixed start are kept, one per length
// in whole steps, so after warm-up a copy allocates nothing.
//
// copy() rounds up to STEP: it may carry up to STEP - 1 bytes past the ones asked for, and keeps
// at most one view per STEP of length. copyExact() is for a destination that must not see what the
// source holds past the bytes asked for (an isolated plugin): whole FINE steps through a kept view
// (at most one per FINE bytes of length), then the tail of under FINE bytes by words and bytes.

const STEP = 1024;
const FINE = 64;

export class SpanCopier {
  private src: Uint8Array | null = null;
  private from = -1;
  private views: Uint8Array[] = [];
  private fine: Uint8Array[] = [];
  private srcOf: Uint8Array | null = null;
  private srcWords: Int32Array | null = null;
  private dstOf: Uint8Array | null = null;
  private dstWords: Int32Array | null = null;

  /**
   * Copies src[from, from + len) to dst at `to`, and maybe up to STEP - 1 bytes after them:
   * `dstRoom` bytes from `to` may be written (the copy is exact when the rounded length does not
   * fit there or in src).
   */
  copy(src: Uint8Array, from: number, len: number, dst: Uint8Array, to: number, dstRoom: number): void {
    if (from === 0 && len === src.length) {
      dst.set(src, to); // the whole source: no view needed
      return;
    }
    const k = Math.ceil(len / STEP);
    if (k * STEP > dstRoom || from + k * STEP > src.length) {
      dst.set(src.subarray(from, from + len), to);
      return;
    }
    this.at(src, from);
    dst.set((this.views[k] ??= src.subarray(from, from + k * STEP)), to);
  }

  /** Copies src[from, from + len) to dst at `to`, and nothing else. */
  copyExact(src: Uint8Array, from: number, len: number, dst: Uint8Array, to: number): void {
    const k = Math.floor(len / FINE);
    let i = k * FINE;
    if (k > 0) {
      this.at(src, from);
      dst.set((this.fine[k] ??= src.subarray(from, from + i)), to);
    }
    // The tail by 4-byte words when both ends are aligned (the gather area and the plugins' inputs are).
    const a = src.byteOffset + from + i;
    const b = dst.byteOffset + to + i;
    if (((a | b) & 3) === 0 && len - i >= 4) {
      // Word views made again only for another byte view (reading .buffer costs more than the copy).
      if (src !== this.srcOf) this.srcWords = new Int32Array(src.buffer, 0, (this.srcOf = src).buffer.byteLength >> 2);
      if (dst !== this.dstOf) this.dstWords = new Int32Array(dst.buffer, 0, (this.dstOf = dst).buffer.byteLength >> 2);
      const sw = this.srcWords!;
      const dw = this.dstWords!;
      const words = (len - i) >> 2;
      for (let w = 0, x = a >> 2, y = b >> 2; w < words; w++) dw[y + w] = sw[x + w];
      i += 4 * words;
    }
    for (; i < len; i++) dst[to + i] = src[from + i];
  }

  /** Drops the kept views when the source or the start changes. */
  private at(src: Uint8Array, from: number): void {
    if (src !== this.src || from !== this.from) {
      this.src = src;
      this.from = from;
      this.views = [];
      this.fine = [];
    }
  }
}
