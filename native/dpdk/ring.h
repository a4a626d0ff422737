// A native producer and consumer for the rings of assembly/ring.ts, so a DPDK poll thread can put
// received frames on an engine rx ring and take released frames off a return ring without calling
// into JS or WASM. The ring's layout and protocol are the ones documented in assembly/ring.ts; this
// file follows them exactly:
//
//   ring+0    config   { magic "RNG1", slots, mask, capacity, slot bytes, flags }   read-only
//   ring+64   producer { head, tail, cached consumer tail, enqueued u64, full u64 }
//   ring+128  consumer { head, tail, cached producer tail, dequeued u64, empty u64 }
//   ring+192  waiters  { consumers waiting, producers waiting, wakeups sent u64 }
//   ring+256  slots    (u32 here: frame indexes)
//
// Indexes are free-running u32; slot = index & mask. Memory order: WASM atomics are sequentially
// consistent (V8 on x86: xchg for a store, plain mov for a load), so every access the AssemblyScript
// side makes atomically is a __ATOMIC_SEQ_CST access here too; the plain stores of ring.ts are
// relaxed stores of the same width.
//   producer  reserve: room = capacity + cached consumer tail - head, re-read C_TAIL only when short;
//             MP flag: claim [head, head+k) by compare-and-swap on P_HEAD, else store P_HEAD;
//             copy the slots; MP: wait for P_TAIL == our head; P_ENQUEUED += k;
//             publish: seq-cst store P_TAIL = head + k (orders the slot writes before it).
//   consumer  (single consumer only: a return ring has one reader, its queue's poll thread)
//             avail = cached producer tail - head, re-read P_TAIL only when short; copy out;
//             store C_HEAD; C_DEQUEUED += k; release: seq-cst store C_TAIL = head + k.
// A ring flagged adaptive (RING_F_ADAPTIVE) may have a WASM thread asleep in memory.atomic.wait32
// on the tail we publish; V8 keeps those waiters in its own futex table, which native code cannot
// signal. publish() returns true when the waiters word says someone sleeps, and the caller hands
// the wake-up to a JS thread (Atomics.notify).
#pragma once
#include <cstdint>
#include <cstring>

