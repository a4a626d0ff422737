// The engine's clock: nanoseconds since the engine's start, the same in every thread, read without
// allocating. process.hrtime() returns a fresh array and hrtime.bigint() a BigInt on every call:
// at a few hundred thousand polls a second per worker that is megabytes of garbage a second, and
// the collector's helper threads then take the very cores the workers poll on.
// performance.timeOrigin + performance.now() is one monotonic clock in every thread of a process
// (each thread's origin is taken from it); subtracting the engine's base keeps the value small
// enough for a double to hold nanoseconds exactly.

/** The base every thread of one engine subtracts: the main thread's reading at setup, in ms. */
export const clockBase = (): number => performance.timeOrigin + performance.now();

/** A function returning ns since `base` (ms, from clockBase()). */
export function engineClock(base: number): () => number {
  const offset = performance.timeOrigin - base;
  return () => (offset + performance.now()) * 1e6;
}
