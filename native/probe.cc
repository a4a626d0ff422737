// What this kernel offers, found by trying it: each probe opens the real thing and closes it, so
// `wirewasm info` reports what will work for this process, not what the headers promise.
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace wirewasm {

static Napi::Object Result(Napi::Env env, bool ok, int err, const std::string& detail = "") {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", Napi::Boolean::New(env, ok));
  if (!ok) {
    const char* name = strerrorname_np(err);
    o.Set("code", Napi::String::New(env, name ? name : "E?"));
    o.Set("error", Napi::String::New(env, std::strerror(err)));
  }
  if (!detail.empty()) o.Set("detail", Napi::String::New(env, detail));
  return o;
}

static Napi::Object ProbeAfXdp(Napi::Env env) {
  int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return Result(env, false, errno);
  close(fd);
  return Result(env, true, 0);
}

static Napi::Object ProbeAfPacket(Napi::Env env) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return Result(env, false, errno);
  std::string versions;
  for (int v : {TPACKET_V2, TPACKET_V3}) {
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) == 0)
      versions += versions.empty() ? "" : ",", versions += v == TPACKET_V2 ? "v2" : "v3";
  }
  close(fd);
  Napi::Object o = Result(env, true, 0, "TPACKET " + versions);
  return o;
}

static Napi::Object ProbeIoUring(Napi::Env env) {
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, 4, &p));
  if (fd < 0) return Result(env, false, errno);
  // Ask the kernel which opcodes it knows: multishot receive needs IORING_OP_RECV, and the
  // provided-buffer ring needs IORING_REGISTER_PBUF_RING (probed by registering a tiny one below).
  size_t len = sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op);
  auto* probe = static_cast<io_uring_probe*>(calloc(1, len));
  bool recv = false;
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_PROBE, probe, 256) == 0)
    recv = probe->last_op >= IORING_OP_RECV && (probe->ops[IORING_OP_RECV].flags & IO_URING_OP_SUPPORTED);
  free(probe);
  close(fd);
  std::string detail = std::string("recv ") + (recv ? "yes" : "no") +
                       ((p.features & IORING_FEAT_FAST_POLL) ? ", fast poll" : "") +
                       ((p.features & IORING_FEAT_NODROP) ? ", no-drop" : "");
  Napi::Object o = Result(env, true, 0, detail);
  o.Set("features", Napi::Number::New(env, p.features));
  return o;
}

static Napi::Object ProbeBpf(Napi::Env env) {
  // The smallest valid XDP program: r0 = XDP_PASS; exit.
  bpf_insn insns[2];
  std::memset(insns, 0, sizeof insns);
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = XDP_PASS;
  insns[1].code = BPF_JMP | BPF_EXIT;
  const char license[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_XDP;
  attr.insns = reinterpret_cast<uint64_t>(insns);
  attr.insn_cnt = 2;
  attr.license = reinterpret_cast<uint64_t>(license);
  int fd = static_cast<int>(syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  if (fd < 0) return Result(env, false, errno);
  close(fd);
  return Result(env, true, 0, "XDP program load");
}

static Napi::Value ProbeKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("afXdp", ProbeAfXdp(env));
  o.Set("afPacket", ProbeAfPacket(env));
  o.Set("ioUring", ProbeIoUring(env));
  o.Set("bpf", ProbeBpf(env));
  return o;
}

void RegisterProbe(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"probeKernel", ProbeKernel}});
}

}  // namespace wirewasm
