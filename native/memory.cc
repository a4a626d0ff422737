// The shared memory as the kernel will see it: its base address (stable for the memory's life,
// since V8 reserves the whole maximum up front) and its current byte length.
#include "addon.h"

namespace wirewasm {

bool GetMemorySpan(Napi::Env env, Napi::Value memory, MemorySpan* out) {
  if (!memory.IsObject()) {
    Napi::TypeError::New(env, "expected a WebAssembly.Memory created with shared: true").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Value buffer = memory.As<Napi::Object>().Get("buffer");
  if (!buffer.IsObject()) {
    Napi::TypeError::New(env, "expected a WebAssembly.Memory created with shared: true").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Function u8 = env.Global().Get("Uint8Array").As<Napi::Function>();
  Napi::Value view = u8.New({buffer});
  if (env.IsExceptionPending()) return false;
  Napi::Uint8Array arr = view.As<Napi::Uint8Array>();
  out->base = arr.Data();
  out->length = arr.ByteLength();
  return true;
}

static Napi::Value MemoryBase(const Napi::CallbackInfo& info) {
  MemorySpan span;
  if (!GetMemorySpan(info.Env(), info[0], &span)) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(span.base)));
}

static Napi::Value MemoryLength(const Napi::CallbackInfo& info) {
  MemorySpan span;
  if (!GetMemorySpan(info.Env(), info[0], &span)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(span.length));
}

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  Register(env, exports, {{"memoryBase", MemoryBase}, {"memoryLength", MemoryLength}});
}

}  // namespace wirewasm
