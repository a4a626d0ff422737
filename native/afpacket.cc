// AF_PACKET with PACKET_MMAP rings mapped into the shared memory: a TPACKET_V3 (block) or V2
// (frame) receive ring on one socket, a TPACKET_V2 transmit ring on another, PACKET_FANOUT so
// several sockets (queues, workers) split one interface. The rings are walked by WASM
// (assembly/kernel/tpacket.ts, assembly/engine/tpacket.ts); this file only creates, maps and tears down.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "socket-open.h"

namespace wirewasm {

static int FanoutMode(const std::string& m) {
  if (m == "hash") return PACKET_FANOUT_HASH;
  if (m == "cpu") return PACKET_FANOUT_CPU;
  if (m == "rr" || m == "roundrobin" || m == "round-robin") return PACKET_FANOUT_LB;
  if (m == "queue") return PACKET_FANOUT_QM;
  return -1;
}

// Asks the NIC to timestamp every received packet in hardware (SIOCSHWTSTAMP). Best effort:
// false when the driver cannot (veth, most virtual NICs).
static bool EnableHardwareTimestamps(int fd, const char* ifname) {
  hwtstamp_config cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.tx_type = HWTSTAMP_TX_OFF;
  cfg.rx_filter = HWTSTAMP_FILTER_ALL;
  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&cfg);
  if (ioctl(fd, SIOCSHWTSTAMP, &ifr) != 0) return false;
  int req = SOF_TIMESTAMPING_RAW_HARDWARE;
  return setsockopt(fd, SOL_PACKET, PACKET_TIMESTAMP, &req, sizeof req) == 0;
}

