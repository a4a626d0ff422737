// Kernel objects owned by the addon: sockets, BPF programs and links, and the pages of kernel
// rings mapped into the shared WebAssembly.Memory. The one place that enforces the native host's
// rules (docs/native-host.md):
//  - map only inside the memory's current byteLength (V8 relies on guard pages past the end);
//  - on teardown map anonymous pages back with MAP_FIXED before closing the fd (a hole would crash
//    the next typed-array or atomic access);
//  - hold a reference to the WebAssembly.Memory while anything is mapped into it (if it were
//    collected, V8 would unmap the whole range under the kernel's feet);
//  - release on close, on process exit and when the worker (env) that opened it goes away.
#pragma once
#include <string>
#include <vector>

#include "addon.h"

namespace wirewasm {

struct Mapping {
  uint8_t* addr;
  size_t len;
};

// A kernel object the JS side refers to by id.
struct KernelHandle {
  int id = 0;
  std::vector<int> fds;            // closed in reverse order after the mappings are restored
  std::vector<Mapping> mappings;   // restored to anonymous pages first
  Napi::ObjectReference memory;    // keeps the Memory (and so the reservation) alive
  napi_env env = nullptr;
};

// Registers a handle: adds the env cleanup hook and returns its id.
int AddHandle(Napi::Env env, KernelHandle* h);
KernelHandle* FindHandle(int id);
// Restores mappings, closes fds, drops the reference and frees the handle; false when unknown.
bool ReleaseHandle(int id);
// The same for a handle whose open failed before AddHandle. Returns `thrown`, so that a failed open
// ends with `return DiscardHandle(h, ThrowReason(...))`.
Napi::Value DiscardHandle(KernelHandle* h, Napi::Value thrown);

// mmap(base + off, len, MAP_SHARED | MAP_FIXED, fd, pgoff) after checking that [off, off+len) is
// page-aligned and inside the memory's current length. On error throws a JS error and returns false.
bool MapIntoMemory(Napi::Env env, const MemorySpan& span, uint64_t off, size_t len, int fd, off_t pgoff,
                   KernelHandle* h, const char* what);

// Puts anonymous zero pages back over [addr, addr+len).
void RestoreAnonymous(const Mapping& m);

// Switches the calling thread into a named network namespace (/run/netns/NAME) for its lifetime,
// and back on destruction. Sockets created meanwhile stay in that namespace. Empty name: no-op.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& name);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;  // a copy would switch back (and close) twice
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  bool ok() const { return err_ == 0; }
  int error() const { return err_; }

 private:
  int saved_ = -1;
  int err_ = 0;
};

// Reads an optional property.
std::string GetString(Napi::Object o, const char* key, const std::string& def = "");
int64_t GetInt(Napi::Object o, const char* key, int64_t def);
bool GetBool(Napi::Object o, const char* key, bool def);

// Throws ErrnoError(env, what, err) with a `reason` property the host maps to a fix.
Napi::Value ThrowReason(Napi::Env env, const std::string& what, int err, const char* reason);

void RegisterKmap(Napi::Env env, Napi::Object exports);
void RegisterAfPacket(Napi::Env env, Napi::Object exports);
void RegisterAfXdp(Napi::Env env, Napi::Object exports);
void RegisterBpf(Napi::Env env, Napi::Object exports);
void RegisterAffinity(Napi::Env env, Napi::Object exports);
void RegisterIfCaps(Napi::Env env, Napi::Object exports);

}  // namespace wirewasm
