// Builds the optional DPDK addon (native/dpdk/binding.gyp) where libdpdk-dev >= 22.11 is installed,
// as the main addon is built: prebuildify compiles it with node-gyp and moves it to
// native/dpdk/prebuilds/<platform>-<arch>/wirewasm_dpdk.node, which the package ships and
// node-gyp-build loads (host/backends/dpdk.ts), so installing the package compiles nothing. Its own
// prebuilds/ directory, never the main addon's: node-gyp-build loads the first .node of a directory.
// Elsewhere it says why not: every other backend works without it.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'native', 'dpdk');
if (spawnSync('pkg-config', ['--exists', 'libdpdk >= 22.11']).status !== 0) {
  console.log('wirewasm: DPDK addon skipped (pkg-config finds no libdpdk >= 22.11; apt-get install libdpdk-dev dpdk, then npm rebuild)');
} else {
  // A stale prebuild of another build must not stay beside the new one.
  rmSync(path.join(dir, 'prebuilds'), { recursive: true, force: true });
  const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  execFileSync(process.execPath, [prebuildify, '--napi', '--strip', '--name', 'wirewasm_dpdk', '--cwd', dir], { cwd: root, stdio: 'inherit' });
}
