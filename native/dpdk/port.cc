// Ports: open (external memory, the mempool over the WASM region, queues, poll threads), close,
// stats and the kernel sockets of AF_PACKET / AF_XDP PMDs (see dpdk.cc "Memory" and "Teardown").
#include "dpdk.h"

namespace wirewasm::dpdk {

std::set<int> SocketFds() {
  std::set<int> out;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int fd = atoi(e->d_name);
    if (fd <= 2) continue;
    int dom = 0;
    socklen_t l = sizeof dom;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 && (dom == AF_PACKET || dom == AF_XDP)) out.insert(fd);
  }
  closedir(d);
  return out;
}

// Kernel-side drops of the PMD's sockets: the PMDs' imissed misses them.
void KernelDrops(Port* p, uint64_t* xdpDrops, uint64_t* xdpInvalid) {
  *xdpDrops = *xdpInvalid = 0;
  for (int fd : p->kernelFds) {
    int dom = 0;
    socklen_t l = sizeof dom;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) != 0) continue;
    if (dom == AF_PACKET) {
      tpacket_stats_v3 s{};
      l = sizeof s;
      if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0) {
        p->packetDrops += s.tp_drops;
        if (l >= sizeof s) p->packetFreezes += s.tp_freeze_q_cnt;
      }
    } else if (dom == AF_XDP) {
      xdp_statistics s{};
      l = sizeof s;
      if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &s, &l) == 0) {
        *xdpDrops += s.rx_dropped + s.rx_ring_full + s.rx_fill_ring_empty_descs;
        *xdpInvalid += s.rx_invalid_descs;
      }
    }
  }
}

// Undoes whatever open() got to, in reverse order. Safe to call twice. `drainReturns` (a close
// from JS, so the memory is alive): frames released since the poll threads stopped go back into
// the mempool first, so that `lastInUse` counts only mbufs nobody gave back.
void Destroy(Port* p, bool drainReturns) {
  StopQueues(p);
  if (drainReturns && p->mp)
    for (auto& q : p->queues) DrainReturns(q.get());
  if (p->portId < RTE_MAX_ETHPORTS) {
    uint64_t a, b;
    KernelDrops(p, &a, &b);
    if (p->started) {
      rte_eth_promiscuous_disable(p->portId);
      rte_eth_dev_stop(p->portId);
    }
    rte_eth_dev_close(p->portId);
    p->started = false;
    p->portId = RTE_MAX_ETHPORTS;
  }
  p->kernelFds.clear();
  // After the port closed, the PMD holds no mbuf any more: what is still out was never released.
  if (p->mp) p->lastInUse = rte_mempool_in_use_count(p->mp);
  if (p->probed) {
    if (p->vdev) rte_vdev_uninit(p->devName.c_str());
    else if (p->dev) rte_dev_remove(p->dev);
    p->probed = false;
  }
  if (p->txHdr) rte_mempool_free(p->txHdr);
  p->txHdr = nullptr;
  if (p->mp) rte_mempool_free(p->mp);
  p->mp = nullptr;
  if (p->extmem) rte_extmem_unregister(p->region, p->regionLen);
  p->extmem = false;
  if (p->hasNotify) p->notify.Release();
  p->hasNotify = false;
}

void CloseAll() {
  std::lock_guard<std::mutex> g(gMu);
  for (auto& [id, p] : gPorts) Destroy(p.get());
  gPorts.clear();
}

