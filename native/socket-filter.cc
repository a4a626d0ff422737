// Classic BPF attached to a socket in the kernel (SO_ATTACH_FILTER, socket(7)): on an AF_PACKET
// socket a packet the program rejects is dropped before it reaches the ring, so it costs no ring
// slot and no wake-up. The program is the one pcap_compile made (struct sock_filter has the
// layout of struct bpf_insn); the kernel checks it and refuses what it cannot run, e.g. backward jumps.
//
//   attachSocketFilter(fd, insns: Uint8Array of 8-byte instructions)   throws errno errors
//   detachSocketFilter(fd)
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>

#include "addon.h"

namespace wirewasm {

namespace {

Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0 || bytes.ByteLength() % sizeof(sock_filter) || bytes.ByteLength() / sizeof(sock_filter) > BPF_MAXINSNS)
    return ThrowErrno(env, "attachSocketFilter: a program is 1 to 4096 instructions of 8 bytes", 0);
  sock_fprog prog;
  prog.len = static_cast<unsigned short>(bytes.ByteLength() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(bytes.Data());
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) return ThrowErrno(env, "SO_ATTACH_FILTER", errno);
  return env.Undefined();
}

Napi::Value Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int unused = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0 && errno != ENOENT) return ThrowErrno(env, "SO_DETACH_FILTER", errno);
  return env.Undefined();
}

}  // namespace

void RegisterSocketFilter(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"attachSocketFilter", Attach}, {"detachSocketFilter", Detach}});
}

}  // namespace wirewasm
