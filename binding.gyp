{
  "targets": [{
    "target_name": "wirewasm",
    "sources": ["<!@(node -p \"require('fs').readdirSync('native').filter(f=>f.endsWith('.cc')).map(f=>'native/'+f).join(' ')\")"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "libraries": ["-ldl"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
    "cflags_cc!": ["-fno-exceptions"]
  }]
}
