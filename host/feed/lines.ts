// The feed client's receive-loop helpers (host/feed/client.ts): the A/B idle wait on both lines,
// and views of a memory kept across bursts.
import type { PayloadBackend } from '../backends/socket.js';

/** A/B: how long one line's kernel wait lasts before the other line's is looked at. */
const LINE_SLICE_MS = 0.02;

/**
 * A/B: waits until either line has data (or `ms` passed). A datagram only the idle line carries
 * must not sit out the other line's whole wait: the event-driven socket backend races both waits;
 * io_uring alternates short kernel waits on the two rings, so a copy on either wakes the loop within
 * a slice. io_uring returns null when data came (no promise: the loop goes straight on) and a turn
 * of the event loop to await when `ms` passed without any.
 */
export function waitLines(a: PayloadBackend, b: PayloadBackend, ms: number): Promise<unknown> | null {
  if (a.name === 'socket') return Promise.race([a.waitAsync(0, ms), b.waitAsync(0, ms)]);
  const end = performance.now() + ms;
  do if (a.wait(0, LINE_SLICE_MS) || b.wait(0, LINE_SLICE_MS)) return null;
  while (performance.now() < end);
  return new Promise((res) => setImmediate(res));
}

/**
 * Byte and DataView views of a memory, made again only when its buffer changes (a grow): the
 * receive loop reads and writes metadata every burst and must not allocate views for it.
 */
export function memoryViews(memory: WebAssembly.Memory): { u8: Uint8Array; i32: Int32Array; dv: DataView; fresh(): { u8: Uint8Array; i32: Int32Array; dv: DataView } } {
  return {
    u8: new Uint8Array(memory.buffer),
    i32: new Int32Array(memory.buffer),
    dv: new DataView(memory.buffer),
    fresh() {
      if (this.u8.buffer !== memory.buffer) {
        this.u8 = new Uint8Array(memory.buffer);
        this.i32 = new Int32Array(memory.buffer);
        this.dv = new DataView(memory.buffer);
      }
      return this;
    },
  };
}
