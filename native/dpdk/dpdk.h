// The state every part of wirewasm_dpdk.node shares: the port and queue records, the EAL globals, the
// metadata offsets, and the functions one file calls in another. dpdk.cc describes the design; the
// code is split by job (eal.cc, port.cc, poll.cc, tx.cc) so each file stays readable on its own.
#pragma once

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

namespace wirewasm::dpdk {

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

extern std::mutex gMu;  // EAL state and the port table
extern bool gEalDone;
extern std::string gEalArgs;
extern int gTsField;     // rte_dynfield_timestamp offset, when a PMD registered it
extern uint64_t gTsFlag; // its ol_flags bit

struct Port;

struct Queue {
  Port* port = nullptr;
  uint16_t q = 0;
  uint8_t* rx = nullptr;   // engine rx ring
  uint8_t* ret = nullptr;  // return ring
  std::thread th;
  std::atomic<bool> run{false};
  std::atomic<uint64_t> packets{0}, bytes{0}, ringFull{0}, returned{0}, badReturns{0}, polls{0}, emptyPolls{0},
      sleeps{0}, wakeups{0}, segments{0}, freed{0};  // freed: segments given straight back (ring full)
};

struct TxSlot {
  rte_mbuf_ext_shared_info shinfo;
  Port* port;
  uint32_t tag;      // what txDone() reports: the caller's tag, or the frame's offset
  bool refused;      // tx_burst did not take it: the caller keeps it, txDone() does not report it
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
  // The engine's rx time per frame (its latency start), in the engine clock: CLOCK_MONOTONIC minus
  // rxClockBase. Absent (nullptr) when the ring's consumer is not the engine.
  uint8_t* rxTime = nullptr;
  uint64_t rxClockBase = 0;
  bool adaptive = false;
  uint32_t spinPolls = 1024, maxSleepUs = 200;
  rte_mempool* mp = nullptr;
  rte_mempool* txHdr = nullptr;
  std::vector<std::unique_ptr<Queue>> queues;
  std::vector<int> kernelFds;   // the PMD's AF_PACKET / AF_XDP sockets
  uint64_t packetDrops = 0;     // PACKET_STATISTICS resets on read: accumulated here
  uint64_t packetFreezes = 0;
  uint64_t lastInUse = 0;       // mempool objects still out when the port closed
  std::mutex txMu;
  std::vector<uint32_t> txDone;
  std::vector<TxSlot*> txFree;
  std::vector<std::unique_ptr<TxSlot[]>> txSlabs;
  Napi::ThreadSafeFunction notify;  // Atomics.notify for adaptive rings (see ring.h)
  bool hasNotify = false;
};

extern std::map<int, std::unique_ptr<Port>> gPorts;
extern int gNextId;

inline uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
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

// dpdk.cc: N-API helpers shared by every entry point.
std::string errText(int err);
Napi::Value Throw(Napi::Env env, const std::string& what);
bool GetSpan(Napi::Env env, Napi::Value memory, uint8_t** base, size_t* len);
uint32_t U32(Napi::Object o, const char* k, uint32_t dflt);

// eal.cc
bool EalInit(const std::vector<std::string>& args, std::string* err);
Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value Version(const Napi::CallbackInfo& info);
Napi::Value Ports(const Napi::CallbackInfo& info);

// port.cc
void KernelDrops(Port* p, uint64_t* xdpDrops, uint64_t* xdpInvalid);
void Destroy(Port* p, bool drainReturns = false);
void CloseAll();
Port* Find(const Napi::CallbackInfo& info);
Napi::Value Open(const Napi::CallbackInfo& info);
Napi::Value Close(const Napi::CallbackInfo& info);
Napi::Value StopReceive(const Napi::CallbackInfo& info);
Napi::Value Stats(const Napi::CallbackInfo& info);
Napi::Value OpenPorts(const Napi::CallbackInfo& info);
Napi::Value CloseAllJs(const Napi::CallbackInfo& info);

// poll.cc
uint32_t FreeChain(Port* p, uint32_t f);
uint64_t DrainReturns(Queue* Q);
void Poll(Queue* Q);
void StopQueues(Port* p);

// tx.cc
void FreeTxSlot(void* addr, void* opaque);
Napi::Value Transmit(const Napi::CallbackInfo& info);
Napi::Value TxDone(const Napi::CallbackInfo& info);
Napi::Value Counters(const Napi::CallbackInfo& info);

}  // namespace wirewasm::dpdk
