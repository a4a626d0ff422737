// Transmit: frames sent from where they lie in the memory as external buffers (see dpdk.cc
// "Transmit"); the free callback queues each frame for txDone().
#include "dpdk.h"

namespace wirewasm::dpdk {

void FreeTxSlot(void* addr, void* opaque) {
  TxSlot* s = static_cast<TxSlot*>(opaque);
  std::lock_guard<std::mutex> g(s->port->txMu);
  s->port->txDone.push_back(s->offset);
  s->port->txFree.push_back(s);
}

// transmit(id, queue, offsets: Uint32Array, lengths: Uint32Array) -> frames the PMD accepted. Each
// frame is sent from where it lies in the memory (an external buffer); txDone() reports it back.
Napi::Value Transmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.transmit: no such port (closed?)");
  const uint16_t q = uint16_t(info[1].As<Napi::Number>().Uint32Value());
  if (q >= p->queues.size()) return Throw(env, "dpdk.transmit: no queue " + std::to_string(q));
  Napi::Uint32Array offs = info[2].As<Napi::Uint32Array>(), lens = info[3].As<Napi::Uint32Array>();
  const size_t n = std::min<size_t>(std::min(offs.ElementLength(), lens.ElementLength()), MAX_BURST);
  rte_mbuf* pkts[MAX_BURST];
  size_t k = 0;
  for (; k < n; k++) {
    const uint32_t off = offs[k], len = lens[k];
    if (len == 0 || len > UINT16_MAX || size_t(off) + len > p->memLen) {
      for (size_t i = 0; i < k; i++) rte_pktmbuf_free(pkts[i]);
      return Throw(env, "dpdk.transmit: frame " + std::to_string(k) + " (" + std::to_string(off) + "+" + std::to_string(len) + ") is not inside the memory");
    }
    TxSlot* s;
    {
      std::lock_guard<std::mutex> t(p->txMu);
      if (p->txFree.empty()) {
        auto slab = std::make_unique<TxSlot[]>(256);
        for (int i = 0; i < 256; i++) p->txFree.push_back(&slab[i]);
        p->txSlabs.push_back(std::move(slab));
      }
      s = p->txFree.back();
      p->txFree.pop_back();
    }
    rte_mbuf* m = rte_pktmbuf_alloc(p->txHdr);
    if (!m) {
      std::lock_guard<std::mutex> t(p->txMu);
      p->txFree.push_back(s);
      break;
    }
    s->port = p;
    s->offset = off;
    s->shinfo.free_cb = FreeTxSlot;
    s->shinfo.fcb_opaque = s;
    rte_mbuf_ext_refcnt_set(&s->shinfo, 1);
    uint8_t* addr = p->base + off;
    rte_pktmbuf_attach_extbuf(m, addr, rte_iova_t(uintptr_t(addr)), uint16_t(len), &s->shinfo);
    m->data_off = 0;
    m->data_len = uint16_t(len);
    m->pkt_len = len;
    pkts[k] = m;
  }
  const uint16_t sent = rte_eth_tx_burst(p->portId, q, pkts, uint16_t(k));
  // Not accepted: freeing the header mbuf runs the callback, so txDone reports these too.
  for (size_t i = sent; i < k; i++) rte_pktmbuf_free(pkts[i]);
  return Napi::Number::New(env, sent);
}

Napi::Value TxDone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.txDone: no such port (closed?)");
  std::vector<uint32_t> done;
  {
    std::lock_guard<std::mutex> t(p->txMu);
    done.swap(p->txDone);
  }
  Napi::Uint32Array a = Napi::Uint32Array::New(env, done.size());
  for (size_t i = 0; i < done.size(); i++) a[i] = done[i];
  return a;
}

}  // namespace wirewasm::dpdk
