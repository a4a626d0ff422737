// What the io_uring receive (iouring.cc) and the io_uring sender (iouring-sender.cc) share: the raw
// io_uring system calls (no liburing: three calls and the ring mappings are all either needs) and
// opening a socket inside a network namespace.
#pragma once
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include <napi.h>

namespace wirewasm {
namespace iouring {

inline int sys_setup(unsigned entries, io_uring_params* p) { return static_cast<int>(syscall(__NR_io_uring_setup, entries, p)); }
inline int sys_enter(int fd, unsigned submit, unsigned minComplete, unsigned flags, void* arg, size_t argSize) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, submit, minComplete, flags, arg, argSize));
}
inline int sys_register(int fd, unsigned op, void* arg, unsigned n) { return static_cast<int>(syscall(__NR_io_uring_register, fd, op, arg, n)); }

// Opens an AF_INET socket of `type` in `netns` (a name under /run/netns) when given: only the
// socket lives there. Returns the fd, or -1 with *err set.
int openSocket(Napi::Env env, const std::string& netns, int type, int* err);

}  // namespace iouring

// iouringSenderOpen / iouringSenderSend / iouringSenderClose (iouring-sender.cc).
void RegisterIoUringSender(Napi::Env env, Napi::Object exports);

}  // namespace wirewasm
