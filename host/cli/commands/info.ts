// `wirewasm info`: the memory map a config produces and what this kernel offers this process.
import type { Command } from 'commander';
import os from 'node:os';
import { loadConfigFile } from '../../config.js';
import { engineSizes } from '../../engine/config.js';
import { computeLayout, describeLayout } from '../../layout.js';
import { loadNative } from '../../native.js';
import { effectiveCapabilities, memlockLimit, missingFor } from '../../privileges.js';
import { bytes, hex, table } from '../format.js';
import { interfaceCapabilities, type InterfaceCapabilities } from '../../ifcaps.js';
import { dpdkInfo } from '../../backends/dpdk.js';

const FEATURES: [key: 'afXdp' | 'afPacket' | 'ioUring' | 'bpf', label: string][] = [
  ['afXdp', 'AF_XDP sockets'],
  ['afPacket', 'AF_PACKET (PACKET_MMAP)'],
  ['ioUring', 'io_uring'],
  ['bpf', 'BPF program loading'],
];

export function gatherInfo(configFile?: string, probeDpdk = false) {
  const config = configFile ? loadConfigFile(configFile) : {};
  // The sizes an engine run with this file would use: its defaults where the file is silent.
  const layout = computeLayout({ ...config, ...engineSizes(config) });
  const native = loadNative();
  const probe = native.probeKernel();
  const caps = effectiveCapabilities();
  const kernel = Object.fromEntries(
    FEATURES.map(([k]) => [k, { ...probe[k], missingCapabilities: missingFor(k, caps) }]),
  );
  return {
    version: native.version,
    kernel: { release: os.release(), machine: os.machine() },
    capabilities: [...caps].sort(),
    memlockLimit: memlockLimit(),
    features: kernel,
    dpdk: dpdkInfo({ probe: probeDpdk }),
    layout: {
      totalBytes: layout.totalBytes,
      maximumBytes: layout.maximumPages * 65536,
      config: layout.config,
      regions: describeLayout(layout),
    },
  };
}

export function register(program: Command): void {
  program
    .command('info')
    .description('print the memory map for a config and what this kernel offers (probed, not assumed)')
    .option('--config <file>', 'engine config (JSON) whose memory map to print')
    .option('--json', 'print one JSON object')
    .option('-i, --iface <name>', 'also report what this interface can do (queues, XDP, offloads, timestamping, NUMA)')
    .option('--netns <name>', 'network namespace of --iface')
    .option('--probe-xdp', 'with --iface: try XDP driver mode and AF_XDP zero-copy (briefly reconfigures a real NIC)')
    .option('--probe-dpdk', 'start DPDK (EAL) to list the ethdev ports it sees (~0.3 s)')
    .action((opts: { config?: string; json?: boolean; iface?: string; netns?: string; probeXdp?: boolean; probeDpdk?: boolean }) => {
      const info: ReturnType<typeof gatherInfo> & { interface?: InterfaceCapabilities } = gatherInfo(opts.config, opts.probeDpdk);
      if (opts.iface) info.interface = interfaceCapabilities(opts.iface, { netns: opts.netns, probeXdp: opts.probeXdp });
      if (opts.json) {
        process.stdout.write(JSON.stringify(info, (_k, v) => (v === Infinity ? 'unlimited' : v)) + '\n');
        return;
      }
      const out: string[] = [];
      out.push(`wirewasm ${info.version} on Linux ${info.kernel.release} (${info.kernel.machine})`, '');
      out.push('Kernel features (probed by opening each):');
      const rows = [['feature', 'status', 'detail']];
      for (const [k, label] of FEATURES) {
        const f = info.features[k] as { ok: boolean; code?: string; error?: string; detail?: string; missingCapabilities: string[] };
        const status = f.ok ? 'available' : `unavailable (${f.code})`;
        const why = f.ok ? (f.detail ?? '') : f.missingCapabilities.length ? `needs ${f.missingCapabilities.join(' + ')}: run as root or grant them (setcap)` : (f.error ?? '');
        rows.push([`  ${label}`, status, why]);
      }
      out.push(table(rows), '');
      const d = info.dpdk;
      out.push(d.available ? `${d.version}: available; NICs bound to a DPDK driver: ${d.pciDevices?.length ? d.pciDevices.join(', ') : 'none'}` : d.reason!);
      if (d.available && d.ports) out.push(d.ports.length ? `  ethdev ports: ${d.ports.map((p) => `${p.name} (${p.driver}, ${p.mac})`).join(', ')}` : `  ethdev ports: ${opts.probeDpdk ? 'none' : 'run with --probe-dpdk to start EAL and list them'}`);
      if (d.available && d.reason) out.push(`  EAL: ${d.reason}`);
      if (d.available) out.push("  engine source: backend 'dpdk' (wirewasm start --backend dpdk --dpdk-port net_af_xdp0,iface=IFACE | PCI address)");
      out.push('');
      out.push(`Capabilities: ${info.capabilities.length ? info.capabilities.join(', ') : 'none'}`);
      out.push(`Locked-memory limit: ${info.memlockLimit === Infinity ? 'unlimited' : bytes(info.memlockLimit)}`, '');
      const c = info.layout.config;
      out.push(`Memory map (${c.queues} queue(s), ${c.workers} worker(s), ${c.frameCount} frames × ${c.frameSize} B): ${bytes(info.layout.totalBytes)}, maximum ${bytes(info.layout.maximumBytes)}`);
      out.push(table([['  region', 'offset', 'size'], ...info.layout.regions.map((r) => [`  ${r.region}`, hex(r.offset), bytes(r.size)])]));
      if (info.interface) out.push('', ...describeInterface(info.interface));
      process.stdout.write(out.join('\n') + '\n');
    });
}