// open({memory, device, queues, region: {offset, bytes, stride, frames, frameBase}, meta, rxRings,
//   returnRings, rxDescs, txDescs, burst, mode: 'busy' | 'adaptive', spinPolls, maxSleepUs,
//   promiscuous, notify}) -> {id, port, mbufOffset, dataRoom, headroom, kernelSockets}
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  if (!gEalDone) return Throw(env, "dpdk: EAL is not initialised; call init(ealArgs) first");
  if (info.Length() < 1 || !info[0].IsObject()) return Throw(env, "dpdk.open: expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto p = std::make_unique<Port>();
  p->id = gNextId++;
  if (!GetSpan(env, o.Get("memory"), &p->base, &p->memLen)) return Throw(env, "dpdk.open: memory must be a shared WebAssembly.Memory");
  p->device = o.Get("device").ToString().Utf8Value();
  Napi::Object r = o.Get("region").As<Napi::Object>();
  const uint32_t off = U32(r, "offset", 0);
  p->stride = U32(r, "stride", 4096);
  p->frames = U32(r, "frames", 0);
  p->frameBase = U32(r, "frameBase", 0);
  p->regionLen = size_t(p->frames) * p->stride;
  p->region = p->base + off;
  p->meta = p->base + U32(o, "meta", 0);
  if (o.Get("rxTime").IsNumber()) {
    const uint32_t rt = U32(o, "rxTime", 0);
    if (rt % 8 || size_t(rt) + size_t(U32(r, "frameBase", 0) + p->frames) * 8 > p->memLen)
      return Throw(env, "dpdk.open: rxTime must be 8-byte aligned with a slot for every frame inside the memory");
    p->rxTime = p->base + rt;
    // The engine clock is CLOCK_MONOTONIC (Node's hrtime) minus this base, in ns.
    p->rxClockBase = uint64_t(o.Get("clockBaseNs").ToNumber().DoubleValue());
  }
  p->burst = U32(o, "burst", 32);
  p->adaptive = o.Get("mode").IsString() && o.Get("mode").ToString().Utf8Value() == "adaptive";
  p->spinPolls = U32(o, "spinPolls", 1024);
  p->maxSleepUs = U32(o, "maxSleepUs", 200);
  const uint16_t nq = uint16_t(U32(o, "queues", 1));
  const uint16_t rxDescs = uint16_t(U32(o, "rxDescs", 1024)), txDescs = uint16_t(U32(o, "txDescs", 1024));
  if (off % 4096 != 0 || p->stride < 2048 || (p->stride & (p->stride - 1)) != 0 || p->frames < 64 ||
      off + p->regionLen > p->memLen)
    return Throw(env, "dpdk.open: the region must be 4 KiB aligned, inside the memory, with a power-of-two stride >= 2048 and >= 64 frames (host/layout.ts dpdkRegion)");
  if (size_t(p->frameBase + p->frames) * 64 + U32(o, "meta", 0) > p->memLen) return Throw(env, "dpdk.open: metadata records fall outside the memory");
  if (p->burst < 1 || p->burst > MAX_BURST) return Throw(env, "dpdk.open: burst must be 1.." + std::to_string(MAX_BURST));
  Napi::Array rxs = o.Get("rxRings").As<Napi::Array>(), rets = o.Get("returnRings").As<Napi::Array>();
  if (!o.Get("rxRings").IsArray() || !o.Get("returnRings").IsArray() || rxs.Length() != nq || rets.Length() != nq)
    return Throw(env, "dpdk.open: give one rx ring and one return ring offset per queue");
  for (uint16_t q = 0; q < nq; q++) {
    auto Q = std::make_unique<Queue>();
    Q->port = p.get();
    Q->q = q;
    const uint32_t ro = rxs.Get(q).As<Napi::Number>().Uint32Value(), bo = rets.Get(q).As<Napi::Number>().Uint32Value();
    if (ro % 64 || bo % 64 || ro + 256 > p->memLen || bo + 256 > p->memLen) return Throw(env, "dpdk.open: ring offsets must be 64-byte aligned and inside the memory");
    Q->rx = p->base + ro;
    Q->ret = p->base + bo;
    if (!wirewasm::ring::valid(Q->rx) || !wirewasm::ring::valid(Q->ret))
      return Throw(env, "dpdk.open: queue " + std::to_string(q) + "'s rings are not formatted u32 rings (ringInit them first)");
    if (wirewasm::ring::plain(Q->ret, wirewasm::ring::R_CAPACITY) < p->frames)
      return Throw(env, "dpdk.open: a return ring needs a slot for every DPDK frame (" + std::to_string(p->frames) + ")");
    // Frames of an earlier port on these rings belong to a mempool that no longer exists: on the
    // return ring they would be freed twice into the new one, on the rx ring received twice.
    if (wirewasm::ring::ld(Q->rx, wirewasm::ring::P_TAIL) != wirewasm::ring::ld(Q->rx, wirewasm::ring::C_TAIL))
      return Throw(env, "dpdk.open: rx ring of queue " + std::to_string(q) + " still holds frames of an earlier run; drain it (and release nothing from it) first");
    uint32_t scrap[MAX_BURST];
    while (wirewasm::ring::dequeue(Q->ret, scrap, MAX_BURST) != 0) {
    }
    p->queues.push_back(std::move(Q));
  }
  if (o.Get("notify").IsFunction()) {
    p->notify = Napi::ThreadSafeFunction::New(env, o.Get("notify").As<Napi::Function>(), "wirewasm-dpdk-notify", 0, 1);
    p->notify.Unref(env);
    p->hasNotify = true;
  }
  Port* P = p.get();
  auto fail = [&](const std::string& what) {
    Destroy(P);
    return Throw(env, "dpdk: " + what);
  };

  // External memory: the region, page by page, IOVA = VA.
  const size_t pages = p->regionLen / 4096;
  std::vector<rte_iova_t> iovas(pages);
  for (size_t i = 0; i < pages; i++) iovas[i] = rte_iova_t(uintptr_t(p->region) + i * 4096);
  if (rte_extmem_register(p->region, p->regionLen, iovas.data(), unsigned(pages), 4096) != 0)
    return fail("rte_extmem_register of the frame region failed: " + errText(rte_errno));
  p->extmem = true;

  // Mempool: one object per stride.
  rte_mempool_objsz sz;
  rte_mempool_calc_obj_size(0, RTE_MEMPOOL_F_NO_SPREAD, &sz);
  const uint32_t elt = p->stride - sz.header_size - sz.trailer_size;
  rte_mempool_calc_obj_size(elt, RTE_MEMPOOL_F_NO_SPREAD, &sz);
  if (sz.total_size != p->stride) return fail("mempool objects would take " + std::to_string(sz.total_size) + " bytes, not the stride " + std::to_string(p->stride));
  p->headerSize = sz.header_size;
  const std::string name = "ww" + std::to_string(p->id);
  const unsigned cache = std::min<unsigned>(RTE_MEMPOOL_CACHE_MAX_SIZE, p->frames / 8);
  p->mp = rte_mempool_create_empty(name.c_str(), p->frames, elt, cache, sizeof(rte_pktmbuf_pool_private), SOCKET_ID_ANY,
                                   RTE_MEMPOOL_F_NO_SPREAD);
  if (!p->mp) return fail("rte_mempool_create_empty failed: " + errText(rte_errno));
  if (rte_mempool_set_ops_byname(p->mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) return fail("rte_mempool_set_ops_byname failed");
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = uint16_t(std::min<uint32_t>(elt - sizeof(rte_mbuf), UINT16_MAX));
  priv.mbuf_priv_size = 0;
  rte_pktmbuf_pool_init(p->mp, &priv);
  const int populated = rte_mempool_populate_virt(p->mp, reinterpret_cast<char*>(p->region), p->regionLen, 4096, nullptr, nullptr);
  if (populated < 0 || unsigned(populated) != p->frames)
    return fail("rte_mempool_populate_virt placed " + std::to_string(populated) + " of " + std::to_string(p->frames) + " objects");
  rte_mempool_obj_iter(p->mp, rte_pktmbuf_init, nullptr);
  // Object i must be frame i: check every one.
  struct Check { Port* p; uint32_t bad; };
  Check chk{P, 0};
  rte_mempool_obj_iter(p->mp, [](rte_mempool*, void* arg, void* obj, unsigned i) {
    Check* c = static_cast<Check*>(arg);
    if (obj != MbufOf(c->p, i)) c->bad++;
  }, &chk);
  if (chk.bad) return fail(std::to_string(chk.bad) + " mempool objects are not at region + i * stride");
  const std::string txName = "wt" + std::to_string(p->id);
  p->txHdr = rte_pktmbuf_pool_create(txName.c_str(), 2047, 64, 0, 0, SOCKET_ID_ANY);
  if (!p->txHdr) return fail("creating the transmit header pool failed: " + errText(rte_errno));

  // The device: a vdev ("net_af_xdp0,iface=x") or a PCI address.
  std::set<int> before = SocketFds();
  const size_t comma = p->device.find(',');
  p->devName = p->device.substr(0, comma);
  p->vdev = p->devName.rfind("net_", 0) == 0;
  int rc = p->vdev ? rte_vdev_init(p->devName.c_str(), comma == std::string::npos ? "" : p->device.c_str() + comma + 1)
                   : rte_dev_probe(p->device.c_str());
  if (rc != 0) return fail("probing " + p->device + " failed: " + errText(rc) + " (run with the interface present and privileges; the EAL log above names the cause)");
  p->probed = true;
  uint16_t pid;
  if (rte_eth_dev_get_port_by_name(p->devName.c_str(), &pid) != 0) return fail("no ethdev port named " + p->devName + " after probing");
  p->portId = pid;
  rte_eth_dev_info di;
  if (rte_eth_dev_info_get(pid, &di) != 0) return fail("rte_eth_dev_info_get failed");
  p->dev = di.device;
  if (nq > di.max_rx_queues) return fail(p->device + " has " + std::to_string(di.max_rx_queues) + " rx queues; asked for " + std::to_string(nq));
  rte_eth_conf conf{};
  if (nq > 1 && di.flow_type_rss_offloads) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  }
  conf.rxmode.offloads = di.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_RSS_HASH | RTE_ETH_RX_OFFLOAD_SCATTER | RTE_ETH_RX_OFFLOAD_TIMESTAMP);
  conf.txmode.offloads = di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if ((rc = rte_eth_dev_configure(pid, nq, nq, &conf)) != 0) return fail("rte_eth_dev_configure failed: " + errText(rc));
  uint16_t nrx = rxDescs, ntx = txDescs;
  rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
  for (uint16_t q = 0; q < nq; q++) {
    if ((rc = rte_eth_rx_queue_setup(pid, q, nrx, rte_eth_dev_socket_id(pid), nullptr, p->mp)) != 0)
      return fail("rx queue " + std::to_string(q) + " setup failed: " + errText(rc));
    if ((rc = rte_eth_tx_queue_setup(pid, q, ntx, rte_eth_dev_socket_id(pid), nullptr)) != 0)
      return fail("tx queue " + std::to_string(q) + " setup failed: " + errText(rc));
  }
  if ((rc = rte_eth_dev_start(pid)) != 0) return fail("rte_eth_dev_start failed: " + errText(rc));
  p->started = true;
  if (!o.Get("promiscuous").IsBoolean() || o.Get("promiscuous").As<Napi::Boolean>().Value()) rte_eth_promiscuous_enable(pid);
  for (int fd : SocketFds())
    if (!before.count(fd)) p->kernelFds.push_back(fd);
  if (gTsField < 0) {
    gTsField = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr);
    const int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
    gTsFlag = bit >= 0 ? (1ull << bit) : 0;
  }
  for (auto& q : p->queues) {
    q->run.store(true);
    Queue* Q = q.get();
    q->th = std::thread([Q] { Poll(Q); });
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", p->id);
  out.Set("port", pid);
  out.Set("driver", di.driver_name ? di.driver_name : "");
  out.Set("mbufOffset", p->headerSize);
  out.Set("dataOffset", double(p->headerSize + sizeof(rte_mbuf) + RTE_PKTMBUF_HEADROOM));
  out.Set("dataRoom", priv.mbuf_data_room_size);
  out.Set("kernelSockets", double(p->kernelFds.size()));
  gPorts[p->id] = std::move(p);
  return out;
}

