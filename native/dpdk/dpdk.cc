// wirewasm_dpdk.node: DPDK ports whose packet buffers live in the engine's shared WebAssembly.Memory.
// A separate addon so that the main one never links DPDK (binding.gyp builds this one only when
// pkg-config finds libdpdk >= 22.11); host/backends/dpdk.ts loads it on first use.
//
// Memory. The caller gives a DPDK region of the memory (host/layout.ts computes it): `frames` slots
// of `stride` bytes, 4 KiB aligned. The region is registered as external memory (rte_extmem_register,
// 4 KiB pages, IOVA = VA) and becomes the objects of an empty mempool (RTE_MEMPOOL_F_NO_SPREAD,
// rte_mempool_populate_virt), sized so that each object takes exactly one stride: mempool object i is
// frame i, and its mbuf, headroom and packet bytes all sit inside the WASM memory:
//
//   region + i*stride ┌ mempool object header (64 B) ┬ struct rte_mbuf (128 B) ┬ headroom ┬ data … ┐
//
// Frame i has the engine frame index frameBase + i; its 64-byte metadata record (assembly/meta.ts)
// is at meta + (frameBase + i) * 64.
//
// Receive. One poll thread per queue (rte_thread_register'ed, so the mempool's per-lcore caches
// work). Each turn: (1) drain the queue's return ring (frame indexes the engine released) back into
// the mempool, (2) rte_eth_rx_burst, (3) fill each frame's metadata record, unchain scatter-gather
// mbufs into meta `next` links, (4) publish the head frame indexes on the queue's rx ring with one
// tail store (native/dpdk/ring.h follows assembly/ring.ts). No JS or WASM runs per burst. A frame the
// rx ring has no room for goes straight back to the mempool, counted as ringFull.
// Polling: busy spins; adaptive spins `spinPolls` empty polls, then sleeps, doubling from 1 us up to
// `maxSleepUs`, and returns to spinning on the first packet.
//
// Transmit. Frames anywhere in the memory are attached to header-only mbufs as external buffers
// (rte_pktmbuf_attach_extbuf) with a free callback: when the PMD is done with a frame, its address is
// queued for txDone(), so the caller knows when the frame may be reused.
//
// EAL runs once per process (it cannot run again, even after rte_eal_cleanup). rte_eal_init pins the
// calling thread to one CPU; the thread's affinity is restored right after, so Node's threads (and
// every Worker started later, which inherits it) keep all CPUs.
//
// Teardown. Every open port is closed (threads joined, port stopped and closed, vdev removed, mempool
// freed, external memory unregistered) by close(), by an environment cleanup hook and by atexit: an
// XDP program or promiscuous mode left on an interface makes the next start fail.
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <napi.h>

#include <dirent.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ring.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace {

// assembly/meta.ts offsets (tests/backends/dpdk.test.ts reads them back through host/meta.ts).
constexpr size_t M_DATA = 0, M_CAPLEN = 4, M_WIRELEN = 8, M_PTYPE = 12, M_TIMESTAMP = 16, M_L2 = 24, M_VLAN0 = 36,
                 M_VLAN1 = 38, M_HASH = 40, M_ERRORS = 44, M_QUEUE = 48, M_LINKTYPE = 50, M_MARK = 52, M_REFCNT = 56,
                 M_NEXT = 60;
constexpr uint32_t NEXT_NONE = 0xffffffff;
constexpr uint16_t OFFSET_NONE = 0xffff, VLAN_NONE = 0xffff, LINKTYPE_ETHERNET = 1;
constexpr uint32_t MAX_BURST = 256;

template <typename T>
inline void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

std::mutex gMu;  // EAL state and the port table
bool gEalDone = false;
std::string gEalArgs;
int gTsField = -1;        // rte_dynfield_timestamp offset, when a PMD registered it
uint64_t gTsFlag = 0;     // its ol_flags bit

struct Port;

struct Queue {
  Port* port = nullptr;
  uint16_t q = 0;
  uint8_t* rx = nullptr;   // engine rx ring
  uint8_t* ret = nullptr;  // return ring
  std::thread th;
  std::atomic<bool> run{false};
  std::atomic<uint64_t> packets{0}, bytes{0}, ringFull{0}, returned{0}, badReturns{0}, polls{0}, emptyPolls{0},
      sleeps{0}, wakeups{0}, segments{0};
};

