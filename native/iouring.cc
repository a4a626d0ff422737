// io_uring receive for the `io_uring` backend (host/backends/io_uring.ts): UDP (unicast, multicast
// with a group join on a chosen interface) and TCP, without privileges.
//
// One multishot receive (IORING_OP_RECV + IORING_RECV_MULTISHOT) stays armed on the socket; it takes
// its buffers from a provided-buffer ring (IORING_REGISTER_PBUF_RING) whose ring lives in the
// engine's shared memory and whose buffers ARE the pool frames. The kernel copies each datagram (or
// TCP chunk) once, straight into a frame; nothing is copied in user space. `receive` walks the
// completion queue a batch at a time, writes each frame's 64-byte metadata record (offsets of
// assembly/meta.ts) and the record addresses at rxAddrs; `release` puts the burst's frames back on
// the buffer ring with one tail store.
//
//   shared memory                                   kernel
//   ┌─────────────────────────┐  IORING_REGISTER_PBUF_RING  ┌──────────────────────────────┐
//   │ buffer ring (queue's    │◀────────────────────────────│ multishot recv picks bufs[head]│
//   │ kernel region, 16 B × N)│  {addr = frame i, len, bid} │ copies the datagram into it    │
//   │ frames (pool)           │◀──────── data ──────────────│ CQE {res = len, flags = bid}   │
//   └─────────────────────────┘                             └──────────────────────────────┘
//
// The ring runs with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: completions are posted
// only when this thread enters the kernel with GETEVENTS, i.e. in receive()/wait(), a batch at a time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "addon.h"
#include "iouring.h"
#include "generated/meta.h"  // frame metadata offsets, generated from assembly/meta.ts