Port* Find(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return nullptr;
  auto it = gPorts.find(info[0].As<Napi::Number>().Int32Value());
  return it == gPorts.end() ? nullptr : it->second.get();
}

// close(id) -> {inUse, returned, notReturned, txDone}: mbufs still out of the mempool once the port
// closed (the PMD's own, such as the AF_XDP fill ring's, and any the engine kept), frames the return
// rings gave back over the port's life, and received frames never given back (0 when the engine
// released every frame it received).
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return env.Undefined();
  Destroy(p, true);
  uint64_t returned = 0, received = 0, freed = 0;
  for (auto& q : p->queues) {
    returned += q->returned.load();
    received += q->segments.load();
    freed += q->freed.load();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("inUse", Napi::Number::New(env, double(p->lastInUse)));
  out.Set("returned", Napi::Number::New(env, double(returned)));
  // Received frames (segments) the engine never gave back through a return ring.
  out.Set("notReturned", Napi::Number::New(env, double(received - freed - returned)));
  // Transmitted frames the PMD let go of while it stopped: the caller may reuse them now.
  Napi::Uint32Array done = Napi::Uint32Array::New(env, p->txDone.size());
  if (!p->txDone.empty()) std::memcpy(done.Data(), p->txDone.data(), p->txDone.size() * 4);
  out.Set("txDone", done);
  gPorts.erase(p->id);
  return out;
}

