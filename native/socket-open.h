// The start every open of a kernel object on a named interface shares: enter the caller's network
// namespace and find the interface there (xskOpen, afpacketOpen, xdpAttach, ifInfo); for the socket
// backends that map rings into the memory (AF_XDP, AF_PACKET), also the memory's span and a
// KernelHandle to own what the open creates.
#pragma once
#include <optional>
#include <string>

#include "kmap.h"

namespace wirewasm {

// Enters the network namespace o.netns (when given) for this object's lifetime, so that sockets,
// programs and links made meanwhile live in it, and looks up the interface o.iface there.
// On failure ok() is false and a JS error with reason "no-such-interface" is pending.
class InterfaceInNetns {
 public:
  InterfaceInNetns(Napi::Env env, Napi::Object o);
  bool ok() const { return index != 0; }
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
  SocketOpen(Napi::Env env, Napi::Object o);
  bool ok() const { return parts.handle != nullptr; }
  // Unwinds a failed open (DiscardHandle) and passes the thrown value on.
  Napi::Value Fail(Napi::Value thrown) const { return DiscardHandle(parts.handle, thrown); }

  struct Parts {
    MemorySpan span;
    std::string iface;
    unsigned ifindex;
    KernelHandle* handle;  // registered by AddHandle once the open succeeds
  } parts{};

 private:
  std::optional<InterfaceInNetns> interface_;  // entered after the memory is checked: a bad memory argument never enters the namespace
};

}  // namespace wirewasm