// afpacketOpen({memory, iface, netns, version, rx: {offset, blockSize, blockCount, frameSize,
//   retireMs} | null, tx: {offset, frameSize, frameCount, qdiscBypass} | null,
//   fanout: {group, mode} | null, hwTimestamps})
// -> {id, rxFd, txFd, ifindex, rxBytes, txBytes, hwTimestamps}
static Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketOpen opening(info);
  if (!opening.ok()) return env.Undefined();
  Napi::Object o = opening.options;
  auto& [span, iface, ifindex, h] = opening.parts;
  auto fail = [&](Napi::Value thrown) { return opening.Fail(thrown); };
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", Napi::Number::New(env, ifindex));
  int version = static_cast<int>(GetInt(o, "version", 3));
  bool hw = false;

  int rxFd = -1, txFd = -1;
  Napi::Value rxv = o.Get("rx");
  if (rxv.IsObject()) {
    Napi::Object rx = rxv.As<Napi::Object>();
    // Protocol 0 until the ring is set up: a socket made with ETH_P_ALL would start queueing
    // packets of every interface before it is bound to ours.
    rxFd = opening.Socket(AF_PACKET, SOCK_RAW, "socket(AF_PACKET)");
    if (rxFd < 0) return fail(env.Undefined());
    int v = version == 2 ? TPACKET_V2 : TPACKET_V3;
    if (setsockopt(rxFd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0)
      return fail(ThrowReason(env, "PACKET_VERSION", errno, "unsupported"));
    // Frames this host sends on the interface are not received back.
    int one = 1;
    setsockopt(rxFd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    unsigned blockSize = static_cast<unsigned>(GetInt(rx, "blockSize", 1 << 18));
    unsigned blockCount = static_cast<unsigned>(GetInt(rx, "blockCount", 16));
    unsigned frameSize = static_cast<unsigned>(GetInt(rx, "frameSize", 2048));
    size_t bytes = static_cast<size_t>(blockSize) * blockCount;
    if (v == TPACKET_V3) {
      tpacket_req3 req;
      std::memset(&req, 0, sizeof req);
      req.tp_block_size = blockSize;
      req.tp_block_nr = blockCount;
      req.tp_frame_size = frameSize;  // only a bound on the largest packet in V3
      req.tp_frame_nr = static_cast<unsigned>(bytes / frameSize);
      req.tp_retire_blk_tov = static_cast<unsigned>(GetInt(rx, "retireMs", 4));
      req.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH;
      if (setsockopt(rxFd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
        return fail(ThrowReason(env, "PACKET_RX_RING (TPACKET_V3, " + std::to_string(blockCount) + " blocks of " + std::to_string(blockSize) + " B)", errno, "ring-size"));
    } else {
      tpacket_req req;
      std::memset(&req, 0, sizeof req);
      req.tp_block_size = blockSize;
      req.tp_block_nr = blockCount;
      req.tp_frame_size = frameSize;
      req.tp_frame_nr = static_cast<unsigned>(bytes / frameSize);
      if (setsockopt(rxFd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
        return fail(ThrowReason(env, "PACKET_RX_RING (TPACKET_V2, " + std::to_string(req.tp_frame_nr) + " frames of " + std::to_string(frameSize) + " B)", errno, "ring-size"));
    }
    if (GetBool(o, "hwTimestamps", false)) hw = EnableHardwareTimestamps(rxFd, iface.c_str());
    if (!MapIntoMemory(env, span, static_cast<uint64_t>(GetInt(rx, "offset", 0)), bytes, rxFd, 0, h, "the TPACKET receive ring")) return fail(env.Undefined());
    // A filter (classic BPF, 8-byte struct sock_filter each) goes on before bind(): from the first
    // packet on, what it rejects is dropped in the kernel and never takes a ring slot.
    Napi::Value fv = o.Get("filter");
    if (fv.IsTypedArray()) {
      Napi::Uint8Array insns = fv.As<Napi::Uint8Array>();
      sock_fprog prog;
      prog.len = static_cast<unsigned short>(insns.ByteLength() / sizeof(sock_filter));
      prog.filter = reinterpret_cast<sock_filter*>(insns.Data());
      if (setsockopt(rxFd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return fail(ThrowReason(env, "SO_ATTACH_FILTER (the kernel refuses this BPF program)", errno, "bad-config"));
    }
    sockaddr_ll sll;
    std::memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(rxFd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      return fail(ThrowReason(env, "bind AF_PACKET socket to " + iface, errno, errno == ENETDOWN ? "interface-down" : "bad-config"));
    Napi::Value fo = o.Get("fanout");
    if (fo.IsObject()) {
      Napi::Object f = fo.As<Napi::Object>();
      int mode = FanoutMode(GetString(f, "mode", "hash"));
      if (mode < 0) return fail(ThrowReason(env, "fanout mode " + GetString(f, "mode") + ": use hash, cpu, rr or queue", 0, "bad-config"));
      int arg = (static_cast<int>(GetInt(f, "group", 1)) & 0xffff) | ((mode | PACKET_FANOUT_FLAG_DEFRAG) << 16);
      if (setsockopt(rxFd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
        return fail(ThrowReason(env, "PACKET_FANOUT group " + std::to_string(GetInt(f, "group", 1)), errno, "bad-config"));
    }
    out.Set("rxBytes", Napi::Number::New(env, static_cast<double>(bytes)));
  }

  Napi::Value txv = o.Get("tx");
  if (txv.IsObject()) {
    Napi::Object tx = txv.As<Napi::Object>();
    txFd = opening.Socket(AF_PACKET, SOCK_RAW, "socket(AF_PACKET)");
    if (txFd < 0) return fail(env.Undefined());
    int v = TPACKET_V2;
    if (setsockopt(txFd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0) return fail(ThrowReason(env, "PACKET_VERSION", errno, "unsupported"));
    if (GetBool(tx, "qdiscBypass", false)) {
      int one = 1;
      setsockopt(txFd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    }
    unsigned frameSize = static_cast<unsigned>(GetInt(tx, "frameSize", 2048));
    unsigned frameCount = static_cast<unsigned>(GetInt(tx, "frameCount", 256));
    tpacket_req req;
    std::memset(&req, 0, sizeof req);
    // Blocks of max(page, frame) bytes: both powers of two, so frames are contiguous (frame i at
    // i × frameSize), which is how the WASM walker finds them.
    req.tp_block_size = frameSize < 4096 ? 4096 : frameSize;
    req.tp_frame_size = frameSize;
    req.tp_frame_nr = frameCount;
    req.tp_block_nr = static_cast<unsigned>((static_cast<size_t>(frameSize) * frameCount) / req.tp_block_size);
    size_t bytes = static_cast<size_t>(req.tp_block_size) * req.tp_block_nr;
    if (setsockopt(txFd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) != 0)
      return fail(ThrowReason(env, "PACKET_TX_RING (" + std::to_string(frameCount) + " frames of " + std::to_string(frameSize) + " B)", errno, "ring-size"));
    if (!MapIntoMemory(env, span, static_cast<uint64_t>(GetInt(tx, "offset", 0)), bytes, txFd, 0, h, "the TPACKET transmit ring")) return fail(env.Undefined());
    sockaddr_ll sll;
    std::memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;  // transmit only: receives nothing
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(txFd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      return fail(ThrowReason(env, "bind AF_PACKET TX socket to " + iface, errno, errno == ENETDOWN ? "interface-down" : "bad-config"));
    out.Set("txBytes", Napi::Number::New(env, static_cast<double>(bytes)));
  }

  out.Set("rxFd", Napi::Number::New(env, rxFd));
  out.Set("txFd", Napi::Number::New(env, txFd));
  out.Set("hwTimestamps", Napi::Boolean::New(env, hw));
  return opening.Done(out);
}

// PACKET_STATISTICS: {packets, drops, freezes}. The kernel resets them on each read; the host sums.
static Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  tpacket_stats_v3 st;
  std::optional<socklen_t> len = ReadSocketCounters(info, SOL_PACKET, PACKET_STATISTICS, "PACKET_STATISTICS", st);
  if (!len) return env.Undefined();
  return CountersObject(env, {{"packets", st.tp_packets}, {"drops", st.tp_drops}, {"freezes", *len >= sizeof st ? st.tp_freeze_q_cnt : 0}});
}

void RegisterAfPacket(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"afpacketOpen", Open}, {"afpacketStats", Stats}});
}

}  // namespace wirewasm
