// The start every open of a kernel object on a named interface shares: enter the caller's network
// namespace and find the interface there (xskOpen, afpacketOpen, xdpAttach, ifInfo); for the socket
// backends that map rings into the memory (AF_XDP, AF_PACKET), also the memory's span and a
// KernelHandle to own what the open creates. Also the read of such a socket's kernel counters.
#pragma once
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "kmap.h"

namespace wirewasm {

// The options object a binding is called with (info[0]); an empty handle with a TypeError pending
// when it is not an object.
Napi::Object OptionsArgument(const Napi::CallbackInfo& info);

// Enters the network namespace o.netns (when given) for this object's lifetime, so that sockets,
// programs and links made meanwhile live in it, and looks up the interface o.iface there.
// On failure ok() is false and a JS error with reason "no-such-interface" is pending.
class InterfaceInNetns {
 public:
  InterfaceInNetns(Napi::Env env, Napi::Object o);
  // The same for a binding called with one options object (info[0]); anything else is a TypeError.
  explicit InterfaceInNetns(const Napi::CallbackInfo& info);
  bool ok() const { return index != 0; }
  const Napi::Object options;
  const std::string name;
  unsigned index = 0;

 private:
  NetnsGuard netns_;
};

// The prologue of the ring-mapping socket opens: o.memory's span, the interface (its namespace
// entered until the open returns), and a KernelHandle that holds the Memory and collects the fds
// and mappings the open makes. On failure ok() is false and a JS error is pending.
class SocketOpen {
 public:
  // The open's options are info[0] (`options`).
  explicit SocketOpen(const Napi::CallbackInfo& info);
  bool ok() const { return parts.handle != nullptr; }
  // Unwinds a failed open (DiscardHandle) and passes the thrown value on.
  Napi::Value Fail(Napi::Value thrown) const { return DiscardHandle(parts.handle, thrown); }
  // socket(domain, type | SOCK_CLOEXEC, 0), owned by the handle from here on; -1 with the error
  // pending (reason missing-privilege without CAP_NET_RAW, unsupported otherwise).
  int Socket(int domain, int type, const char* what);
  // Ends a successful open: registers the handle and returns `out` with its id.
  Napi::Object Done(Napi::Object out) const;

  const Napi::Object options;

  struct Parts {
    MemorySpan span;
    std::string iface;
    unsigned ifindex;
    KernelHandle* handle;  // registered by AddHandle once the open succeeds
  } parts{};

 private:
  std::optional<InterfaceInNetns> interface_;  // entered after the memory is checked: a bad memory argument never enters the namespace
};

// Reads the counters of the socket whose fd a stats binding is called with (info[0]; getsockopt
// `name` at `level`, e.g. PACKET_STATISTICS) into st, zeroed first so that fields an older kernel
// leaves out read 0. Returns the bytes the kernel wrote, or nothing with a JS error naming `what` pending.
template <typename Counters>
std::optional<socklen_t> ReadSocketCounters(const Napi::CallbackInfo& info, int level, int name, const char* what, Counters& st) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    Napi::TypeError::New(env, std::string(what) + ": expected the socket's fd (a number)").ThrowAsJavaScriptException();
    return std::nullopt;
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(fd, level, name, &st, &len) != 0) {
    ThrowErrno(env, what, errno);
    return std::nullopt;
  }
  return len;
}

// The JS object a stats binding returns: {name: value, ...} for each counter of `fields`.
Napi::Object CountersObject(Napi::Env env, std::initializer_list<std::pair<const char*, double>> fields);

}  // namespace wirewasm
