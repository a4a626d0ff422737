// Receive: one poll thread per queue, from rx burst to the engine rx ring, and the return ring back
// into the mempool (see dpdk.cc "Receive").
#include "dpdk.h"

namespace wirewasm::dpdk {

// Frees frame f (engine index) and the segments linked after it in meta `next`; returns how many.
uint32_t FreeChain(Port* p, uint32_t f) {
  uint32_t n = 0;
  while (f != NEXT_NONE && f - p->frameBase < p->frames) {
    uint8_t* m = p->meta + size_t(f) * 64;
    uint32_t next;
    std::memcpy(&next, m + M_NEXT, 4);
    rte_pktmbuf_free_seg(MbufOf(p, f - p->frameBase));
    f = next;
    n++;
  }
  return n;
}

// Frames the engine released on queue Q's return ring, back into the mempool; returns how many.
// The ring's one consumer: the queue's poll thread, or the closing thread once that one stopped.
uint64_t DrainReturns(Queue* Q) {
  Port* p = Q->port;
  uint32_t back[MAX_BURST];
  rte_mbuf* backM[MAX_BURST];
  uint64_t total = 0;
  uint32_t k;
  while ((k = wirewasm::ring::dequeue(Q->ret, back, MAX_BURST)) != 0) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < k; i++) {
      uint32_t r = back[i] - p->frameBase;
      if (r < p->frames) backM[n++] = MbufOf(p, r);
      else Q->badReturns.fetch_add(1, std::memory_order_relaxed);
    }
    rte_pktmbuf_free_bulk(backM, n);
    Q->returned.fetch_add(n, std::memory_order_relaxed);
    total += n;
  }
  return total;
}

void Poll(Queue* Q) {
  Port* p = Q->port;
  rte_thread_register();
  rte_mbuf* pkts[MAX_BURST];
  uint32_t list[MAX_BURST];
  uint32_t idle = 0, sleepUs = 1;
  const uint32_t burst = p->burst;
  while (Q->run.load(std::memory_order_relaxed)) {
    // (1) Frames the engine released: back to the mempool before the PMD asks for more.
    DrainReturns(Q);
    // (2) Receive.
    const uint16_t n = rte_eth_rx_burst(p->portId, Q->q, pkts, uint16_t(burst));
    Q->polls.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) {
      Q->emptyPolls.fetch_add(1, std::memory_order_relaxed);
      if (p->adaptive && ++idle >= p->spinPolls) {
        timespec ts{0, long(sleepUs) * 1000};
        nanosleep(&ts, nullptr);
        Q->sleeps.fetch_add(1, std::memory_order_relaxed);
        if (sleepUs < p->maxSleepUs) sleepUs = std::min(sleepUs * 2, p->maxSleepUs);
      }
      continue;
    }
    idle = 0;
    sleepUs = 1;
    // (3) Metadata, one record per segment; a chain becomes meta `next` links of unchained mbufs,
    // each returned on its own (the engine frees a chain segment by segment).
    const uint64_t now = NowNs();
    const uint64_t rxNow = p->rxTime ? MonoNs() - p->rxClockBase : 0;
    uint64_t bytes = 0, segs = 0;
    for (uint16_t i = 0; i < n; i++) {
      rte_mbuf* head = pkts[i];
      const uint32_t wirelen = head->pkt_len;
      uint64_t ts = now;
      if (gTsField >= 0 && (head->ol_flags & gTsFlag)) ts = *RTE_MBUF_DYNFIELD(head, gTsField, uint64_t*);
      const uint32_t hash = (head->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? head->hash.rss : 0;
      const uint16_t vlan = (head->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ? (head->vlan_tci & 0x0fff) : VLAN_NONE;
      const uint32_t mark = (head->ol_flags & RTE_MBUF_F_RX_FDIR_ID) ? head->hash.fdir.hi : 0;
      for (rte_mbuf* s = head; s != nullptr;) {
        rte_mbuf* next = s->next;
        const uint32_t f = FrameOf(p, s) + p->frameBase;
        uint8_t* m = p->meta + size_t(f) * 64;
        put<uint32_t>(m + M_DATA, uint32_t(rte_pktmbuf_mtod(s, uint8_t*) - p->base));
        put<uint32_t>(m + M_CAPLEN, s->data_len);
        put<uint32_t>(m + M_WIRELEN, s == head ? wirelen : s->data_len);
        put<uint32_t>(m + M_PTYPE, 0);  // the parser classifies (assembly/ptype.ts has its own codes)
        put<uint64_t>(m + M_TIMESTAMP, ts);
        std::memset(m + M_L2, 0xff, M_VLAN0 - M_L2);  // layer offsets: the parser fills them
        put<uint16_t>(m + M_VLAN0, vlan);
        put<uint16_t>(m + M_VLAN1, VLAN_NONE);
        put<uint32_t>(m + M_HASH, hash);
        put<uint32_t>(m + M_ERRORS, 0);
        put<uint16_t>(m + M_QUEUE, Q->q);
        put<uint16_t>(m + M_LINKTYPE, LINKTYPE_ETHERNET);
        put<uint32_t>(m + M_MARK, mark);
        put<uint32_t>(m + M_REFCNT, 1);
        put<uint32_t>(m + M_NEXT, next ? FrameOf(p, next) + p->frameBase : NEXT_NONE);
        s->next = nullptr;
        s->nb_segs = 1;
        s->pkt_len = s->data_len;
        segs++;
        s = next;
      }
      list[i] = FrameOf(p, head) + p->frameBase;
      if (p->rxTime) put<uint64_t>(p->rxTime + size_t(list[i]) * 8, rxNow);
      bytes += wirelen;
    }
    // (4) Publish.
    bool wake = false;
    const uint32_t putN = wirewasm::ring::enqueue(Q->rx, list, n, &wake);
    uint32_t freed = 0;
    for (uint32_t i = putN; i < n; i++) freed += FreeChain(p, list[i]);
    if (putN < n) {
      Q->ringFull.fetch_add(n - putN, std::memory_order_relaxed);
      Q->freed.fetch_add(freed, std::memory_order_relaxed);
    }
    Q->packets.fetch_add(n, std::memory_order_relaxed);
    Q->bytes.fetch_add(bytes, std::memory_order_relaxed);
    Q->segments.fetch_add(segs, std::memory_order_relaxed);
    if (wake && p->hasNotify) {
      Q->wakeups.fetch_add(1, std::memory_order_relaxed);
      p->notify.NonBlockingCall(reinterpret_cast<void*>(uintptr_t(Q->rx - p->base) + wirewasm::ring::P_TAIL),
                                [](Napi::Env env, Napi::Function fn, void* off) {
                                  fn.Call({Napi::Number::New(env, double(uintptr_t(off)))});
                                });
    }
  }
  rte_thread_unregister();
}

void StopQueues(Port* p) {
  for (auto& q : p->queues) q->run.store(false);
  for (auto& q : p->queues)
    if (q->th.joinable()) q->th.join();
}

}  // namespace wirewasm::dpdk
