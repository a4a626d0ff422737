#include "addon.h"

#include <cerrno>
#include <cstring>

namespace wirewasm {

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, err ? what + ": " + std::strerror(err) : what);
  const char* name = err ? strerrorname_np(err) : nullptr;
  if (name) e.Set("code", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int err) {
  ErrnoError(env, what, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

void Register(Napi::Env env, Napi::Object exports, std::initializer_list<Export> list) {
  for (const Export& e : list) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, "0.1.0"));
  RegisterMemory(env, exports);
  RegisterProbe(env, exports);
  RegisterKmap(env, exports);
  RegisterIoUring(env, exports);
  RegisterPcapFilter(env, exports);
  RegisterSocketFilter(env, exports);
  return exports;
}

}  // namespace wirewasm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return wirewasm::Init(env, exports); }
NODE_API_MODULE(wirewasm, InitAddon)