// stopReceive(id): joins the poll threads; nothing more reaches the rx rings. The port stays open
// (transmit works) until close().
Napi::Value StopReceive(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (p) StopQueues(p);
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return Throw(env, "dpdk.stats: no such port (closed?)");
  Napi::Object o = Napi::Object::New(env);
  uint64_t packets = 0, bytes = 0, ringFull = 0, returned = 0, bad = 0, polls = 0, empty = 0, sleeps = 0, wakeups = 0, segs = 0;
  for (auto& q : p->queues) {
    packets += q->packets.load();
    bytes += q->bytes.load();
    ringFull += q->ringFull.load();
    returned += q->returned.load();
    bad += q->badReturns.load();
    polls += q->polls.load();
    empty += q->emptyPolls.load();
    sleeps += q->sleeps.load();
    wakeups += q->wakeups.load();
    segs += q->segments.load();
  }
  rte_eth_stats es{};
  rte_eth_stats_get(p->portId, &es);
  uint64_t xdpDrops, xdpInvalid;
  KernelDrops(p, &xdpDrops, &xdpInvalid);
  auto N = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, double(v))); };
  N("packets", packets);
  N("bytes", bytes);
  N("segments", segs);
  N("ringFull", ringFull);
  N("returned", returned);
  N("badReturns", bad);
  N("polls", polls);
  N("emptyPolls", empty);
  N("sleeps", sleeps);
  N("wakeups", wakeups);
  N("pmdPackets", es.ipackets);
  N("pmdMissed", es.imissed);
  N("pmdErrors", es.ierrors);
  N("pmdNoMbuf", es.rx_nombuf);
  N("txPackets", es.opackets);
  N("txErrors", es.oerrors);
  N("kernelDrops", p->packetDrops + xdpDrops);
  N("kernelFreezes", p->packetFreezes);
  N("kernelInvalid", xdpInvalid);
  N("mempoolAvailable", rte_mempool_avail_count(p->mp));
  N("mempoolInUse", rte_mempool_in_use_count(p->mp));
  return o;
}

Napi::Value OpenPorts(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(gMu);
  return Napi::Number::New(info.Env(), double(gPorts.size()));
}

Napi::Value CloseAllJs(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

}  // namespace wirewasm::dpdk