namespace wirewasm {

namespace iouring {
// Opens the socket in `netns` (a name under /run/netns) when given: only the socket lives there.
int openSocket(Napi::Env env, const std::string& netns, int type, int* err) {
  int orig = -1, target = -1;
  if (!netns.empty()) {
    orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    target = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (orig < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
      *err = errno;
      if (orig >= 0) close(orig);
      if (target >= 0) close(target);
      return -1;
    }
  }
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  *err = errno;
  if (orig >= 0) {
    setns(orig, CLONE_NEWNET);
    close(orig);
    close(target);
  }
  return s;
}
}  // namespace iouring

namespace {

constexpr uint16_t LINKTYPE_PAYLOAD = 147;  // host/backends/socket.ts
constexpr uint64_t RECV_TAG = 1;
constexpr uint16_t BGID = 0;

template <typename T>
inline void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

struct Ring {
  int fd = -1;
  int sock = -1;
  uint8_t* sqPtr = nullptr;
  size_t sqLen = 0;
  uint8_t* cqPtr = nullptr;
  size_t cqLen = 0;
  io_uring_sqe* sqes = nullptr;
  size_t sqesLen = 0;
  unsigned *sqHead, *sqTail, *sqMask, *sqArray;
  unsigned *cqHead, *cqTail, *cqMask;
  io_uring_cqe* cqes;
  // Provided buffers: ring in the shared memory, buffers = frames.
  uint8_t* base = nullptr;
  io_uring_buf_ring* br = nullptr;
  unsigned brEntries = 0;
  uint16_t brTail = 0;
  uint32_t framesOff = 0, frameSize = 0, metaOff = 0;
  bool pbufRegistered = false;
  bool armed = false;
  bool ended = false;
  uint16_t queue = 0;
  uint32_t hash = 0;
  std::vector<uint16_t> held;
  // Counters.
  double rx = 0, rxBytes = 0, noBuffer = 0, rearms = 0, truncated = 0;
  int lastError = 0;
  Napi::ObjectReference memoryRef;  // keeps the memory (and so the ring's pages) alive
};

std::map<int, std::unique_ptr<Ring>> rings;
std::atomic<int> nextId{1};

using iouring::openSocket;
using iouring::sys_enter;
using iouring::sys_register;
using iouring::sys_setup;

void destroy(Ring* r) {
  if (r->fd >= 0 && r->pbufRegistered) {
    io_uring_buf_reg reg;
    std::memset(&reg, 0, sizeof reg);
    reg.bgid = BGID;
    sys_register(r->fd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
  }
  if (r->sqes) munmap(r->sqes, r->sqesLen);
  if (r->cqPtr && r->cqPtr != r->sqPtr) munmap(r->cqPtr, r->cqLen);
  if (r->sqPtr) munmap(r->sqPtr, r->sqLen);
  if (r->fd >= 0) close(r->fd);
  if (r->sock >= 0) close(r->sock);
  r->fd = r->sock = -1;
  r->sqes = nullptr;
  r->sqPtr = r->cqPtr = nullptr;
  if (!r->memoryRef.IsEmpty()) r->memoryRef.Reset();
}

// Queues the multishot receive; submitted by the next enter.
bool arm(Ring* r) {
  unsigned tail = *r->sqTail;
  unsigned idx = tail & *r->sqMask;
  io_uring_sqe* sqe = &r->sqes[idx];
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = r->sock;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = BGID;
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->user_data = RECV_TAG;
  r->sqArray[idx] = idx;
  // The kernel reads the SQE after it sees the tail: publish with release.
  std::atomic_ref<unsigned>(*r->sqTail).store(tail + 1, std::memory_order_release);
  int rc = sys_enter(r->fd, 1, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
  if (rc < 0) {
    r->lastError = errno;
    return false;
  }
  r->armed = true;
  r->rearms++;
  return true;
}

// Puts frame `bid` back on the buffer ring (published by the caller).
inline void giveBuffer(Ring* r, uint16_t bid) {
  // Entry i at ring + 16 i. Not br->bufs: in C++ the uapi's __DECLARE_FLEX_ARRAY puts an empty
  // struct (1 byte, padded to 8) before the array, so bufs would start 8 bytes late.
  io_uring_buf* b = reinterpret_cast<io_uring_buf*>(r->br) + (r->brTail & (r->brEntries - 1));
  b->addr = reinterpret_cast<uint64_t>(r->base + r->framesOff + static_cast<size_t>(bid) * r->frameSize);
  b->len = r->frameSize;
  b->bid = bid;
  r->brTail++;
}

inline void publishBuffers(Ring* r) {
  // The kernel reads the entries after it sees the tail.
  // The tail shares the first entry's last two bytes (offset 14), as the uapi header lays it out.
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(reinterpret_cast<uint8_t*>(r->br) + 14)).store(r->brTail, std::memory_order_release);
}

Ring* find(const Napi::CallbackInfo& info) {
  auto it = rings.find(info[0].As<Napi::Number>().Int32Value());
  if (it == rings.end()) {
    Napi::Error::New(info.Env(), "io_uring: no such handle (closed?)").ThrowAsJavaScriptException();
    return nullptr;
  }
  return it->second.get();
}


// iouringOpen({memory, transport, host, port, group?, iface?, netns?, ringOffset, entries,
//              framesOffset, frameSize, metaOffset, queue, rcvbuf?}) -> {id, fd}
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  MemorySpan span;
  if (!GetMemorySpan(env, o.Get("memory"), &span)) return env.Undefined();
  std::string transport = o.Get("transport").As<Napi::String>().Utf8Value();
  std::string host = o.Has("host") && o.Get("host").IsString() ? o.Get("host").As<Napi::String>().Utf8Value() : "0.0.0.0";
  std::string group = o.Has("group") && o.Get("group").IsString() ? o.Get("group").As<Napi::String>().Utf8Value() : "";
  std::string iface = o.Has("iface") && o.Get("iface").IsString() ? o.Get("iface").As<Napi::String>().Utf8Value() : "";
  std::string netns = o.Has("netns") && o.Get("netns").IsString() ? o.Get("netns").As<Napi::String>().Utf8Value() : "";
  int port = o.Get("port").As<Napi::Number>().Int32Value();
  uint32_t ringOff = o.Get("ringOffset").As<Napi::Number>().Uint32Value();
  unsigned entries = o.Get("entries").As<Napi::Number>().Uint32Value();
  uint32_t framesOff = o.Get("framesOffset").As<Napi::Number>().Uint32Value();
  uint32_t frameSize = o.Get("frameSize").As<Napi::Number>().Uint32Value();
  uint32_t metaOff = o.Get("metaOffset").As<Napi::Number>().Uint32Value();
  int rcvbuf = o.Has("rcvbuf") ? o.Get("rcvbuf").As<Napi::Number>().Int32Value() : 8 << 20;
  if (entries == 0 || (entries & (entries - 1)) || entries > 32768 || ringOff % 4096 ||
      ringOff + entries * sizeof(io_uring_buf) > span.length || framesOff + static_cast<size_t>(entries) * frameSize > span.length) {
    Napi::RangeError::New(env, "io_uring: buffer ring or frames outside the memory, or entries not a power of two up to 32768").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  auto r = std::make_unique<Ring>();
  r->base = span.base;
  r->framesOff = framesOff;
  r->frameSize = frameSize;
  r->metaOff = metaOff;
  r->queue = static_cast<uint16_t>(o.Has("queue") ? o.Get("queue").As<Napi::Number>().Uint32Value() : 0);
  r->memoryRef = Napi::Persistent(o.Get("memory").As<Napi::Object>());
  auto fail = [&](const std::string& what, int err) {
    destroy(r.get());
    return ThrowErrno(env, "io_uring: " + what, err);
  };

  // The socket.
  int err = 0;
  bool tcp = transport == "tcp";
  r->sock = openSocket(env, netns, tcp ? SOCK_STREAM : SOCK_DGRAM, &err);
  if (r->sock < 0) return fail(netns.empty() ? "socket" : "socket in netns " + netns, err);
  setsockopt(r->sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return fail("host " + host + " is not an IPv4 address", EINVAL);
  if (tcp) {
    int one = 1;
    setsockopt(r->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(r->sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("connect " + host + ":" + std::to_string(port), errno);
  } else {
    int one = 1;
    setsockopt(r->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in local = addr;
    if (transport == "udp-multicast") {
      // Bind the group's port on any address; join the group on the chosen interface only.
      local.sin_addr.s_addr = htonl(INADDR_ANY);
      if (bind(r->sock, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return fail("bind port " + std::to_string(port), errno);
      ip_mreqn mreq;
      std::memset(&mreq, 0, sizeof mreq);
      if (inet_pton(AF_INET, group.c_str(), &mreq.imr_multiaddr) != 1) return fail("group " + group + " is not an IPv4 address", EINVAL);
      mreq.imr_address = addr.sin_addr;
      if (!iface.empty()) mreq.imr_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
      if (setsockopt(r->sock, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
        return fail("join " + group + " on " + (iface.empty() ? host : iface), errno);
    } else if (bind(r->sock, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      return fail("bind " + host + ":" + std::to_string(port), errno);
    }
  }

  // The ring: small SQ (one multishot request), CQ sized for a full buffer ring of completions.
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = entries * 2;
  r->fd = sys_setup(8, &p);
  if (r->fd < 0) return fail("io_uring_setup", errno);
  if (!(p.features & IORING_FEAT_SINGLE_MMAP) || !(p.features & IORING_FEAT_EXT_ARG)) return fail("this kernel lacks IORING_FEAT_SINGLE_MMAP/EXT_ARG (needs Linux 5.11+)", ENOTSUP);
  r->sqLen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqLen = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  if (cqLen > r->sqLen) r->sqLen = cqLen;
  void* sq = mmap(nullptr, r->sqLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return fail("mmap SQ/CQ ring", errno);
  r->sqPtr = r->cqPtr = static_cast<uint8_t*>(sq);
  r->cqLen = r->sqLen;
  r->sqesLen = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, r->sqesLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) return fail("mmap SQEs", errno);
  r->sqes = static_cast<io_uring_sqe*>(sqes);
  r->sqHead = reinterpret_cast<unsigned*>(r->sqPtr + p.sq_off.head);
  r->sqTail = reinterpret_cast<unsigned*>(r->sqPtr + p.sq_off.tail);
  r->sqMask = reinterpret_cast<unsigned*>(r->sqPtr + p.sq_off.ring_mask);
  r->sqArray = reinterpret_cast<unsigned*>(r->sqPtr + p.sq_off.array);
  r->cqHead = reinterpret_cast<unsigned*>(r->cqPtr + p.cq_off.head);
  r->cqTail = reinterpret_cast<unsigned*>(r->cqPtr + p.cq_off.tail);
  r->cqMask = reinterpret_cast<unsigned*>(r->cqPtr + p.cq_off.ring_mask);
  r->cqes = reinterpret_cast<io_uring_cqe*>(r->cqPtr + p.cq_off.cqes);

  // The provided-buffer ring, in the shared memory; every frame on it.
  r->br = reinterpret_cast<io_uring_buf_ring*>(span.base + ringOff);
  r->brEntries = entries;
  std::memset(r->br, 0, entries * sizeof(io_uring_buf));
  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.ring_addr = reinterpret_cast<uint64_t>(r->br);
  reg.ring_entries = entries;
  reg.bgid = BGID;
  if (sys_register(r->fd, IORING_REGISTER_PBUF_RING, &reg, 1) != 0) return fail("IORING_REGISTER_PBUF_RING (needs Linux 5.19+)", errno);
  r->pbufRegistered = true;
  for (unsigned i = 0; i < entries; i++) giveBuffer(r.get(), static_cast<uint16_t>(i));
  publishBuffers(r.get());
  r->hash = (static_cast<uint32_t>(ntohl(addr.sin_addr.s_addr)) * 2654435761u) ^ static_cast<uint32_t>(port);

  if (!arm(r.get())) return fail("submit multishot recv", r->lastError);
  int id = nextId++;
  int fd = r->fd;
  rings[id] = std::move(r);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", id);
  out.Set("fd", fd);
  return out;
}

// iouringReceive(id, max, rxAddrsOffset) -> count. Walks the CQ a batch at a time; each frame's
// metadata record is written and its address stored at rxAddrs[i]. Frames are held until release.
Napi::Value Receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ring* r = find(info);
  if (!r) return env.Undefined();
  unsigned max = info[1].As<Napi::Number>().Uint32Value();
  uint32_t rxOff = info[2].As<Napi::Number>().Uint32Value();
  unsigned head = *r->cqHead;
  unsigned tail = std::atomic_ref<unsigned>(*r->cqTail).load(std::memory_order_acquire);
  if (head == tail) {
    // Run the deferred task work: completions are posted now, in one go.
    sys_enter(r->fd, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    tail = std::atomic_ref<unsigned>(*r->cqTail).load(std::memory_order_acquire);
  }
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  unsigned n = 0;
  bool rearm = false;
  while (head != tail && n < max) {
    io_uring_cqe* c = &r->cqes[head & *r->cqMask];
    head++;
    if (c->user_data != RECV_TAG) continue;
    if (!(c->flags & IORING_CQE_F_MORE)) {
      r->armed = false;
      rearm = true;
    }
    if (c->res > 0 && (c->flags & IORING_CQE_F_BUFFER)) {
      uint16_t bid = static_cast<uint16_t>(c->flags >> IORING_CQE_BUFFER_SHIFT);
      uint32_t data = r->framesOff + static_cast<uint32_t>(bid) * r->frameSize;
      uint32_t metaAddr = r->metaOff + static_cast<uint32_t>(bid) * WW_META_BYTES;
      uint8_t* m = r->base + metaAddr;
      uint32_t len = static_cast<uint32_t>(c->res);
      put<uint32_t>(m + WW_META_DATA, data);
      put<uint32_t>(m + WW_META_CAPLEN, len);
      put<uint32_t>(m + WW_META_WIRELEN, len);
      put<uint32_t>(m + WW_META_PTYPE, 0);
      put<uint64_t>(m + WW_META_TIMESTAMP, now);
      put<uint16_t>(m + WW_META_L2, WW_OFFSET_NONE);
      put<uint16_t>(m + WW_META_L3, WW_OFFSET_NONE);
      put<uint16_t>(m + WW_META_L4, WW_OFFSET_NONE);
      put<uint16_t>(m + WW_META_PAYLOAD, 0);
      put<uint16_t>(m + WW_META_INNER_L3, WW_OFFSET_NONE);
      put<uint16_t>(m + WW_META_INNER_L4, WW_OFFSET_NONE);
      put<uint16_t>(m + WW_META_VLAN0, WW_VLAN_NONE);
      put<uint16_t>(m + WW_META_VLAN1, WW_VLAN_NONE);
      put<uint32_t>(m + WW_META_HASH, r->hash);
      put<uint32_t>(m + WW_META_ERRORS, 0);
      put<uint16_t>(m + WW_META_QUEUE, r->queue);
      put<uint16_t>(m + WW_META_LINKTYPE, LINKTYPE_PAYLOAD);
      put<uint32_t>(m + WW_META_MARK, 0);
      put<uint32_t>(m + WW_META_REFCNT, 0);
      put<uint32_t>(m + WW_META_NEXT, WW_NEXT_NONE);
      put<uint32_t>(r->base + rxOff + 4 * n, metaAddr);
      r->held.push_back(bid);
      r->rx++;
      r->rxBytes += len;
      n++;
    } else if (c->res == 0) {
      r->ended = true;  // TCP: the peer closed
      rearm = false;
    } else if (c->res == -ENOBUFS) {
      r->noBuffer++;  // every frame was held: the data waits in the socket until we re-arm
    } else if (c->res < 0) {
      r->lastError = -c->res;
      rearm = false;
    }
  }
  // The kernel may reuse the CQ slots once it sees the head.
  std::atomic_ref<unsigned>(*r->cqHead).store(head, std::memory_order_release);
  if (rearm && !r->armed && !r->ended) arm(r);
  return Napi::Number::New(env, n);
}

// iouringRelease(id): the frames of the last burst go back on the buffer ring.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Ring* r = find(info);
  if (!r) return info.Env().Undefined();
  if (!r->held.empty()) {
    for (uint16_t bid : r->held) giveBuffer(r, bid);
    r->held.clear();
    publishBuffers(r);
    if (!r->armed && !r->ended) arm(r);
  }
  return info.Env().Undefined();
}

// iouringWait(id, timeoutMs) -> bool: blocks until a completion is posted or the timeout passes.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ring* r = find(info);
  if (!r) return env.Undefined();
  double ms = info[1].As<Napi::Number>().DoubleValue();
  if (*r->cqHead != std::atomic_ref<unsigned>(*r->cqTail).load(std::memory_order_acquire)) return Napi::Boolean::New(env, true);
  if (!r->armed && !r->ended) arm(r);
  __kernel_timespec ts;
  ts.tv_sec = static_cast<long long>(ms / 1000);
  ts.tv_nsec = static_cast<long long>((ms - static_cast<double>(ts.tv_sec) * 1000) * 1e6);
  io_uring_getevents_arg arg;
  std::memset(&arg, 0, sizeof arg);
  arg.ts = reinterpret_cast<uint64_t>(&ts);
  sys_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  return Napi::Boolean::New(env, *r->cqHead != std::atomic_ref<unsigned>(*r->cqTail).load(std::memory_order_acquire));
}

// iouringSend(id, Uint8Array) -> bytes written (TCP: the login; a short blocking write).
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ring* r = find(info);
  if (!r) return env.Undefined();
  Napi::Uint8Array b = info[1].As<Napi::Uint8Array>();
  ssize_t w = send(r->sock, b.Data(), b.ByteLength(), MSG_NOSIGNAL);
  if (w < 0) return ThrowErrno(env, "io_uring: send", errno);
  return Napi::Number::New(env, static_cast<double>(w));
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ring* r = find(info);
  if (!r) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rx", r->rx);
  o.Set("rxBytes", r->rxBytes);
  o.Set("noBuffer", r->noBuffer);
  o.Set("arms", r->rearms);
  o.Set("ended", r->ended);
  o.Set("armed", r->armed);
  // The socket's own drop counter (receive queue full), SO_MEMINFO[SK_MEMINFO_DROPS].
  uint32_t mi[SK_MEMINFO_VARS];
  socklen_t len = sizeof mi;
  double drops = 0;
  if (getsockopt(r->sock, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 && len > SK_MEMINFO_DROPS * sizeof(uint32_t)) drops = mi[SK_MEMINFO_DROPS];
  o.Set("socketDrops", drops);
  if (r->lastError) {
    const char* name = strerrorname_np(r->lastError);
    o.Set("error", Napi::String::New(env, std::string(name ? name : "E?") + ": " + std::strerror(r->lastError)));
  }
  return o;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  auto it = rings.find(info[0].As<Napi::Number>().Int32Value());
  if (it != rings.end()) {
    destroy(it->second.get());
    rings.erase(it);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterIoUring(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {
      {"iouringOpen", Open}, {"iouringReceive", Receive}, {"iouringRelease", Release},
      {"iouringWait", Wait}, {"iouringSend", Send}, {"iouringStats", Stats}, {"iouringClose", Close},
  });
  RegisterIoUringSender(env, exports);
}

}  // namespace wirewasm
