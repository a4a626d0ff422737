// The ceiling for `npm run bench -- ring`: a single-producer single-consumer ring in C11 with the
// same design as wirewasm's SPSC ring (power-of-two slots, free-running u32 indexes, producer and
// consumer on their own cache lines, each side caching the other's index, one release store per
// burst) but with acquire/release atomics instead of WASM's sequentially consistent ones.
// Built with -DSEQ_CST the publishes become sequentially consistent stores (xchg on x86), which is
// all WASM offers: that build measures what the WASM memory model alone costs a ring.
// Built by bench/suites/ring.ts into .bench-cache/. Usage: ring-spsc ITEMS BURST RUNS
// Prints one JSON line: {"burst":B,"items":N,"itemsPerSec":[...],"errors":E}
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef SEQ_CST
#define PUBLISH memory_order_seq_cst
#else
#define PUBLISH memory_order_release
#endif

#define SLOTS 4096u
#define MASK (SLOTS - 1)
#define MAX_BURST 256

struct ring {
  _Alignas(64) _Atomic uint32_t prod_tail;
  uint32_t cached_cons_tail; /* producer-private */
  _Alignas(64) _Atomic uint32_t cons_tail;
  uint32_t cached_prod_tail; /* consumer-private */
  _Alignas(64) uint32_t slots[SLOTS];
};

static struct ring ring;
static uint32_t items, burst;
static _Atomic int go;
static uint64_t errors;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint32_t enqueue(const uint32_t *src, uint32_t n) {
  uint32_t head = atomic_load_explicit(&ring.prod_tail, memory_order_relaxed);
  uint32_t free = SLOTS + ring.cached_cons_tail - head;
  if (free < n) {
    ring.cached_cons_tail = atomic_load_explicit(&ring.cons_tail, memory_order_acquire);
    free = SLOTS + ring.cached_cons_tail - head;
  }
  if (n > free) n = free;
  for (uint32_t i = 0; i < n; i++) ring.slots[(head + i) & MASK] = src[i];
  atomic_store_explicit(&ring.prod_tail, head + n, PUBLISH);
  return n;
}

static uint32_t dequeue(uint32_t *dst, uint32_t n) {
  uint32_t head = atomic_load_explicit(&ring.cons_tail, memory_order_relaxed);
  uint32_t avail = ring.cached_prod_tail - head;
  if (avail < n) {
    ring.cached_prod_tail = atomic_load_explicit(&ring.prod_tail, memory_order_acquire);
    avail = ring.cached_prod_tail - head;
  }
  if (n > avail) n = avail;
  for (uint32_t i = 0; i < n; i++) dst[i] = ring.slots[(head + i) & MASK];
  atomic_store_explicit(&ring.cons_tail, head + n, PUBLISH);
  return n;
}

static void *producer(void *arg) {
  (void)arg;
  uint32_t buf[MAX_BURST];
  while (!atomic_load(&go)) {}
  for (uint32_t seq = 0; seq < items;) {
    uint32_t k = items - seq < burst ? items - seq : burst;
    for (uint32_t i = 0; i < k; i++) buf[i] = seq + i;
    seq += enqueue(buf, k);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s ITEMS BURST RUNS\n", argv[0]);
    return 2;
  }
  items = (uint32_t)strtoul(argv[1], NULL, 10);
  burst = (uint32_t)strtoul(argv[2], NULL, 10);
  int runs = atoi(argv[3]);
  if (burst < 1 || burst > MAX_BURST) return 2;
  printf("{\"burst\":%u,\"items\":%u,\"itemsPerSec\":[", burst, items);
  for (int r = 0; r < runs; r++) {
    atomic_store(&ring.prod_tail, 0);
    atomic_store(&ring.cons_tail, 0);
    ring.cached_cons_tail = ring.cached_prod_tail = 0;
    atomic_store(&go, 0);
    pthread_t p;
    pthread_create(&p, NULL, producer, NULL);
    uint32_t buf[MAX_BURST];
    atomic_store(&go, 1);
    double t0 = now();
    for (uint32_t expected = 0; expected < items;) {
      uint32_t k = dequeue(buf, burst);
      if (k) {
        /* Same check as the JS peers: first and last item of each burst. */
        if (buf[0] != expected || buf[k - 1] != expected + k - 1) errors++;
        expected += k;
      }
    }
    double t = now() - t0;
    pthread_join(p, NULL);
    printf("%s%.0f", r ? "," : "", items / t);
  }
  printf("],\"errors\":%llu}\n", (unsigned long long)errors);
  return 0;
}
