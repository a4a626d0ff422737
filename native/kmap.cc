// Handles for kernel objects mapped into the shared memory, their teardown, and the few syscalls
// every ring backend needs (poll, wake-ups). See kmap.h for the rules enforced here.
#include "kmap.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace wirewasm {

static std::mutex handles_mu;
static std::map<int, KernelHandle*> handles;
static int next_id = 1;

void RestoreAnonymous(const Mapping& m) {
  // MAP_FIXED replaces the kernel ring pages in one step: no instant where the range is a hole.
  mmap(m.addr, m.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void Teardown(KernelHandle* h) {
  for (auto it = h->mappings.rbegin(); it != h->mappings.rend(); ++it) RestoreAnonymous(*it);
  h->mappings.clear();
  for (auto it = h->fds.rbegin(); it != h->fds.rend(); ++it) close(*it);
  h->fds.clear();
}

static void EnvCleanup(void* arg) {
  int id = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  KernelHandle* h = nullptr;
  {
    std::lock_guard<std::mutex> g(handles_mu);
    auto it = handles.find(id);
    if (it == handles.end()) return;
    h = it->second;
    handles.erase(it);
  }
  Teardown(h);
  // The env is going away with everything in it: let the reference die with it.
  h->memory.SuppressDestruct();
  delete h;
}

int AddHandle(Napi::Env env, KernelHandle* h) {
  {
    std::lock_guard<std::mutex> g(handles_mu);
    h->id = next_id++;
    handles[h->id] = h;
  }
  h->env = env;
  napi_add_env_cleanup_hook(env, EnvCleanup, reinterpret_cast<void*>(static_cast<intptr_t>(h->id)));
  return h->id;
}

KernelHandle* FindHandle(int id) {
  std::lock_guard<std::mutex> g(handles_mu);
  auto it = handles.find(id);
  return it == handles.end() ? nullptr : it->second;
}

bool ReleaseHandle(int id) {
  KernelHandle* h;
  {
    std::lock_guard<std::mutex> g(handles_mu);
    auto it = handles.find(id);
    if (it == handles.end()) return false;
    h = it->second;
    handles.erase(it);
  }
  napi_remove_env_cleanup_hook(h->env, EnvCleanup, reinterpret_cast<void*>(static_cast<intptr_t>(id)));
  Teardown(h);
  delete h;  // drops the Memory reference last, after nothing is mapped into it
  return true;
}

Napi::Value DiscardHandle(KernelHandle* h, Napi::Value thrown) {
  Teardown(h);
  delete h;
  return thrown;
}

bool MapIntoMemory(Napi::Env env, const MemorySpan& span, uint64_t off, size_t len, int fd, off_t pgoff,
                   KernelHandle* h, const char* what) {
  if (off % 4096 != 0) {
    ThrowReason(env, std::string(what) + ": offset " + std::to_string(off) + " is not page-aligned", EINVAL, "bad-config");
    return false;
  }
  if (off + len > span.length) {
    ThrowReason(env, std::string(what) + ": needs bytes " + std::to_string(off) + ".." + std::to_string(off + len) +
                         " but the memory holds " + std::to_string(span.length) + "; raise kernelBytesPerQueue or the memory size",
                EINVAL, "memory-too-small");
    return false;
  }
  void* want = span.base + off;
  void* got = mmap(want, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, pgoff);
  if (got == MAP_FAILED) {
    // MAP_FIXED failing leaves the old mapping in place (the kernel checks before unmapping).
    ThrowErrno(env, std::string("mmap of ") + what + " into the memory", errno);
    return false;
  }
  h->mappings.push_back({static_cast<uint8_t*>(want), len});
  return true;
}

NetnsGuard::NetnsGuard(const std::string& name) {
  if (name.empty()) return;
  saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0) {
    err_ = errno;
    return;
  }
  std::string path = name.find('/') == std::string::npos ? "/run/netns/" + name : name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err_ = errno;
    return;
  }
  if (setns(fd, CLONE_NEWNET) != 0) err_ = errno;
  close(fd);
}

NetnsGuard::~NetnsGuard() {
  if (saved_ >= 0) {
    setns(saved_, CLONE_NEWNET);
    close(saved_);
  }
}

std::string GetString(Napi::Object o, const char* key, const std::string& def) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : def;
}
int64_t GetInt(Napi::Object o, const char* key, int64_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
}
bool GetBool(Napi::Object o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
}

Napi::Value ThrowReason(Napi::Env env, const std::string& what, int err, const char* reason) {
  Napi::Error e = ErrnoError(env, what, err);
  e.Set("reason", Napi::String::New(env, reason));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

static Napi::Value Release(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), ReleaseHandle(info[0].As<Napi::Number>().Int32Value()));
}

static Napi::Value Mappings(const Napi::CallbackInfo& info) {
  // How many ring mappings are live across all handles: tests check teardown left none.
  std::lock_guard<std::mutex> g(handles_mu);
  size_t n = 0, fds = 0;
  for (auto& [id, h] : handles) n += h->mappings.size(), fds += h->fds.size();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("handles", Napi::Number::New(info.Env(), static_cast<double>(handles.size())));
  o.Set("mappings", Napi::Number::New(info.Env(), static_cast<double>(n)));
  o.Set("fds", Napi::Number::New(info.Env(), static_cast<double>(fds)));
  return o;
}

// poll(fd, events, timeoutMs) -> revents (0 on timeout). Blocks the calling thread: call it from a
// worker that owns the queue, or with a short timeout.
static Napi::Value Poll(const Napi::CallbackInfo& info) {
  pollfd p = {info[0].As<Napi::Number>().Int32Value(), static_cast<short>(info[1].As<Napi::Number>().Int32Value()), 0};
  int r = poll(&p, 1, info[2].As<Napi::Number>().Int32Value());
  if (r < 0 && errno != EINTR) return ThrowErrno(info.Env(), "poll", errno);
  return Napi::Number::New(info.Env(), r > 0 ? p.revents : 0);
}

// Wakes the kernel's TX path: sendto with no data (AF_XDP TX ring, PACKET_TX_RING).
static Napi::Value Kick(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  ssize_t r = sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  // EAGAIN/EBUSY/ENOBUFS: the kernel is busy with earlier frames and will take these next time.
  if (r < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
    return ThrowErrno(info.Env(), "sendto (TX wake-up)", errno);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

// Wakes the kernel's RX path when the fill ring asks for it (AF_XDP need_wakeup).
static Napi::Value Wake(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  recvfrom(fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  return info.Env().Undefined();
}

// clockNs(id) -> clock_gettime(id) in ns as a BigInt (0 CLOCK_REALTIME, 1 CLOCK_MONOTONIC).
static Napi::Value ClockNs(const Napi::CallbackInfo& info) {
  timespec ts;
  clock_gettime(static_cast<clockid_t>(info[0].As<Napi::Number>().Int32Value()), &ts);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec)));
}

void RegisterKmap(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {
      {"clockNs", ClockNs}, {"kernelRelease", Release}, {"kernelMappings", Mappings}, {"fdPoll", Poll},
      {"fdKick", Kick}, {"fdWake", Wake},
  });
  RegisterAfPacket(env, exports);
  RegisterAfXdp(env, exports);
  RegisterBpf(env, exports);
  RegisterAffinity(env, exports);
  RegisterIfCaps(env, exports);
}

}  // namespace wirewasm
