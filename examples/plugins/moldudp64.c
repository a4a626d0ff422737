/*
 * A wirewasm parser plugin (ABI v1, docs/plugins.md) in C: the same NASDAQ MoldUDP64 parser as
 * moldudp64.ts, built with Debian's clang and wasm-ld, no libc:
 *
 *   clang --target=wasm32 -O2 -nostdlib -fno-builtin -Wl,--no-entry \
 *     -Wl,--export=wirewasm_abi_v1 -Wl,--export=wirewasm_input \
 *     -Wl,--export=wirewasm_on_packet -Wl,--export=wirewasm_on_burst \
 *     -Wl,--initial-memory=393216 -Wl,--max-memory=1048576 -Wl,-z,stack-size=16384 \
 *     -o moldudp64-c.wasm moldudp64.c
 *
 * wasm-ld exports the module's own memory as "memory"; --max-memory gives it the maximum the host
 * requires. Isolated mode only: clang places its stack and globals at low addresses of the memory,
 * which in trusted mode would be the engine's.
 */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("wirewasm"), import_name(name)))
IMPORT("emit") void emit(const uint8_t *ptr, int32_t len, int32_t kind);
IMPORT("counter_add") void counter_add(int32_t id, int64_t delta);

/* The ABI v1 metadata block (64 bytes, little-endian) the host writes before each packet. */
struct wirewasm_meta {
  uint32_t ptype;
  uint16_t l2, l3, l4, payload;
  uint32_t flow_hash;
  uint64_t timestamp_ns;
  uint16_t queue, vlan;
  uint32_t wire_len, errors;
  uint32_t len, ptr, next;
  int32_t verdict;
  uint32_t mark;
  uint8_t reserved[8];
};
_Static_assert(sizeof(struct wirewasm_meta) == 64, "ABI v1 metadata block is 64 bytes");

enum { HEADER = 20, ERR_SHORT_HEADER = -1, ERR_TRUNCATED_BLOCK = -2 };

/* The input region: 256 KiB, 8-byte aligned, in this module's own memory. */
static uint64_t input[256 * 1024 / 8];

static inline uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

void wirewasm_abi_v1(void) {}

uint8_t *wirewasm_input(int32_t capacity) {
  return capacity <= (int32_t)sizeof input ? (uint8_t *)input : 0;
}

int32_t wirewasm_on_packet(const uint8_t *ptr, int32_t len, const struct wirewasm_meta *meta) {
  (void)meta;
  if (len < HEADER) return ERR_SHORT_HEADER;
  uint32_t count = be16(ptr + 18);
  if (count == 0 || count == 0xffff) return 0; /* heartbeat, end of session */
  int32_t p = HEADER;
  for (uint32_t i = 0; i < count; i++) {
    if (p + 2 > len) return ERR_TRUNCATED_BLOCK;
    int32_t n = (int32_t)be16(ptr + p);
    p += 2;
    if (n == 0 || p + n > len) return ERR_TRUNCATED_BLOCK;
    emit(ptr + p, n, ptr[p]);
    p += n;
  }
  counter_add(0, count);
  return 0;
}

/* Returns how many verdicts are not 0 (pass): with none, the host reads no verdicts. */
int32_t wirewasm_on_burst(int32_t count, struct wirewasm_meta *meta) {
  int32_t marked = 0;
  for (int32_t i = 0; i < count; i++) {
    meta->verdict = wirewasm_on_packet((const uint8_t *)(uintptr_t)meta->ptr, (int32_t)meta->len, meta);
    marked += meta->verdict != 0;
    meta = (struct wirewasm_meta *)(uintptr_t)meta->next;
  }
  return marked;
}
