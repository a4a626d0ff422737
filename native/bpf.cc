// The XDP side of AF_XDP without clang or libbpf: an XSKMAP, a six-instruction redirect program
// loaded from raw instructions, and a BPF link that attaches it (so it detaches by itself when
// the last fd is closed, also when the process dies).
//
//   r2 = *(u32 *)(r1 + offsetof(struct xdp_md, rx_queue_index))   key: the packet's RX queue
//   r1 = map_fd  (ld_imm64, 2 slots, BPF_PSEUDO_MAP_FD)            the XSKMAP
//   r3 = XDP_PASS                                                  action when no socket is bound
//   call bpf_redirect_map                                          to that queue's socket
//   exit
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "socket-open.h"

namespace wirewasm {

static int Bpf(int cmd, bpf_attr* attr) { return static_cast<int>(syscall(__NR_bpf, cmd, attr, sizeof *attr)); }

static bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

// xdpAttach({iface, netns, mode: "skb" | "drv", entries}) -> {id, mapFd, progFd, linkFd, ifindex}
static Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceInNetns interface(info);
  if (!interface.ok()) return env.Undefined();
  std::string mode = GetString(interface.options, "mode", "skb");
  auto* h = new KernelHandle();
  auto fail = [&](Napi::Value thrown) { return DiscardHandle(h, thrown); };

  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_XSKMAP;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = static_cast<uint32_t>(GetInt(interface.options, "entries", 64));
  std::strncpy(a.map_name, "wirewasm_xsks", sizeof a.map_name - 1);
  int mapFd = Bpf(BPF_MAP_CREATE, &a);
  if (mapFd < 0) return fail(ThrowReason(env, "creating the XSKMAP", errno, errno == EPERM ? "missing-privilege" : "unsupported"));
  h->fds.push_back(mapFd);

  bpf_insn prog[6] = {
      Insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index), 0),
      Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, mapFd),
      Insn(0, 0, 0, 0, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char log[4096];
  log[0] = 0;
  const char license[] = "GPL";
  std::memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_XDP;
  a.expected_attach_type = BPF_XDP;
  a.insns = reinterpret_cast<uint64_t>(prog);
  a.insn_cnt = 6;
  a.license = reinterpret_cast<uint64_t>(license);
  a.log_buf = reinterpret_cast<uint64_t>(log);
  a.log_size = sizeof log;
  a.log_level = 1;
  std::strncpy(a.prog_name, "wirewasm_xsk", sizeof a.prog_name - 1);
  int progFd = Bpf(BPF_PROG_LOAD, &a);
  if (progFd < 0) return fail(ThrowReason(env, std::string("loading the XDP redirect program (verifier: ") + log + ")", errno, errno == EPERM ? "missing-privilege" : "unsupported"));
  h->fds.push_back(progFd);

  std::memset(&a, 0, sizeof a);
  a.link_create.prog_fd = static_cast<uint32_t>(progFd);
  a.link_create.target_ifindex = interface.index;
  a.link_create.attach_type = BPF_XDP;
  a.link_create.flags = mode == "drv" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int linkFd = Bpf(BPF_LINK_CREATE, &a);
  if (linkFd < 0) {
    int err = errno;
    const char* reason = err == EBUSY || err == EEXIST ? "xdp-busy" : err == EPERM ? "missing-privilege" : err == EOPNOTSUPP ? "unsupported" : "bad-config";
    return fail(ThrowReason(env, "attaching the XDP program to " + interface.name + " in " + mode + " mode (BPF_LINK_CREATE)", err, reason));
  }
  h->fds.push_back(linkFd);  // fds close in reverse: the link (detach) first, then program, map
  Napi::Object out = Napi::Object::New(env);
  out.Set("mapFd", Napi::Number::New(env, mapFd));
  out.Set("progFd", Napi::Number::New(env, progFd));
  out.Set("linkFd", Napi::Number::New(env, linkFd));
  out.Set("ifindex", Napi::Number::New(env, interface.index));
  out.Set("id", Napi::Number::New(env, AddHandle(env, h)));
  return out;
}

// xskMapSet(mapFd, key, xskFd): queue `key`'s packets go to that socket.
static Napi::Value MapSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t key = info[1].As<Napi::Number>().Uint32Value();
  uint32_t value = info[2].As<Napi::Number>().Uint32Value();
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.map_fd = info[0].As<Napi::Number>().Uint32Value();
  a.key = reinterpret_cast<uint64_t>(&key);
  a.value = reinterpret_cast<uint64_t>(&value);
  a.flags = BPF_ANY;
  if (Bpf(BPF_MAP_UPDATE_ELEM, &a) != 0) return ThrowErrno(env, "putting the AF_XDP socket in the XSKMAP", errno);
  return env.Undefined();
}

void RegisterBpf(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"xdpAttach", Attach}, {"xskMapSet", MapSet}});
}

}  // namespace wirewasm