namespace wirewasm::ring {

constexpr uint32_t MAGIC = 0x31474e52;
constexpr uint32_t F_MP = 1, F_MC = 2, F_ADAPTIVE = 4;
constexpr size_t R_MAGIC = 0, R_SLOTS = 4, R_MASK = 8, R_CAPACITY = 12, R_SLOT_BYTES = 16, R_FLAGS = 20;
constexpr size_t P_HEAD = 64, P_TAIL = 68, P_CACHED_CONS_TAIL = 72, P_ENQUEUED = 80, P_FULL = 88;
constexpr size_t C_HEAD = 128, C_TAIL = 132, C_CACHED_PROD_TAIL = 136, C_DEQUEUED = 144, C_EMPTY = 152;
constexpr size_t W_CONSUMERS = 192, W_PRODUCERS = 196;
constexpr size_t HEADER = 256;

template <typename T>
inline T* at(uint8_t* r, size_t off) {
  return reinterpret_cast<T*>(r + off);
}
inline uint32_t ld(uint8_t* r, size_t off) { return __atomic_load_n(at<uint32_t>(r, off), __ATOMIC_SEQ_CST); }
inline void st(uint8_t* r, size_t off, uint32_t v) { __atomic_store_n(at<uint32_t>(r, off), v, __ATOMIC_SEQ_CST); }
inline uint32_t plain(uint8_t* r, size_t off) { return __atomic_load_n(at<uint32_t>(r, off), __ATOMIC_RELAXED); }
inline void setPlain(uint8_t* r, size_t off, uint32_t v) { __atomic_store_n(at<uint32_t>(r, off), v, __ATOMIC_RELAXED); }
inline void add64(uint8_t* r, size_t off, uint64_t k, bool shared) {
  if (shared) __atomic_fetch_add(at<uint64_t>(r, off), k, __ATOMIC_SEQ_CST);
  else __atomic_store_n(at<uint64_t>(r, off), __atomic_load_n(at<uint64_t>(r, off), __ATOMIC_RELAXED) + k, __ATOMIC_RELAXED);
}

/** A ring usable by this file: formatted (magic visible) with u32 slots. */
inline bool valid(uint8_t* r) { return ld(r, R_MAGIC) == MAGIC && plain(r, R_SLOT_BYTES) == 4; }

/** Free slots by the producer's view (exact when the consumer is idle). */
inline uint32_t room(uint8_t* r) { return plain(r, R_CAPACITY) - (ld(r, P_HEAD) - ld(r, C_TAIL)); }

/**
 * Enqueues up to n u32 from src; returns how many went in (fewer when the ring is full). Sets
 * *wake when an adaptive consumer is asleep and must be notified on ring+P_TAIL.
 */
inline uint32_t enqueue(uint8_t* r, const uint32_t* src, uint32_t n, bool* wake) {
  *wake = false;
  if (n == 0) return 0;
  const uint32_t capacity = plain(r, R_CAPACITY), flags = plain(r, R_FLAGS), mask = plain(r, R_MASK);
  const bool mp = flags & F_MP;
  uint32_t head, k;
  for (;;) {
    head = mp ? ld(r, P_HEAD) : plain(r, P_HEAD);
    uint32_t freeSlots = capacity + (mp ? ld(r, P_CACHED_CONS_TAIL) : plain(r, P_CACHED_CONS_TAIL)) - head;
    if (freeSlots < n || freeSlots > capacity) {
      const uint32_t consTail = ld(r, C_TAIL);
      setPlain(r, P_CACHED_CONS_TAIL, consTail);
      freeSlots = capacity + consTail - head;
    }
    k = n <= freeSlots ? n : freeSlots;
    if (k == 0) {
      add64(r, P_FULL, 1, mp);
      return 0;
    }
    if (!mp) break;
    uint32_t expected = head;
    if (__atomic_compare_exchange_n(at<uint32_t>(r, P_HEAD), &expected, head + k, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
  }
  uint32_t* slots = at<uint32_t>(r, HEADER);
  for (uint32_t i = 0; i < k; i++) slots[(head + i) & mask] = src[i];
  if (mp) {
    while (ld(r, P_TAIL) != head) __builtin_ia32_pause();
  } else {
    setPlain(r, P_HEAD, head + k);
  }
  add64(r, P_ENQUEUED, k, false);
  st(r, P_TAIL, head + k);
  if ((flags & F_ADAPTIVE) && ld(r, W_CONSUMERS) != 0) *wake = true;
  return k;
}

/** Dequeues up to n u32 into dst (single consumer); returns how many. */
inline uint32_t dequeue(uint8_t* r, uint32_t* dst, uint32_t n) {
  if (n == 0) return 0;
  const uint32_t mask = plain(r, R_MASK);
  const uint32_t head = plain(r, C_HEAD);
  uint32_t avail = plain(r, C_CACHED_PROD_TAIL) - head;
  if (avail < n || avail > plain(r, R_CAPACITY)) {
    const uint32_t prodTail = ld(r, P_TAIL);
    setPlain(r, C_CACHED_PROD_TAIL, prodTail);
    avail = prodTail - head;
  }
  const uint32_t k = n <= avail ? n : avail;
  if (k == 0) {
    add64(r, C_EMPTY, 1, false);
    return 0;
  }
  const uint32_t* slots = at<uint32_t>(r, HEADER);
  for (uint32_t i = 0; i < k; i++) dst[i] = slots[(head + i) & mask];
  setPlain(r, C_HEAD, head + k);
  add64(r, C_DEQUEUED, k, false);
  st(r, C_TAIL, head + k);
  return k;
}

}  // namespace wirewasm::ring
