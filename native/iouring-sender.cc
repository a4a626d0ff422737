// io_uring UDP sender for the feed benchmark and simulator (host/feed/sim.ts, bench/suites/feed.ts): a ring of 256
// SQEs, packets in batches of up to 64 IORING_OP_SEND, one io_uring_enter per batch (submit and
// wait for the batch's completions), paced to a packet rate. Blocking: call it from a worker
// thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "addon.h"
#include "iouring.h"

namespace wirewasm {
namespace {

using iouring::openSocket;
using iouring::sys_enter;
using iouring::sys_setup;

std::atomic<int> nextId{1};
struct Sender {
  int fd = -1;
  int sock = -1;
  // Not connect()ed: a connected UDP socket turns the receiver's ICMP port-unreachable (a capture
  // backend has no socket bound there) into a failed later send. Each SQE names the destination.
  sockaddr_in dst;
  uint8_t* sqPtr = nullptr;
  size_t sqLen = 0;
  io_uring_sqe* sqes = nullptr;
  size_t sqesLen = 0;
  unsigned *sqTail, *sqMask, *sqArray, *cqHead, *cqTail, *cqMask;
  io_uring_cqe* cqes;
};

std::mutex sendersLock;
std::map<int, std::unique_ptr<Sender>> senders;

void destroySender(Sender* s) {
  if (s->sqes) munmap(s->sqes, s->sqesLen);
  if (s->sqPtr) munmap(s->sqPtr, s->sqLen);
  if (s->fd >= 0) close(s->fd);
  if (s->sock >= 0) close(s->sock);
}

// iouringSenderOpen({host, port, multicastIf?, netns?}) -> id. `host` may be a multicast group; then
// multicastIf is the local interface address it leaves by (loopback in tests), TTL 1, loop on.
Napi::Value SenderOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string host = o.Get("host").As<Napi::String>().Utf8Value();
  int port = o.Get("port").As<Napi::Number>().Int32Value();
  std::string mif = o.Has("multicastIf") && o.Get("multicastIf").IsString() ? o.Get("multicastIf").As<Napi::String>().Utf8Value() : "";
  std::string netns = o.Has("netns") && o.Get("netns").IsString() ? o.Get("netns").As<Napi::String>().Utf8Value() : "";
  auto s = std::make_unique<Sender>();
  auto fail = [&](const std::string& what, int err) {
    destroySender(s.get());
    return ThrowErrno(env, "io_uring sender: " + what, err);
  };
  int err = 0;
  s->sock = openSocket(env, netns, SOCK_DGRAM, &err);
  if (s->sock < 0) return fail("socket", err);
  int sndbuf = 8 << 20;
  setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  sockaddr_in dst;
  std::memset(&dst, 0, sizeof dst);
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &dst.sin_addr) != 1) return fail("host " + host + " is not an IPv4 address", EINVAL);
  if (!mif.empty()) {
    in_addr a;
    if (inet_pton(AF_INET, mif.c_str(), &a) != 1) return fail("interface address " + mif, EINVAL);
    unsigned char ttl = 1, loop = 1;
    if (setsockopt(s->sock, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) != 0) return fail("IP_MULTICAST_IF " + mif, errno);
    setsockopt(s->sock, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(s->sock, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    sockaddr_in local;
    std::memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    local.sin_addr = a;
    if (bind(s->sock, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return fail("bind " + mif, errno);
  }
  s->dst = dst;
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE;
  p.cq_entries = 512;
  s->fd = sys_setup(256, &p);
  if (s->fd < 0) return fail("io_uring_setup", errno);
  s->sqLen = std::max<size_t>(p.sq_off.array + p.sq_entries * sizeof(unsigned), p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe));
  void* sq = mmap(nullptr, s->sqLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) return fail("mmap ring", errno);
  s->sqPtr = static_cast<uint8_t*>(sq);
  s->sqesLen = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, s->sqesLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) return fail("mmap SQEs", errno);
  s->sqes = static_cast<io_uring_sqe*>(sqes);
  s->sqTail = reinterpret_cast<unsigned*>(s->sqPtr + p.sq_off.tail);
  s->sqMask = reinterpret_cast<unsigned*>(s->sqPtr + p.sq_off.ring_mask);
  s->sqArray = reinterpret_cast<unsigned*>(s->sqPtr + p.sq_off.array);
  s->cqHead = reinterpret_cast<unsigned*>(s->sqPtr + p.cq_off.head);
  s->cqTail = reinterpret_cast<unsigned*>(s->sqPtr + p.cq_off.tail);
  s->cqMask = reinterpret_cast<unsigned*>(s->sqPtr + p.cq_off.ring_mask);
  s->cqes = reinterpret_cast<io_uring_cqe*>(s->sqPtr + p.cq_off.cqes);
  std::lock_guard<std::mutex> g(sendersLock);
  int id = nextId++;
  senders[id] = std::move(s);
  return Napi::Number::New(env, id);
}

inline uint64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// iouringSenderSend(id, data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, first, count, pps,
//   sentAt?: Float64Array) -> {sent, errors, ns}. Sends packets first..first+count-1 (bytes
//   data[offsets[i], +lengths[i]]), `pps` packets per second (0: as fast as the socket takes them);
//   sentAt[i] gets packet i's send time (µs since the epoch) when given.
Napi::Value SenderSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Sender* s;
  {
    std::lock_guard<std::mutex> g(sendersLock);
    auto it = senders.find(info[0].As<Napi::Number>().Int32Value());
    if (it == senders.end()) {
      Napi::Error::New(env, "io_uring sender: no such handle").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    s = it->second.get();
  }
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  Napi::Uint32Array offs = info[2].As<Napi::Uint32Array>();
  Napi::Uint32Array lens = info[3].As<Napi::Uint32Array>();
  uint32_t first = info[4].As<Napi::Number>().Uint32Value();
  uint32_t count = info[5].As<Napi::Number>().Uint32Value();
  double pps = info[6].As<Napi::Number>().DoubleValue();
  // Optional: a Float64Array the send time of each packet goes to (µs since the epoch, at its batch's
  // submission, by packet index), for a receiver measuring how long datagrams wait before it reads them.
  double* sentAt = nullptr;
  if (info.Length() > 7 && info[7].IsTypedArray()) {
    Napi::Float64Array a = info[7].As<Napi::Float64Array>();
    if (a.ElementLength() >= offs.ElementLength()) sentAt = a.Data();
  }
  if (static_cast<size_t>(first) + count > offs.ElementLength() || offs.ElementLength() != lens.ElementLength()) {
    Napi::RangeError::New(env, "io_uring sender: packets out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Paced sends sleep until each batch is due, with a 1 µs timer slack (the default 50 µs would
  // make every batch late), instead of spinning: the benchmark runs its two senders on the
  // receiver's machine, and a spinning sender takes a whole core from the receiver it measures.
  if (pps > 0) prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  const uint64_t t0 = monoNs();
  uint64_t sent = 0, errors = 0;
  for (uint32_t i = 0; i < count;) {
    unsigned k = std::min<uint32_t>(64, count - i);
    if (pps > 0) {
      // Packet i is due at t0 + i / pps: wait for the batch's first packet.
      uint64_t due = t0 + static_cast<uint64_t>(static_cast<double>(i) * 1e9 / pps);
      if (monoNs() < due) {
        timespec d{static_cast<time_t>(due / 1000000000ull), static_cast<long>(due % 1000000000ull)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, nullptr) == EINTR) {
        }
      }
      // Do not send more than is due within the next 100 µs.
      uint64_t ahead = static_cast<uint64_t>(pps / 10000) + 1;
      if (k > ahead) k = static_cast<unsigned>(ahead);
    }
    if (sentAt) {
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      double us = static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
      for (unsigned j = 0; j < k; j++) sentAt[first + i + j] = us;
    }
    unsigned tail = *s->sqTail;
    for (unsigned j = 0; j < k; j++) {
      unsigned idx = (tail + j) & *s->sqMask;
      io_uring_sqe* q = &s->sqes[idx];
      std::memset(q, 0, sizeof *q);
      q->opcode = IORING_OP_SEND;
      q->fd = s->sock;
      uint32_t n = first + i + j;
      q->addr = reinterpret_cast<uint64_t>(data.Data() + offs[n]);
      q->len = lens[n];
      q->addr2 = reinterpret_cast<uint64_t>(&s->dst);
      q->addr_len = sizeof s->dst;
      q->user_data = n;
      s->sqArray[idx] = idx;
    }
    std::atomic_ref<unsigned>(*s->sqTail).store(tail + k, std::memory_order_release);
    int rc = sys_enter(s->fd, k, k, IORING_ENTER_GETEVENTS, nullptr, 0);
    if (rc < 0 && errno != EINTR) return ThrowErrno(env, "io_uring sender: io_uring_enter", errno);
    unsigned done = 0;
    while (done < k) {
      unsigned head = *s->cqHead;
      unsigned ctail = std::atomic_ref<unsigned>(*s->cqTail).load(std::memory_order_acquire);
      if (head == ctail) {
        sys_enter(s->fd, 0, 1, IORING_ENTER_GETEVENTS, nullptr, 0);
        continue;
      }
      for (; head != ctail; head++, done++) {
        io_uring_cqe* c = &s->cqes[head & *s->cqMask];
        if (c->res < 0) errors++;
        else sent++;
      }
      std::atomic_ref<unsigned>(*s->cqHead).store(head, std::memory_order_release);
    }
    i += k;
  }
  if (pps > 0) prctl(PR_SET_TIMERSLACK, 0UL, 0, 0, 0);  // back to the thread's default
  Napi::Object out = Napi::Object::New(env);
  out.Set("sent", static_cast<double>(sent));
  out.Set("errors", static_cast<double>(errors));
  out.Set("ns", static_cast<double>(monoNs() - t0));
  return out;
}

Napi::Value SenderClose(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(sendersLock);
  auto it = senders.find(info[0].As<Napi::Number>().Int32Value());
  if (it != senders.end()) {
    destroySender(it->second.get());
    senders.erase(it);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterIoUringSender(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {
      {"iouringSenderOpen", SenderOpen}, {"iouringSenderSend", SenderSend},
      {"iouringSenderClose", SenderClose},
  });
}

}  // namespace wirewasm
