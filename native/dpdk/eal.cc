// EAL start-up (once per process) and the device list; see dpdk.cc for why affinity is restored.
#include "dpdk.h"

namespace wirewasm::dpdk {

bool EalInit(const std::vector<std::string>& args, std::string* err) {
  if (gEalDone) return true;
  cpu_set_t saved;
  CPU_ZERO(&saved);
  const bool haveAff = sched_getaffinity(0, sizeof saved, &saved) == 0;
  std::vector<std::string> owned{"wirewasm"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : owned) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(int(argv.size() - 1), argv.data());
  if (haveAff) sched_setaffinity(0, sizeof saved, &saved);
  if (rc < 0) {
    *err = "rte_eal_init failed: " + errText(rte_errno) + " (EAL arguments: " + gEalArgs + ")";
    return false;
  }
  gEalDone = true;
  static bool hooked = false;
  if (!hooked) {
    std::atexit(CloseAll);
    hooked = true;
  }
  return true;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  std::vector<std::string> args;
  std::string joined;
  if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      args.push_back(a.Get(i).ToString().Utf8Value());
      joined += (i ? " " : "") + args.back();
    }
  }
  Napi::Object out = Napi::Object::New(env);
  if (gEalDone) {
    out.Set("already", true);
    out.Set("args", gEalArgs);
    return out;
  }
  gEalArgs = joined;
  std::string err;
  if (!EalInit(args, &err)) return Throw(env, err);
  out.Set("already", false);
  out.Set("args", gEalArgs);
  return out;
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), rte_version()); }

Napi::Value Ports(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> g(gMu);
  Napi::Array out = Napi::Array::New(env);
  if (!gEalDone) return out;
  uint16_t pid;
  uint32_t n = 0;
  RTE_ETH_FOREACH_DEV(pid) {
    rte_eth_dev_info di;
    if (rte_eth_dev_info_get(pid, &di) != 0) continue;
    char name[RTE_ETH_NAME_MAX_LEN] = {0};
    rte_eth_dev_get_name_by_port(pid, name);
    rte_ether_addr mac;
    char macs[RTE_ETHER_ADDR_FMT_SIZE] = {0};
    if (rte_eth_macaddr_get(pid, &mac) == 0) rte_ether_format_addr(macs, sizeof macs, &mac);
    Napi::Object o = Napi::Object::New(env);
    o.Set("port", pid);
    o.Set("name", name);
    o.Set("driver", di.driver_name ? di.driver_name : "");
    o.Set("mac", macs);
    o.Set("maxRxQueues", di.max_rx_queues);
    o.Set("maxTxQueues", di.max_tx_queues);
    out.Set(n++, o);
  }
  return out;
}

}  // namespace wirewasm::dpdk
