// What an interface can do, read from the kernel with ethtool ioctls (the same requests `ethtool`
// makes): link state, queues (ETHTOOL_GCHANNELS), offloads (ETHTOOL_GFEATURES with their names
// from ETHTOOL_GSTRINGS), timestamping (ETHTOOL_GET_TS_INFO), driver (ETHTOOL_GDRVINFO).
// A request the driver does not implement is reported as absent, never guessed.
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "socket-open.h"

namespace wirewasm {

static int Ethtool(int fd, const std::string& ifname, void* data) {
  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

static Napi::Array Flags(Napi::Env env, uint32_t bits, const std::vector<std::pair<uint32_t, const char*>>& names) {
  Napi::Array a = Napi::Array::New(env);
  uint32_t k = 0;
  for (auto& [bit, name] : names)
    if (bits & bit) a.Set(k++, Napi::String::New(env, name));
  return a;
}

// ifInfo({iface, netns}) -> {ifindex, up, running, mtu, mac, driver, channels, features, timestamping}
static Napi::Value IfInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceInNetns interface(info);
  if (!interface.ok()) return env.Undefined();
  const std::string& name = interface.name;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("iface", name);
  out.Set("ifindex", Napi::Number::New(env, interface.index));

  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    out.Set("up", Napi::Boolean::New(env, ifr.ifr_flags & IFF_UP));
    out.Set("running", Napi::Boolean::New(env, ifr.ifr_flags & IFF_RUNNING));
  }
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) out.Set("mtu", Napi::Number::New(env, ifr.ifr_mtu));
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
    char mac[18];
    auto* m = reinterpret_cast<unsigned char*>(ifr.ifr_hwaddr.sa_data);
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    out.Set("mac", mac);
  }

  ethtool_drvinfo drv;
  std::memset(&drv, 0, sizeof drv);
  drv.cmd = ETHTOOL_GDRVINFO;
  if (Ethtool(fd, name, &drv) == 0) {
    out.Set("driver", drv.driver);
    out.Set("busInfo", drv.bus_info);
  }

  ethtool_channels ch;
  std::memset(&ch, 0, sizeof ch);
  ch.cmd = ETHTOOL_GCHANNELS;
  if (Ethtool(fd, name, &ch) == 0) {
    Napi::Object c = Napi::Object::New(env);
    c.Set("rx", ch.rx_count), c.Set("tx", ch.tx_count), c.Set("combined", ch.combined_count), c.Set("other", ch.other_count);
    c.Set("maxRx", ch.max_rx), c.Set("maxTx", ch.max_tx), c.Set("maxCombined", ch.max_combined);
    out.Set("channels", c);
  }

  // Offloads: the names of the feature bits the kernel knows, and which are active.
  alignas(8) uint8_t ssbuf[sizeof(ethtool_sset_info) + sizeof(uint32_t)];
  std::memset(ssbuf, 0, sizeof ssbuf);
  auto* sset = reinterpret_cast<ethtool_sset_info*>(ssbuf);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  if (Ethtool(fd, name, sset) == 0 && sset->sset_mask) {
    uint32_t n = sset->data[0];
    std::vector<uint8_t> sbuf(sizeof(ethtool_gstrings) + n * ETH_GSTRING_LEN);
    auto* gs = reinterpret_cast<ethtool_gstrings*>(sbuf.data());
    gs->cmd = ETHTOOL_GSTRINGS;
    gs->string_set = ETH_SS_FEATURES;
    gs->len = n;
    uint32_t blocks = (n + 31) / 32;
    std::vector<uint8_t> fbuf(sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block));
    auto* gf = reinterpret_cast<ethtool_gfeatures*>(fbuf.data());
    gf->cmd = ETHTOOL_GFEATURES;
    gf->size = blocks;
    if (Ethtool(fd, name, gs) == 0 && Ethtool(fd, name, gf) == 0) {
      Napi::Object f = Napi::Object::New(env);
      for (uint32_t i = 0; i < n; i++) {
        const char* s = reinterpret_cast<const char*>(gs->data + i * ETH_GSTRING_LEN);
        bool active = gf->features[i / 32].active & (1U << (i % 32));
        bool changeable = gf->features[i / 32].available & (1U << (i % 32));
        if (active || changeable) f.Set(std::string(s, strnlen(s, ETH_GSTRING_LEN)), Napi::String::New(env, active ? (changeable ? "on" : "on [fixed]") : "off"));
      }
      out.Set("features", f);
    }
  }

  ethtool_ts_info ts;
  std::memset(&ts, 0, sizeof ts);
  ts.cmd = ETHTOOL_GET_TS_INFO;
  if (Ethtool(fd, name, &ts) == 0) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("capabilities", Flags(env, ts.so_timestamping,
                                {{SOF_TIMESTAMPING_TX_HARDWARE, "hardware-transmit"},
                                 {SOF_TIMESTAMPING_TX_SOFTWARE, "software-transmit"},
                                 {SOF_TIMESTAMPING_RX_HARDWARE, "hardware-receive"},
                                 {SOF_TIMESTAMPING_RX_SOFTWARE, "software-receive"},
                                 {SOF_TIMESTAMPING_SOFTWARE, "software-system-clock"},
                                 {SOF_TIMESTAMPING_RAW_HARDWARE, "hardware-raw-clock"}}));
    t.Set("phcIndex", Napi::Number::New(env, ts.phc_index));
    t.Set("hardwareReceiveFilters", Napi::Number::New(env, ts.rx_filters));
    out.Set("timestamping", t);
  }
  close(fd);
  return out;
}

void RegisterIfCaps(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"ifInfo", IfInfo}});
}

}  // namespace wirewasm
