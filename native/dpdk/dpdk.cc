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
// (rte_pktmbuf_attach_extbuf) with a free callback: when the PMD is done with a frame, its tag (the
// engine's frame index, or its address) is queued for txDone(), so the caller knows when the frame
// may be reused. Frames tx_burst refused stay the caller's, unreported.
//
// EAL runs once per process (it cannot run again, even after rte_eal_cleanup). rte_eal_init pins the
// calling thread to one CPU; the thread's affinity is restored right after, so Node's threads (and
// every Worker started later, which inherits it) keep all CPUs.
//
// Teardown. Every open port is closed (threads joined, port stopped and closed, vdev removed, mempool
// freed, external memory unregistered) by close(), by an environment cleanup hook and by atexit.
// close() first gives the return rings' frames back to the mempool and reports the mbufs still out
// (0 when the engine released every frame it received). stopReceive() joins the poll threads alone,
// so the engine can drain its rings with nothing more arriving while the port still transmits.
//
// Files: eal.cc (EAL start, affinity), port.cc (open/close/stats, the mempool over the WASM region),
// poll.cc (receive threads, return rings), tx.cc (transmit from the memory), dpdk.h (shared state).

#include "dpdk.h"

namespace wirewasm::dpdk {

std::mutex gMu;
bool gEalDone = false;
std::string gEalArgs;
int gTsField = -1;
uint64_t gTsFlag = 0;
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

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("ports", Napi::Function::New(env, Ports, "ports"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("stopReceive", Napi::Function::New(env, StopReceive, "stopReceive"));
  exports.Set("closeAll", Napi::Function::New(env, CloseAllJs, "closeAll"));
  exports.Set("openPorts", Napi::Function::New(env, OpenPorts, "openPorts"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("transmit", Napi::Function::New(env, Transmit, "transmit"));
  exports.Set("txDone", Napi::Function::New(env, TxDone, "txDone"));
  exports.Set("counters", Napi::Function::New(env, Counters, "counters"));
  napi_add_env_cleanup_hook(env, [](void*) { CloseAll(); }, nullptr);
  return exports;
}

}  // namespace wirewasm::dpdk

// The macro pastes its argument into an identifier, so it takes the unqualified name.
using wirewasm::dpdk::InitAddon;
NODE_API_MODULE(wirewasm_dpdk, InitAddon)