struct TxSlot {
  rte_mbuf_ext_shared_info shinfo;
  Port* port;
  uint32_t offset;
};

struct Port {
  int id = 0;
  uint16_t portId = RTE_MAX_ETHPORTS;
  std::string device, devName;
  rte_device* dev = nullptr;  // a probed PCI device, removed at close
  bool vdev = false, started = false, probed = false, extmem = false;
  uint8_t* base = nullptr;  // memory base
  size_t memLen = 0;
  uint8_t* region = nullptr;
  size_t regionLen = 0;
  uint32_t stride = 0, frames = 0, frameBase = 0, headerSize = 0, burst = 32;
  uint8_t* meta = nullptr;
  bool adaptive = false;
  uint32_t spinPolls = 1024, maxSleepUs = 200;
  rte_mempool* mp = nullptr;
  rte_mempool* txHdr = nullptr;
  std::vector<std::unique_ptr<Queue>> queues;
  std::vector<int> kernelFds;   // the PMD's AF_PACKET / AF_XDP sockets
  uint64_t packetDrops = 0;     // PACKET_STATISTICS resets on read: accumulated here
  uint64_t packetFreezes = 0;
  std::mutex txMu;
  std::vector<uint32_t> txDone;
  std::vector<TxSlot*> txFree;
  std::vector<std::unique_ptr<TxSlot[]>> txSlabs;
  Napi::ThreadSafeFunction notify;  // Atomics.notify for adaptive rings (see ring.h)
  bool hasNotify = false;
};

std::map<int, std::unique_ptr<Port>> gPorts;
int gNextId = 1;

std::string errText(int err) { return std::string(rte_strerror(err < 0 ? -err : err)); }

Napi::Value Throw(Napi::Env env, const std::string& what) {
  Napi::Error::New(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool GetSpan(Napi::Env env, Napi::Value memory, uint8_t** base, size_t* len) {
  if (!memory.IsObject()) return false;
  Napi::Value buf = memory.As<Napi::Object>().Get("buffer");
  if (!buf.IsObject()) return false;
  Napi::Function u8 = env.Global().Get("Uint8Array").As<Napi::Function>();
  Napi::Value view = u8.New({buf});
  if (!view.IsTypedArray()) return false;
  Napi::Uint8Array a = view.As<Napi::Uint8Array>();
  *base = a.Data();
  *len = a.ByteLength();
  return true;
}

uint32_t U32(Napi::Object o, const char* k, uint32_t dflt) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

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

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

inline uint32_t FrameOf(Port* p, const rte_mbuf* m) {
  return uint32_t((reinterpret_cast<const uint8_t*>(m) - p->region) / p->stride);
}
inline rte_mbuf* MbufOf(Port* p, uint32_t i) {
  return reinterpret_cast<rte_mbuf*>(p->region + size_t(i) * p->stride + p->headerSize);
}

// Frees frame f (engine index) and the segments linked after it in meta `next`.
void FreeChain(Port* p, uint32_t f) {
  while (f != NEXT_NONE && f - p->frameBase < p->frames) {
    uint8_t* m = p->meta + size_t(f) * 64;
    uint32_t next;
    std::memcpy(&next, m + M_NEXT, 4);
    rte_pktmbuf_free_seg(MbufOf(p, f - p->frameBase));
    f = next;
  }
}

void Poll(Queue* Q) {
  Port* p = Q->port;
  rte_thread_register();
  rte_mbuf* pkts[MAX_BURST];
  uint32_t list[MAX_BURST];
  uint32_t back[MAX_BURST];
  rte_mbuf* backM[MAX_BURST];
  uint32_t idle = 0, sleepUs = 1;
  const uint32_t burst = p->burst;
  while (Q->run.load(std::memory_order_relaxed)) {
    // (1) Frames the engine released: back to the mempool before the PMD asks for more.
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
    }
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
      bytes += wirelen;
    }
    // (4) Publish.
    bool wake = false;
    const uint32_t putN = wirewasm::ring::enqueue(Q->rx, list, n, &wake);
    for (uint32_t i = putN; i < n; i++) FreeChain(p, list[i]);
    if (putN < n) Q->ringFull.fetch_add(n - putN, std::memory_order_relaxed);
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

// Undoes whatever open() got to, in reverse order. Safe to call twice.
void Destroy(Port* p) {
  StopQueues(p);
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

// ─── EAL ──────────────────────────────────────────────────────────────────────────────────────────

bool EalInit(const std::vector<std::string>& args, std::string* err) {
  if (gEalDone) return true;
  cpu_set_t saved;
  CPU_ZERO(&saved);
  const bool haveAff = sched_getaffinity(0, sizeof saved, &saved) == 0;
  std::vector<std::string> owned{"wirewasm"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : owned) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(int(argv.size() - 1), argv.data());
  if (haveAff) sched_setaffinity(0, sizeof saved, &saved);
  if (rc < 0) {
    *err = "rte_eal_init failed: " + errText(rte_errno) + " (EAL arguments: " + gEalArgs + ")";
    return false;
  }
  gEalDone = true;
  static bool hooked = false;
  if (!hooked) {
    std::atexit(CloseAll);
    hooked = true;
  }
  return true;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  std::vector<std::string> args;
  std::string joined;
  if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      args.push_back(a.Get(i).ToString().Utf8Value());
      joined += (i ? " " : "") + args.back();
    }
  }
  Napi::Object out = Napi::Object::New(env);
  if (gEalDone) {
    out.Set("already", true);
    out.Set("args", gEalArgs);
    return out;
  }
  gEalArgs = joined;
  std::string err;
  if (!EalInit(args, &err)) return Throw(env, err);
  out.Set("already", false);
  out.Set("args", gEalArgs);
  return out;
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), rte_version()); }

