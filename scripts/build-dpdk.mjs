// Builds the optional DPDK addon (native/dpdk/binding.gyp) where libdpdk-dev >= 22.11 is installed,
// and says why not elsewhere: every other backend works without it (host/backends/dpdk.ts loads it
// on first use and names the missing package).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
if (spawnSync('pkg-config', ['--exists', 'libdpdk >= 22.11']).status !== 0) {
  console.log('wirewasm: DPDK addon skipped (pkg-config finds no libdpdk >= 22.11; apt-get install libdpdk-dev dpdk, then npm rebuild)');
} else {
  const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  execFileSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn', '--directory', path.join(root, 'native', 'dpdk')], { cwd: root, stdio: 'inherit' });
}
