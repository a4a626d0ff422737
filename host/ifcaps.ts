/**
 * What an interface can do, read from the kernel (its hardware capabilities), probed
 * truthfully: ethtool ioctls for queues, offloads, timestamping and driver (native/ifcaps.cc),
 * rtnetlink (via `ip -d -j link`) for queue counts and an attached XDP program, sysfs for the NUMA
 * node. XDP driver mode and AF_XDP zero-copy can only be known by trying; since attaching briefly
 * reconfigures a real NIC's rings, that is done only when asked (`probeXdp`).
 */
import { execFileSync } from 'node:child_process';
import { afxdpKernelBytes, openAfXdp } from './backends/afxdp.js';
import { kernelAddon, type IfInfo } from './backends/kernel.js';
import { computeLayout, createMemory } from './layout.js';

export type Probed = boolean | 'not-probed';

export interface InterfaceCapabilities {
  iface: string;
  netns?: string;
  ifindex: number;
  driver?: string;
  busInfo?: string;
  up: boolean;
  mtu?: number;
  mac?: string;
  /** NUMA node of the device, or null when it has none (virtual, or a single-node machine: -1). */
  numaNode: number | null;
  queues: { rx: number; tx: number; combined?: number; maxCombined?: number; source: 'ethtool' | 'netlink' };
  xdp: {
    /** The program attached now (anyone's), if any: its id and mode. */
    attached: { id: number; mode: string } | null;
    generic: Probed;
    driver: Probed;
    zeroCopy: Probed;
    detail: string;
  };
  offloads: {
    rxChecksum: boolean;
    txChecksum: boolean;
    tso: boolean;
    gso: boolean;
    gro: boolean;
    lro: boolean;
    udpSegmentation: boolean;
    rxHashing: boolean;
    vlanStripping: boolean;
    ntupleFilters: boolean;
  };
  timestamping: { hardwareReceive: boolean; hardwareTransmit: boolean; softwareReceive: boolean; phcIndex: number | null; capabilities: string[] };
  features: Record<string, string>;
}

function ipLink(iface: string, netns?: string): Record<string, unknown> {
  const out = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-d', '-j', 'link', 'show', 'dev', iface], { encoding: 'utf8' });
  return (JSON.parse(out) as Record<string, unknown>[])[0];
}

function numaNode(iface: string, netns?: string): number | null {
  try {
    const file = `/sys/class/net/${iface}/device/numa_node`;
    const text = netns
      ? execFileSync('ip', ['netns', 'exec', netns, 'cat', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      : execFileSync('cat', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(text.trim());
    return Number.isInteger(n) && n >= 0 ? n : null;
  } catch {
    return null; // no device behind it (veth, bridge...): no node
  }
}

const on = (f: Record<string, string>, ...names: string[]) => names.some((n) => f[n]?.startsWith('on'));

export function interfaceCapabilities(iface: string, opts: { netns?: string; probeXdp?: boolean } = {}): InterfaceCapabilities {
  const native = kernelAddon();
  const info: IfInfo = native.ifInfo({ iface, netns: opts.netns });
  const link = ipLink(iface, opts.netns);
  const f = info.features ?? {};
  const ch = info.channels;
  const queues = ch && ch.rx + ch.tx + ch.combined > 0
    ? { rx: ch.rx + ch.combined, tx: ch.tx + ch.combined, combined: ch.combined, maxCombined: ch.maxCombined, source: 'ethtool' as const }
    : { rx: Number(link.num_rx_queues ?? 1), tx: Number(link.num_tx_queues ?? 1), source: 'netlink' as const };
  const x = link.xdp as { mode?: number; prog?: { id: number }; attached?: { mode: number; prog: { id: number } }[] } | undefined;
  const modeName = (m?: number) => ['none', 'driver', 'generic', 'offload', 'multi'][m ?? 0] ?? String(m);
  const attached = x ? { id: x.prog?.id ?? x.attached?.[0]?.prog.id ?? 0, mode: modeName(x.mode) } : null;
  const xdp: InterfaceCapabilities['xdp'] = { attached, generic: 'not-probed', driver: 'not-probed', zeroCopy: 'not-probed', detail: '' };
  if (opts.probeXdp) {
    if (attached) xdp.detail = `an XDP program (id ${attached.id}) is attached; not probing over it`;
    else {
      const details: string[] = [];
      for (const mode of ['skb', 'drv'] as const) {
        try {
          const h = native.xdpAttach({ iface, netns: opts.netns, mode, entries: 1 });
          native.kernelRelease(h.id);
          xdp[mode === 'skb' ? 'generic' : 'driver'] = true;
        } catch (e) {
          xdp[mode === 'skb' ? 'generic' : 'driver'] = false;
          details.push(`${mode}: ${(e as Error).message}`);
        }
      }
      if (xdp.driver) {
        const frameCount = 64;
        const layout = computeLayout({ frameCount, kernelBytesPerQueue: afxdpKernelBytes({ frameCount, txFrames: 16, burst: 16 }) });
        try {
          const b = openAfXdp({ iface, netns: opts.netns, memory: createMemory(layout), layout, xdpMode: 'drv', zeroCopy: 'on', txFrames: 16, burst: 16 });
          b.close();
          xdp.zeroCopy = true;
        } catch (e) {
          xdp.zeroCopy = false;
          details.push(`zero-copy: ${(e as Error).message.split(';')[0]}`);
        }
      } else xdp.zeroCopy = false;
      xdp.detail = details.join('; ');
    }
  } else xdp.detail = 'XDP modes and zero-copy are known only by trying (--probe-xdp), which briefly reconfigures a real NIC';
  const ts = info.timestamping;
  const caps = ts?.capabilities ?? [];
  return {
    iface, netns: opts.netns, ifindex: info.ifindex, driver: info.driver, busInfo: info.busInfo || undefined, up: info.up ?? false, mtu: info.mtu, mac: info.mac,
    numaNode: numaNode(iface, opts.netns),
    queues,
    xdp,
    offloads: {
      rxChecksum: on(f, 'rx-checksum'),
      txChecksum: on(f, 'tx-checksum-ipv4', 'tx-checksum-ip-generic', 'tx-checksum-ipv6'),
      tso: on(f, 'tx-tcp-segmentation'),
      gso: on(f, 'tx-generic-segmentation'),
      gro: on(f, 'rx-gro', 'rx-gro-hw'),
      lro: on(f, 'rx-lro'),
      udpSegmentation: on(f, 'tx-udp-segmentation'),
      rxHashing: on(f, 'rx-hashing'),
      vlanStripping: on(f, 'rx-vlan-hw-parse'),
      ntupleFilters: on(f, 'rx-ntuple-filter'),
    },
    timestamping: {
      hardwareReceive: caps.includes('hardware-receive'),
      hardwareTransmit: caps.includes('hardware-transmit'),
      softwareReceive: caps.includes('software-receive'),
      phcIndex: ts && ts.phcIndex >= 0 ? ts.phcIndex : null,
      capabilities: caps,
    },
    features: f,
  };
}
