#include "socket-open.h"

#include <net/if.h>

#include <cerrno>

namespace wirewasm {

InterfaceInNetns::InterfaceInNetns(Napi::Env env, Napi::Object o)
    : name(GetString(o, "iface")), netns_(GetString(o, "netns")) {
  if (!netns_.ok()) {
    ThrowReason(env, "entering network namespace " + GetString(o, "netns"), netns_.error(), "no-such-interface");
    return;
  }
  index = if_nametoindex(name.c_str());
  if (index == 0) {
    int err = errno;
    ThrowReason(env, "interface " + name, err, "no-such-interface");
  }
}

SocketOpen::SocketOpen(Napi::Env env, Napi::Object o) {
  if (!GetMemorySpan(env, o.Get("memory"), &parts.span)) return;
  interface_.emplace(env, o);
  if (!interface_->ok()) return;
  parts.iface = interface_->name;
  parts.ifindex = interface_->index;
  parts.handle = new KernelHandle();
  parts.handle->memory = Napi::Persistent(o.Get("memory").As<Napi::Object>());
}

}  // namespace wirewasm
