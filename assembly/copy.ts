// Short copies inside the engine memory. memory.copy leaves the compiled code for a call into the
// runtime (on a shared memory V8 takes its slow, atomic-safe path), which costs more than the copy
// itself for frame-sized runs; v128 loads and stores stay inline.

/**
 * Copies exactly n bytes from s to d (never reads or writes past them; the ranges do not overlap).
 * Up to 256 bytes with v128 loads and stores, the last one overlapping; beyond that memory.copy's
 * bulk copy wins.
 */
@inline export function copyBytes(d: usize, s: usize, n: u32): void {
  if (n > 256) {
    memory.copy(d, s, n);
  } else if (n >= 16) {
    let i: u32 = 0;
    for (; i + 16 <= n; i += 16) v128.store(d + i, v128.load(s + i));
    if (i < n) v128.store(d + n - 16, v128.load(s + n - 16));
  } else if (n >= 8) {
    store<u64>(d, load<u64>(s));
    store<u64>(d + n - 8, load<u64>(s + n - 8));
  } else if (n >= 4) {
    store<u32>(d, load<u32>(s));
    store<u32>(d + n - 4, load<u32>(s + n - 4));
  } else {
    for (let i: u32 = 0; i < n; i++) store<u8>(d + i, load<u8>(s + i));
  }
}
