// AF_XDP sockets whose UMEM is the engine's frame pool and whose four rings (fill, completion,
// RX, TX) are mapped into page-aligned regions of the shared memory. The rings are walked by
// WASM (assembly/kernel/xsk.ts, assembly/engine/xsk.ts); this file registers, maps, binds and tears down.
//
// One socket per queue. The first socket of an interface registers the UMEM; the others bind
// with XDP_SHARED_UMEM to it, each with its own fill and completion rings (kernel >= 5.10).
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "socket-open.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace wirewasm {

static Napi::Object RingOffsets(Napi::Env env, const xdp_ring_offset& r, uint64_t at) {
  // Offsets from the start of the memory, ready for the WASM walker.
  Napi::Object o = Napi::Object::New(env);
  o.Set("producer", Napi::Number::New(env, static_cast<double>(at + r.producer)));
  o.Set("consumer", Napi::Number::New(env, static_cast<double>(at + r.consumer)));
  o.Set("desc", Napi::Number::New(env, static_cast<double>(at + r.desc)));
  o.Set("flags", Napi::Number::New(env, static_cast<double>(at + r.flags)));
  return o;
}

// xskOpen({memory, iface, netns, queueId, umem: {offset, size, frameSize, headroom},
//   sharedUmemFd, ring sizes: rxSize, txSize, fillSize, compSize, ring offsets: rxOffset,
//   txOffset, fillOffset, compOffset, zeroCopy: "auto" | "on" | "off", needWakeup})
// -> {id, fd, zeroCopy, needWakeup, rx, tx, fill, comp: {producer, consumer, desc, flags}}
static Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketOpen opening(info);
  if (!opening.ok()) return env.Undefined();
  Napi::Object o = opening.options;
  auto& [span, iface, ifindex, h] = opening.parts;
  auto fail = [&](Napi::Value thrown) { return opening.Fail(thrown); };
  int fd = opening.Socket(AF_XDP, SOCK_RAW, "socket(AF_XDP)");
  if (fd < 0) return fail(env.Undefined());

  int sharedFd = static_cast<int>(GetInt(o, "sharedUmemFd", -1));
  if (sharedFd < 0) {
    Napi::Object u = o.Get("umem").As<Napi::Object>();
    uint64_t off = static_cast<uint64_t>(GetInt(u, "offset", 0));
    uint64_t size = static_cast<uint64_t>(GetInt(u, "size", 0));
    if (off % 4096 || off + size > span.length)
      return fail(ThrowReason(env, "UMEM at " + std::to_string(off) + " (+" + std::to_string(size) + ") is not page-aligned inside the memory", EINVAL, "memory-too-small"));
    xdp_umem_reg reg;
    std::memset(&reg, 0, sizeof reg);
    reg.addr = reinterpret_cast<uint64_t>(span.base + off);
    reg.len = size;
    reg.chunk_size = static_cast<uint32_t>(GetInt(u, "frameSize", 2048));
    reg.headroom = static_cast<uint32_t>(GetInt(u, "headroom", 0));
    if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) != 0)
      return fail(ThrowReason(env, "XDP_UMEM_REG of the frame pool (" + std::to_string(size) + " B in frames of " + std::to_string(reg.chunk_size) + " B)", errno, errno == EPERM ? "missing-privilege" : errno == ENOMEM || errno == ENOBUFS ? "memory-too-small" : "bad-config"));
  }
  struct RingDef {
    const char* name;
    int opt;
    const char* sizeKey;
    const char* offKey;
    uint64_t pgoff;
    size_t descBytes;
  };
  const RingDef rings[] = {
      {"fill", XDP_UMEM_FILL_RING, "fillSize", "fillOffset", XDP_UMEM_PGOFF_FILL_RING, sizeof(uint64_t)},
      {"comp", XDP_UMEM_COMPLETION_RING, "compSize", "compOffset", XDP_UMEM_PGOFF_COMPLETION_RING, sizeof(uint64_t)},
      {"rx", XDP_RX_RING, "rxSize", "rxOffset", XDP_PGOFF_RX_RING, sizeof(xdp_desc)},
      {"tx", XDP_TX_RING, "txSize", "txOffset", XDP_PGOFF_TX_RING, sizeof(xdp_desc)},
  };
  for (const RingDef& r : rings) {
    int n = static_cast<int>(GetInt(o, r.sizeKey, 0));
    if (n == 0) continue;
    if (setsockopt(fd, SOL_XDP, r.opt, &n, sizeof n) != 0)
      return fail(ThrowReason(env, std::string("AF_XDP ") + r.name + " ring of " + std::to_string(n) + " entries", errno, "ring-size"));
  }
  xdp_mmap_offsets off;
  socklen_t optlen = sizeof off;
  if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) != 0) return fail(ThrowErrno(env, "XDP_MMAP_OFFSETS", errno));
  const xdp_ring_offset* ro[] = {&off.fr, &off.cr, &off.rx, &off.tx};
  Napi::Object out = Napi::Object::New(env);
  for (int i = 0; i < 4; i++) {
    const RingDef& r = rings[i];
    int n = static_cast<int>(GetInt(o, r.sizeKey, 0));
    if (n == 0) continue;
    uint64_t at = static_cast<uint64_t>(GetInt(o, r.offKey, 0));
    size_t len = ro[i]->desc + static_cast<size_t>(n) * r.descBytes;
    len = (len + 4095) & ~static_cast<size_t>(4095);
    uint64_t room = static_cast<uint64_t>(GetInt(o, (std::string(r.offKey) + "Room").c_str(), static_cast<int64_t>(len)));
    if (len > room)
      return fail(ThrowReason(env, std::string("AF_XDP ") + r.name + " ring needs " + std::to_string(len) + " B but its region has " + std::to_string(room) + "; use afxdpKernelBytes() for kernelBytesPerQueue", 0, "memory-too-small"));
    if (!MapIntoMemory(env, span, at, len, fd, static_cast<off_t>(r.pgoff), h, (std::string("the AF_XDP ") + r.name + " ring").c_str())) return fail(env.Undefined());
    out.Set(r.name, RingOffsets(env, *ro[i], at));
  }

  std::string zc = GetString(o, "zeroCopy", "auto");
  bool wake = GetBool(o, "needWakeup", true);
  sockaddr_xdp sxdp;
  std::memset(&sxdp, 0, sizeof sxdp);
  sxdp.sxdp_family = AF_XDP;
  sxdp.sxdp_ifindex = ifindex;
  sxdp.sxdp_queue_id = static_cast<uint32_t>(GetInt(o, "queueId", 0));
  uint16_t base = wake ? XDP_USE_NEED_WAKEUP : 0;
  if (sharedFd >= 0) sxdp.sxdp_shared_umem_fd = static_cast<uint32_t>(sharedFd);
  int rc = -1, err = 0;
  if (sharedFd >= 0) {
    // A socket sharing a UMEM takes no mode flags: copy/zero-copy and need_wakeup are the
    // UMEM owner's (the kernel refuses them with EINVAL).
    sxdp.sxdp_flags = XDP_SHARED_UMEM;
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sxdp), sizeof sxdp);
    err = errno;
  } else {
    // Zero-copy first when allowed: it needs driver support (a real NIC); veth and generic (SKB)
    // mode refuse it, and then copy mode is what is in force.
    if (zc != "off") {
      sxdp.sxdp_flags = base | XDP_ZEROCOPY;
      rc = bind(fd, reinterpret_cast<sockaddr*>(&sxdp), sizeof sxdp);
      err = errno;
    }
    if (rc != 0 && zc != "on") {
      sxdp.sxdp_flags = base | XDP_COPY;
      rc = bind(fd, reinterpret_cast<sockaddr*>(&sxdp), sizeof sxdp);
      err = errno;
    }
  }
  if (rc != 0)
    return fail(ThrowReason(env, "bind AF_XDP socket to " + iface + " queue " + std::to_string(sxdp.sxdp_queue_id) +
                                     (zc == "on" ? " in zero-copy mode" : ""),
                            err, err == EBUSY ? "xdp-busy" : err == EPERM ? "missing-privilege" : err == ENETDOWN ? "interface-down" : "bad-config"));
  xdp_options opts;
  std::memset(&opts, 0, sizeof opts);
  optlen = sizeof opts;
  bool zeroCopy = getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0 && (opts.flags & XDP_OPTIONS_ZEROCOPY);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("zeroCopy", Napi::Boolean::New(env, zeroCopy));
  out.Set("needWakeup", Napi::Boolean::New(env, wake));
  out.Set("ifindex", Napi::Number::New(env, ifindex));
  return opening.Done(out);
}

// The kernel's per-socket counters (XDP_STATISTICS; cumulative, not reset on read).
static Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  xdp_statistics st;
  if (!ReadSocketCounters(info, SOL_XDP, XDP_STATISTICS, "XDP_STATISTICS", st)) return env.Undefined();
  return CountersObject(env, {
      {"rxDropped", st.rx_dropped}, {"rxInvalid", st.rx_invalid_descs}, {"txInvalid", st.tx_invalid_descs},
      {"rxRingFull", st.rx_ring_full}, {"fillRingEmpty", st.rx_fill_ring_empty_descs}, {"txRingEmpty", st.tx_ring_empty_descs},
  });
}

void RegisterAfXdp(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"xskOpen", Open}, {"xskStats", Stats}});
}

}  // namespace wirewasm
