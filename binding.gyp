{
  "variables": {
    "wirewasm_dpdk%": "<!(pkg-config --exists 'libdpdk >= 22.11' && echo 1 || echo 0)"
  },
  "targets": [{
    "target_name": "wirewasm",
    "sources": ["<!@(node -p \"require('fs').readdirSync('native').filter(f=>f.endsWith('.cc')).map(f=>'native/'+f).join(' ')\")"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
    "cflags_cc!": ["-fno-exceptions"]
  }],
  "conditions": [
    # The DPDK addon (native/dpdk/): only where libdpdk-dev >= 22.11 is installed, so the main addon
    # and every other backend build and run without it.
    ["wirewasm_dpdk==1", {
      "targets": [{
        "target_name": "wirewasm_dpdk",
        "sources": ["native/dpdk/dpdk.cc"],
        "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
        "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "ALLOW_EXPERIMENTAL_API"],
        "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-volatile", "<!@(pkg-config --cflags libdpdk)"],
        "cflags_cc!": ["-fno-exceptions"],
        "libraries": ["<!@(pkg-config --libs libdpdk)", "-lrte_bus_vdev"]
      }]
    }]
  ]
}
