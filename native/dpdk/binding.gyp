# The optional DPDK addon, a gyp project of its own: the main addon (../../binding.gyp) never links
# DPDK, and loaders that take the first .node of a build directory (node-gyp-build) or pack only the
# first target (prebuildify) see one addon per project. Built by scripts/build-dpdk.mjs, only where
# `pkg-config --exists 'libdpdk >= 22.11'`.
{
  "targets": [{
    "target_name": "wirewasm_dpdk",
    "sources": ["dpdk.cc", "eal.cc", "port.cc", "poll.cc", "tx.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "ALLOW_EXPERIMENTAL_API"],
    "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-volatile", "<!@(pkg-config --cflags libdpdk)"],
    "cflags_cc!": ["-fno-exceptions"],
    "libraries": ["<!@(pkg-config --libs libdpdk)", "-lrte_bus_vdev"]
  }]
}
