// Transmit: frames sent from where they lie in the memory as external buffers (see dpdk.cc
// "Transmit"); the free callback queues each frame for txDone().
#include "dpdk.h"

namespace wirewasm::dpdk {

void FreeTxSlot(void* addr, void* opaque) {
  TxSlot* s = static_cast<TxSlot*>(opaque);
  std::lock_guard<std::mutex> g(s->port->txMu);
  if (!s->refused) s->port->txDone.push_back(s->tag);
  s->port->txFree.push_back(s);
}

// transmit(id, queue, offsets: Uint32Array, lengths: Uint32Array, tags?: Uint32Array, n?) -> frames
// the PMD accepted: the first ones, in order. Each frame is sent from where it lies in the memory
// (an external buffer); once the PMD is done with it, txDone() reports its tag (default: its
// offset). Frames not accepted stay the caller's and are not reported.
Napi::Value Transmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.transmit: no such port (closed?)");
  const uint16_t q = uint16_t(info[1].As<Napi::Number>().Uint32Value());
  if (q >= p->queues.size()) return Throw(env, "dpdk.transmit: no queue " + std::to_string(q));
  Napi::Uint32Array offs = info[2].As<Napi::Uint32Array>(), lens = info[3].As<Napi::Uint32Array>();
  const bool tagged = info.Length() > 4 && info[4].IsTypedArray();
  Napi::Uint32Array tags = tagged ? info[4].As<Napi::Uint32Array>() : offs;
  size_t n = std::min<size_t>(std::min(offs.ElementLength(), lens.ElementLength()), MAX_BURST);
  if (tagged) n = std::min(n, tags.ElementLength());
  if (info.Length() > 5 && info[5].IsNumber()) n = std::min<size_t>(n, info[5].As<Napi::Number>().Uint32Value());
  rte_mbuf* pkts[MAX_BURST];
  size_t k = 0;
  for (; k < n; k++) {
    const uint32_t off = offs[k], len = lens[k];
    if (len == 0 || len > UINT16_MAX || size_t(off) + len > p->memLen) {
      for (size_t i = 0; i < k; i++) {
        static_cast<TxSlot*>(pkts[i]->shinfo->fcb_opaque)->refused = true;
        rte_pktmbuf_free(pkts[i]);
      }
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
    s->tag = tags[k];
    s->refused = false;
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
  // Not accepted: the caller keeps these frames; the header mbufs and slots go back unreported.
  for (size_t i = sent; i < k; i++) {
    static_cast<TxSlot*>(pkts[i]->shinfo->fcb_opaque)->refused = true;
    rte_pktmbuf_free(pkts[i]);
  }
  return Napi::Number::New(env, sent);
}

// txDone(id) -> Uint32Array of every tag done since the last call; txDone(id, into: Uint32Array)
// -> how many tags it wrote into `into` (the rest wait for the next call; nothing is allocated).
Napi::Value TxDone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.txDone: no such port (closed?)");
  std::lock_guard<std::mutex> t(p->txMu);
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    Napi::Uint32Array into = info[1].As<Napi::Uint32Array>();
    const size_t n = std::min(into.ElementLength(), p->txDone.size());
    std::memcpy(into.Data(), p->txDone.data(), n * 4);
    p->txDone.erase(p->txDone.begin(), p->txDone.begin() + n);
    return Napi::Number::New(env, double(n));
  }
  Napi::Uint32Array a = Napi::Uint32Array::New(env, p->txDone.size());
  std::memcpy(a.Data(), p->txDone.data(), p->txDone.size() * 4);
  p->txDone.clear();
  return a;
}

// counters(id, out: Float64Array) -> queues: per queue q, out[3q..3q+2] = packets received, their
// wire bytes, and those the rx ring had no room for. No allocation: the engine reads it every round.
Napi::Value Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.counters: no such port (closed?)");
  if (info.Length() < 2 || !info[1].IsTypedArray()) return Throw(env, "dpdk.counters: expects a Float64Array");
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  const size_t nq = std::min(p->queues.size(), out.ElementLength() / 3);
  for (size_t q = 0; q < nq; q++) {
    out[3 * q] = double(p->queues[q]->packets.load());
    out[3 * q + 1] = double(p->queues[q]->bytes.load());
    out[3 * q + 2] = double(p->queues[q]->ringFull.load());
  }
  return Napi::Number::New(env, double(nq));
}

}  // namespace wirewasm::dpdk
