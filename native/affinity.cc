// Threads and memory placement: pin the calling thread to CPUs, ask which NUMA node backs a
// region of the shared memory, and bind a region to a node. Raw syscalls (no libnuma), best
// effort: each call reports what happened instead of assuming.
#include <linux/mempolicy.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kmap.h"

namespace wirewasm {

// pinThread([cpu, ...]) -> the CPUs the calling thread may now run on.
static Napi::Value Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cpu_set_t set;
  CPU_ZERO(&set);
  Napi::Array cpus = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < cpus.Length(); i++) CPU_SET(cpus.Get(i).As<Napi::Number>().Uint32Value(), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return ThrowErrno(env, "sched_setaffinity", errno);
  return info.Env().Undefined();
}

static Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return ThrowErrno(env, "sched_getaffinity", errno);
  Napi::Array out = Napi::Array::New(env);
  for (int c = 0, k = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) out.Set(k++, Napi::Number::New(env, c));
  return out;
}

// numaNodeOf(memory, offset) -> the node of the page at that offset (touching it first), or -errno.
static Napi::Value NodeOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemorySpan span;
  if (!GetMemorySpan(env, info[0], &span)) return env.Undefined();
  uint64_t off = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  if (off >= span.length) return ThrowReason(env, "offset past the end of the memory", EINVAL, "bad-config");
  int node = -1;
  long r = syscall(__NR_get_mempolicy, &node, nullptr, 0, span.base + off, MPOL_F_NODE | MPOL_F_ADDR);
  return Napi::Number::New(env, r == 0 ? node : -errno);
}

// bindToNode(memory, offset, length, node) -> 0, or -errno (ENOSYS/EPERM/EINVAL: not possible here).
// MPOL_PREFERRED, not BIND: pages already placed stay usable, new ones come from that node.
static Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemorySpan span;
  if (!GetMemorySpan(env, info[0], &span)) return env.Undefined();
  uint64_t off = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  uint64_t len = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  int node = info[3].As<Napi::Number>().Int32Value();
  if (off % 4096 || off + len > span.length) return ThrowReason(env, "mbind: range must be page-aligned and inside the memory", EINVAL, "bad-config");
  unsigned long mask[16];
  std::memset(mask, 0, sizeof mask);
  if (node < 0 || node >= 1024) return ThrowReason(env, "mbind: node out of range", EINVAL, "bad-config");
  mask[node / 64] |= 1UL << (node % 64);
  long r = syscall(__NR_mbind, span.base + off, len, MPOL_PREFERRED, mask, 1024UL, MPOL_MF_MOVE);
  return Napi::Number::New(env, r == 0 ? 0 : -errno);
}

void RegisterAffinity(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {
      {"pinThread", Pin}, {"threadAffinity", GetAffinity}, {"numaNodeOf", NodeOf}, {"bindToNode", Bind},
  });
}

}  // namespace wirewasm