Napi::Value Ports(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Napi::Array out = Napi::Array::New(env);
  if (!gEalDone) return out;
  uint16_t pid;
  uint32_t n = 0;
  RTE_ETH_FOREACH_DEV(pid) {
    rte_eth_dev_info di;
    if (rte_eth_dev_info_get(pid, &di) != 0) continue;
    char name[RTE_ETH_NAME_MAX_LEN] = {0};
    rte_eth_dev_get_name_by_port(pid, name);
    rte_ether_addr mac;
    char macs[RTE_ETHER_ADDR_FMT_SIZE] = {0};
    if (rte_eth_macaddr_get(pid, &mac) == 0) rte_ether_format_addr(macs, sizeof macs, &mac);
    Napi::Object o = Napi::Object::New(env);
    o.Set("port", pid);
    o.Set("name", name);
    o.Set("driver", di.driver_name ? di.driver_name : "");
    o.Set("mac", macs);
    o.Set("maxRxQueues", di.max_rx_queues);
    o.Set("maxTxQueues", di.max_tx_queues);
    out.Set(n++, o);
  }
  return out;
}

// ─── ports ────────────────────────────────────────────────────────────────────────────────────────

void FreeTxSlot(void* addr, void* opaque) {
  TxSlot* s = static_cast<TxSlot*>(opaque);
  std::lock_guard<std::mutex> g(s->port->txMu);
  s->port->txDone.push_back(s->offset);
  s->port->txFree.push_back(s);
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

Napi::Value Close(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(gMu);
  Port* p = Find(info);
  if (!p) return info.Env().Undefined();
  Destroy(p);
  gPorts.erase(p->id);
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

Napi::Value OpenPorts(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(gMu);
  return Napi::Number::New(info.Env(), double(gPorts.size()));
}

Napi::Value CloseAllJs(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("ports", Napi::Function::New(env, Ports, "ports"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("closeAll", Napi::Function::New(env, CloseAllJs, "closeAll"));
  exports.Set("openPorts", Napi::Function::New(env, OpenPorts, "openPorts"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("transmit", Napi::Function::New(env, Transmit, "transmit"));
  exports.Set("txDone", Napi::Function::New(env, TxDone, "txDone"));
  napi_add_env_cleanup_hook(env, [](void*) { CloseAll(); }, nullptr);
  return exports;
}

}  // namespace

NODE_API_MODULE(wirewasm_dpdk, InitAddon)
