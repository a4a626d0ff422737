// `npm run setup:system`: installs the system packages the tests and features need, from Debian's
// archive. As root it runs apt-get; otherwise it prints the exact command to run as root and exits 1.
// Already installed packages are left alone, so it is quick to re-run (and CI runs it every time).
import { execFileSync, spawnSync } from 'node:child_process';

// Package -> why wirewasm needs it. Keep in step with tests/support/tools.ts (tool -> package).
const PACKAGES = {
  tshark: 'reference dissector for the differential tests; dumpcap for live captures',
  tcpdump: 'reference capture tool',
  'libpcap-dev': 'pcap filter expressions; libpcap (`cap`) peers in the benchmarks',
  'libpcap0.8': 'the libpcap shared library, opened lazily for filter expressions',
  iproute2: '`ip`: the network namespaces and veth pairs of the live tests',
  clang: 'builds the C example plugin and the C peers of the benchmarks',
  lld: '`wasm-ld`: links the C example plugin to WASM',
  'nats-server': 'the NATS JetStream clusters of the publish and fleet tests',
  'libdpdk-dev': 'headers and libraries of the DPDK backend',
  dpdk: 'DPDK runtime (drivers, dpdk-devbind)',
  prometheus: '`promtool check metrics` on the metrics endpoint',
  'pkg-config': 'finds libdpdk, so the DPDK addon is built',
  time: 'GNU time: peak RSS of each row of the capture benchmark',
};

const installed = (pkg) => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
};

if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
  console.error('setup:system: no apt-get here; install the equivalents of these Debian packages:');
  for (const [p, why] of Object.entries(PACKAGES)) console.error(`  ${p.padEnd(12)} ${why}`);
  process.exit(1);
}

const need = Object.keys(PACKAGES).filter((p) => !installed(p));
if (need.length === 0) {
  console.log('setup:system: all installed:', Object.keys(PACKAGES).join(' '));
  process.exit(0);
}
const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...need];
if (process.getuid?.() !== 0) {
  console.error('setup:system: missing', need.join(', '));
  console.error(`run as root:\n  apt-get update && ${install.join(' ')}`);
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
console.log('setup:system: installing', need.join(' '));
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync(install[0], [...install.slice(1), '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
console.log('setup:system: installed', need.join(' '));
