#include "socket-open.h"

#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>

namespace wirewasm {

Napi::Object OptionsArgument(const Napi::CallbackInfo& info) {
  if (info[0].IsObject()) return info[0].As<Napi::Object>();
  Napi::TypeError::New(info.Env(), "expected one options object ({iface, netns, ...})").ThrowAsJavaScriptException();
  return Napi::Object();
}

InterfaceInNetns::InterfaceInNetns(Napi::Env env, Napi::Object o)
    : options(o), name(o.IsEmpty() ? "" : GetString(o, "iface")), netns_(o.IsEmpty() ? "" : GetString(o, "netns")) {
  if (o.IsEmpty()) return;  // not an options object: ok() is false, OptionsArgument's TypeError pending
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

InterfaceInNetns::InterfaceInNetns(const Napi::CallbackInfo& info) : InterfaceInNetns(info.Env(), OptionsArgument(info)) {}

SocketOpen::SocketOpen(const Napi::CallbackInfo& info) : options(OptionsArgument(info)) {
  if (options.IsEmpty()) return;
  Napi::Env env = info.Env();
  Napi::Object o = options;
  if (!GetMemorySpan(env, o.Get("memory"), &parts.span)) return;
  interface_.emplace(env, o);
  if (!interface_->ok()) return;
  parts.iface = interface_->name;
  parts.ifindex = interface_->index;
  parts.handle = new KernelHandle();
  parts.handle->memory = Napi::Persistent(o.Get("memory").As<Napi::Object>());
}

int SocketOpen::Socket(int domain, int type, const char* what) {
  int fd = socket(domain, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    ThrowReason(options.Env(), what, err, err == EPERM ? "missing-privilege" : "unsupported");
    return -1;
  }
  parts.handle->fds.push_back(fd);
  return fd;
}

Napi::Object CountersObject(Napi::Env env, std::initializer_list<std::pair<const char*, double>> fields) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [name, value] : fields) o.Set(name, Napi::Number::New(env, value));
  return o;
}

Napi::Object SocketOpen::Done(Napi::Object out) const {
  out.Set("id", Napi::Number::New(out.Env(), AddHandle(out.Env(), parts.handle)));
  return out;
}

}  // namespace wirewasm
