// libpcap's filter-expression compiler, loaded on first use with dlopen: the addon builds without
// libpcap's headers and loads on machines without libpcap; only compiling an expression needs it,
// and then says how to install it. The few libpcap types used here are declared below with the
// layout pcap/bpf.h gives them (stable ABI since libpcap 0.8, the soname's version).
//
//   pcapCompile(expression, dlt, snaplen, optimize, netmask) -> Uint8Array of struct bpf_insn (8 bytes each:
//                 u16 code, u8 jt, u8 jf, u32 k; host byte order), or throws libpcap's message
//   pcapDatalinkNameToVal(name) -> DLT_ value or -1;  pcapDatalinkValToName(dlt) -> name or null
//   pcapLibVersion() -> pcap_lib_version()
#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "addon.h"

namespace wirewasm {

namespace {

struct BpfInsn {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
static_assert(sizeof(BpfInsn) == 8, "struct bpf_insn is 8 bytes");
struct BpfProgram {
  unsigned int len;
  BpfInsn* insns;
};
struct Pcap;  // opaque pcap_t

struct Libpcap {
  void* handle = nullptr;
  std::string error;
  Pcap* (*openDead)(int, int) = nullptr;
  int (*compile)(Pcap*, BpfProgram*, const char*, int, uint32_t) = nullptr;
  char* (*geterr)(Pcap*) = nullptr;
  void (*freecode)(BpfProgram*) = nullptr;
  void (*close)(Pcap*) = nullptr;
  int (*nameToVal)(const char*) = nullptr;
  const char* (*valToName)(int) = nullptr;
  const char* (*libVersion)() = nullptr;
};

// Names tried in order: Debian/Ubuntu's soname, then the upstream one, then the dev symlink.
const char* const kSonames[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};

const Libpcap& Load() {
  static Libpcap lib;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    for (const char* name : kSonames) {
      lib.handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib.handle) break;
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
    }
    if (!lib.handle) {
      lib.error = "filter expressions need libpcap, which is not installed (" + tried + "): apt-get install libpcap0.8";
      return;
    }
    auto sym = [&](const char* name) {
      void* p = dlsym(lib.handle, name);
      if (!p && lib.error.empty()) lib.error = std::string("the libpcap found lacks ") + name + ": install libpcap >= 1.0 (apt-get install libpcap0.8)";
      return p;
    };
    lib.openDead = reinterpret_cast<decltype(lib.openDead)>(sym("pcap_open_dead"));
    lib.compile = reinterpret_cast<decltype(lib.compile)>(sym("pcap_compile"));
    lib.geterr = reinterpret_cast<decltype(lib.geterr)>(sym("pcap_geterr"));
    lib.freecode = reinterpret_cast<decltype(lib.freecode)>(sym("pcap_freecode"));
    lib.close = reinterpret_cast<decltype(lib.close)>(sym("pcap_close"));
    lib.nameToVal = reinterpret_cast<decltype(lib.nameToVal)>(sym("pcap_datalink_name_to_val"));
    lib.valToName = reinterpret_cast<decltype(lib.valToName)>(sym("pcap_datalink_val_to_name"));
    lib.libVersion = reinterpret_cast<decltype(lib.libVersion)>(sym("pcap_lib_version"));
  });
  return lib;
}

// The loaded library, or a thrown JS error (code ELIBPCAP) saying how to get it.
const Libpcap* Require(Napi::Env env) {
  const Libpcap& lib = Load();
  if (lib.error.empty()) return &lib;
  Napi::Error e = Napi::Error::New(env, lib.error);
  e.Set("code", Napi::String::New(env, "ELIBPCAP"));
  e.ThrowAsJavaScriptException();
  return nullptr;
}

Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Libpcap* lib = Require(env);
  if (!lib) return env.Undefined();
  std::string expression = info[0].As<Napi::String>().Utf8Value();
  int dlt = info[1].As<Napi::Number>().Int32Value();
  int snaplen = info[2].As<Napi::Number>().Int32Value();
  bool optimize = info.Length() < 4 || info[3].ToBoolean().Value();
  uint32_t netmask = info.Length() < 5 ? 0 : info[4].As<Napi::Number>().Uint32Value();
  Pcap* p = lib->openDead(dlt, snaplen);
  if (!p) {
    Napi::Error::New(env, "pcap_open_dead failed (out of memory)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  BpfProgram prog{0, nullptr};
  if (lib->compile(p, &prog, expression.c_str(), optimize ? 1 : 0, netmask) != 0) {
    Napi::Error e = Napi::Error::New(env, lib->geterr(p));
    e.Set("code", Napi::String::New(env, "EFILTER"));
    lib->close(p);
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array out = Napi::Uint8Array::New(env, prog.len * sizeof(BpfInsn));
  std::memcpy(out.Data(), prog.insns, prog.len * sizeof(BpfInsn));
  lib->freecode(&prog);
  lib->close(p);
  return out;
}

Napi::Value NameToVal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Libpcap* lib = Require(env);
  if (!lib) return env.Undefined();
  return Napi::Number::New(env, lib->nameToVal(info[0].As<Napi::String>().Utf8Value().c_str()));
}

Napi::Value ValToName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Libpcap* lib = Require(env);
  if (!lib) return env.Undefined();
  const char* name = lib->valToName(info[0].As<Napi::Number>().Int32Value());
  return name ? Napi::String::New(env, name) : env.Null();
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Libpcap* lib = Require(env);
  if (!lib) return env.Undefined();
  return Napi::String::New(env, lib->libVersion());
}

}  // namespace

void RegisterPcapFilter(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {
      {"pcapCompile", Compile}, {"pcapDatalinkNameToVal", NameToVal},
      {"pcapDatalinkValToName", ValToName}, {"pcapLibVersion", LibVersion},
  });
}

}  // namespace wirewasm
