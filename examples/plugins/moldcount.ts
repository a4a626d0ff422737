// The smallest useful plugin: validates MoldUDP64 framing and counts messages, no records. The
// plugin bench (bench/suites/plugin.ts) runs it isolated and trusted, and runs `engine_parse`, the
// same parse called directly over the engine's own metadata records, as the in-engine reference.

const META_LEN: usize = 36;
const META_PTR: usize = 40;
const META_NEXT: usize = 44;
const META_VERDICT: usize = 48;

export function wirewasm_abi_v1(): void {}

export function wirewasm_input(capacity: i32): usize {
  return heap.alloc(<usize>capacity);
}

/** Messages in a MoldUDP64 datagram, or -1 when its framing is broken. */
@inline function messages(ptr: usize, len: i32): i32 {
  if (len < 20) return -1;
  const count = <i32>bswap<u16>(load<u16>(ptr, 18));
  if (count == 0xffff) return 0;
  let p = 20;
  for (let i = 0; i < count; i++) {
    if (p + 2 > len) return -1;
    p += 2 + <i32>bswap<u16>(load<u16>(ptr + <usize>p));
    if (p > len) return -1;
  }
  return count;
}

export function wirewasm_on_packet(ptr: usize, len: i32, meta: usize): i32 {
  return messages(ptr, len) < 0 ? -1 : 0;
}

export function wirewasm_on_burst(count: i32, metas: usize): i32 {
  let meta = metas;
  let marked = 0;
  for (let i = 0; i < count; i++) {
    const bad = messages(<usize>load<u32>(meta + META_PTR), load<i32>(meta + META_LEN)) < 0;
    store<i32>(meta + META_VERDICT, bad ? -1 : 0);
    marked += <i32>bad;
    meta = <usize>load<u32>(meta + META_NEXT);
  }
  return marked;
}

/**
 * In-engine reference (trusted build only: it reads the engine's metadata records, data @0,
 * caplen @4, payload offset @30): total messages in the burst.
 */
export function engine_parse(metaList: usize, count: i32): i32 {
  let total = 0;
  for (let i = 0; i < count; i++) {
    const m = <usize>load<u32>(metaList + (<usize>i << 2));
    const payload = <u32>load<u16>(m, 30);
    const n = messages(<usize>load<u32>(m) + payload, <i32>(load<u32>(m, 4) - payload));
    if (n > 0) total += n;
  }
  return total;
}