function describeInterface(c: InterfaceCapabilities): string[] {
  const yn = (v: boolean | string) => (v === true ? 'yes' : v === false ? 'no' : String(v));
  const o = c.offloads;
  const t = c.timestamping;
  return [
    `Interface ${c.iface}${c.netns ? ` (netns ${c.netns})` : ''}: driver ${c.driver ?? '?'}${c.busInfo ? ` at ${c.busInfo}` : ''}, ${c.up ? 'up' : 'DOWN'}, mtu ${c.mtu}, ${c.mac}`,
    table([
      ['  capability', 'value'],
      ['  queues', `${c.queues.rx} rx / ${c.queues.tx} tx${c.queues.combined ? ` (${c.queues.combined} combined, max ${c.queues.maxCombined})` : ''} [${c.queues.source}]`],
      ['  NUMA node', c.numaNode === null ? 'none (virtual device or single node)' : String(c.numaNode)],
      ['  XDP attached now', c.xdp.attached ? `program ${c.xdp.attached.id} (${c.xdp.attached.mode})` : 'none'],
      ['  XDP generic (skb) mode', yn(c.xdp.generic)],
      ['  XDP driver mode', yn(c.xdp.driver)],
      ['  AF_XDP zero-copy', yn(c.xdp.zeroCopy)],
      ['  checksum offload rx/tx', `${yn(o.rxChecksum)} / ${yn(o.txChecksum)}`],
      ['  segmentation TSO/GSO/USO', `${yn(o.tso)} / ${yn(o.gso)} / ${yn(o.udpSegmentation)}`],
      ['  receive GRO/LRO', `${yn(o.gro)} / ${yn(o.lro)}`],
      ['  RSS hashing / ntuple / VLAN strip', `${yn(o.rxHashing)} / ${yn(o.ntupleFilters)} / ${yn(o.vlanStripping)}`],
      ['  timestamps hw rx/tx, sw rx', `${yn(t.hardwareReceive)} / ${yn(t.hardwareTransmit)}, ${yn(t.softwareReceive)}${t.phcIndex !== null ? ` (PHC /dev/ptp${t.phcIndex})` : ''}`],
    ]),
    ...(c.xdp.detail ? [`  (${c.xdp.detail})`] : []),
  ];
}
