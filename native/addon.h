// Shared declarations of the wirewasm addon. Each native/*.cc registers its functions through
// one Register* call from addon.cc, so a new backend is a new file and one line there.
#pragma once
#include <napi.h>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace wirewasm {

// Base address and length of the SharedArrayBuffer behind a WebAssembly.Memory. Napi::ArrayBuffer
// rejects a SharedArrayBuffer on Node 20, so the buffer is viewed through a Uint8Array.
struct MemorySpan {
  uint8_t* base;
  size_t length;
};
bool GetMemorySpan(Napi::Env env, Napi::Value memory, MemorySpan* out);

// A JS Error "what: strerror(err)" carrying `errno` and `code` (e.g. "EPERM"); err 0: just "what".
Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err);
// Throws ErrnoError(env, what, err).
Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int err);

// One function an addon file exports: its JS name and the C++ function behind it.
struct Export {
  const char* name;
  Napi::Function::Callback fn;
};
// Sets each function of `list` on `exports` under its name: an addon file's whole export table in
// one call, so adding a function is adding a row.
void Register(Napi::Env env, Napi::Object exports, std::initializer_list<Export> list);

void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterProbe(Napi::Env env, Napi::Object exports);
void RegisterKmap(Napi::Env env, Napi::Object exports);  // kernel rings: kmap.h
void RegisterIoUring(Napi::Env env, Napi::Object exports);  // io_uring receive: iouring.cc
void RegisterPcapFilter(Napi::Env env, Napi::Object exports);  // libpcap's filter compiler: pcap-filter.cc
void RegisterSocketFilter(Napi::Env env, Napi::Object exports);  // SO_ATTACH_FILTER: socket-filter.cc

}  // namespace wirewasm
