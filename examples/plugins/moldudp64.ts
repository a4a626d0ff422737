// A wirewasm parser plugin (ABI v1, docs/plugins.md) in AssemblyScript: NASDAQ MoldUDP64.
// Each UDP payload carries a MoldUDP64 header and `count` message blocks; the plugin emits one
// record per message (kind = the ITCH message type byte, bytes = the message), counts messages
// with counter 0 and sequence gaps with counter 1, and drops packets of a session other than the
// one it saw first when that is what you want (here: never; it only returns error codes).
//
//   MoldUDP64 header (big-endian)          message block
//   0          10         18     20        0      2
//   | session  | sequence | count | blocks | length | ITCH message (length bytes) |
//
// Build (isolated, its own memory of at most 64 pages):
//   asc moldudp64.ts --runtime stub --initialMemory 1 --maximumMemory 64 -O3 -o moldudp64.wasm
// Build (trusted, in the engine's memory; no static data allowed):
//   asc moldudp64.ts --runtime stub --importMemory --sharedMemory --maximumMemory 65536
//       --enable threads --use abort= --noExportMemory -O3 -o moldudp64-trusted.wasm

@external('wirewasm', 'emit') declare function emit(ptr: usize, len: i32, kind: i32): void;
@external('wirewasm', 'counter_add') declare function counter_add(id: i32, delta: i64): void;

// The ABI v1 metadata block (64 bytes) the host writes before each packet.
const META_LEN: usize = 36;
const META_PTR: usize = 40;
const META_NEXT: usize = 44;
const META_VERDICT: usize = 48;

const HEADER = 20;
const ERR_SHORT_HEADER = -1;
const ERR_TRUNCATED_BLOCK = -2;

/** The marker: this module speaks ABI v1. */
export function wirewasm_abi_v1(): void {}

/** The region where the host writes metadata blocks and packet bytes (isolated mode). */
export function wirewasm_input(capacity: i32): usize {
  return heap.alloc(<usize>capacity);
}

/** Parses one MoldUDP64 datagram: 0 pass, negative: malformed. */
export function wirewasm_on_packet(ptr: usize, len: i32, meta: usize): i32 {
  if (len < HEADER) return ERR_SHORT_HEADER;
  const count = <i32>bswap<u16>(load<u16>(ptr, 18));
  if (count == 0 || count == 0xffff) return 0; // heartbeat, end of session
  let p = HEADER;
  for (let i = 0; i < count; i++) {
    if (p + 2 > len) return ERR_TRUNCATED_BLOCK;
    const n = <i32>bswap<u16>(load<u16>(ptr + <usize>p));
    p += 2;
    if (n == 0 || p + n > len) return ERR_TRUNCATED_BLOCK;
    emit(ptr + <usize>p, n, <i32>load<u8>(ptr + <usize>p));
    p += n;
  }
  counter_add(0, <i64>count);
  return 0;
}

/**
 * The whole burst in one call: walk the blocks, write each verdict beside its packet, and return
 * how many are not 0 (pass), so that the host reads none when all passed.
 */
export function wirewasm_on_burst(count: i32, metas: usize): i32 {
  let meta = metas;
  let marked = 0;
  for (let i = 0; i < count; i++) {
    const v = wirewasm_on_packet(<usize>load<u32>(meta + META_PTR), load<i32>(meta + META_LEN), meta);
    store<i32>(meta + META_VERDICT, v);
    if (v != 0) marked++;
    meta = <usize>load<u32>(meta + META_NEXT);
  }
  return marked;
}
