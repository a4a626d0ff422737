/**
 * The DPDK backend: a DPDK port (a NIC by PCI address, or a virtual device such as net_af_xdp,
 * net_af_packet, net_null) whose mbufs live in the engine's shared WebAssembly.Memory.
 *
 * The native side is a second addon, wirewasm_dpdk.node (native/dpdk/dpdk.cc, its own gyp project
 * native/dpdk/binding.gyp), built only where libdpdk-dev >= 22.11 is installed (a prebuild the
 * package ships, scripts/build-dpdk.mjs) and loaded on first use (dpdkAddonPath, node-gyp-build), so
 * the rest of wirewasm never needs DPDK.
 *
 * Memory: host/layout.ts places a DPDK frame region (`dpdk: {frames, stride}`) whose frame i is
 * mempool object i and engine frame `layout.dpdk.frameBase + i`, with its metadata record after
 * the pool's. Receive: one native poll thread per queue puts received frames (their indexes) on the
 * queue's rx ring and fills their metadata records; nothing runs in JS per burst. A frame the
 * engine lets go of goes on the queue's return ring (`dpdk-return<q>`, frame index); the poll
 * thread puts it back in the mempool before its next rx_burst. Transmit sends frames from anywhere
 * in the memory as DPDK external buffers; `transmit` reports the frames DPDK is done with.
 *
 * EAL (DPDK's runtime) starts once per process and cannot start again, even after cleanup: the
 * first open() starts it with `eal` (default: the arguments that work without hugepages or root on
 * a virtual device, see defaultEalArgs); ports open and close any number of times after that.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import type { Layout } from '../layout.js';
import { addonPath } from '../native.js';
import { artefact } from '../paths.js';
import type { EngineExports } from '../abi.js';
import { RING_MAGIC } from '../ring.js';
import { compileEngine, instantiateEngine } from '../wasm.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

/** The DPDK addon's gyp project: node-gyp-build looks in its build/Release, then its prebuilds/<platform>-<arch>. */
export const DPDK_ADDON_DIR = 'native/dpdk';

/** The DPDK addon file that would be loaded, or undefined when none was built. */
export function dpdkAddonPath(): string | undefined {
  try {
    return addonPath(DPDK_ADDON_DIR);
  } catch {
    return undefined;
  }
}
export const DPDK_UNAVAILABLE = 'DPDK not available: apt-get install libdpdk-dev dpdk, then npm rebuild';

export interface DpdkConfig {
  /**
   * The port: a virtual device with its arguments ("net_af_xdp0,iface=eth0", "net_af_packet0,iface=eth0",
   * "net_null0") or a PCI address ("0000:01:00.0") of a NIC bound to vfio-pci.
   */
  port: string;
  /** EAL arguments; default defaultEalArgs(port). Used only by the process's first open. */
  eal?: string[];
  /** Receive (and transmit) queues, each with its own poll thread; default 1. */
  queues?: number;
  /** busy: the poll threads spin; adaptive: they sleep (1 us doubling to maxSleepUs) after spinPolls empty polls. */
  mode?: 'busy' | 'adaptive';
  spinPolls?: number;
  maxSleepUs?: number;
  /** Packets per rx_burst, 1..256; default 32. */
  burst?: number;
  rxDescs?: number;
  txDescs?: number;
  /** Receive every frame on the wire, as a capture does; default true. */
  promiscuous?: boolean;
}

/** What native/dpdk/dpdk.cc exports. */
export interface DpdkAddon {
  version(): string;
  init(args: string[]): { already: boolean; args: string };
  ports(): { port: number; name: string; driver: string; mac: string; maxRxQueues: number; maxTxQueues: number }[];
  open(o: object): { id: number; port: number; driver: string; mbufOffset: number; dataOffset: number; dataRoom: number; kernelSockets: number };
  close(id: number): { inUse: number; returned: number; notReturned: number; txDone: Uint32Array } | undefined;
  stopReceive(id: number): void;
  closeAll(): void;
  openPorts(): number;
  stats(id: number): DpdkStats;
  transmit(id: number, queue: number, offsets: Uint32Array, lengths: Uint32Array, tags?: Uint32Array, n?: number): number;
  txDone(id: number): Uint32Array;
  txDone(id: number, into: Uint32Array): number;
  counters(id: number, out: Float64Array): number;
}

export interface DpdkStats {
  /** Packets the poll threads received, and their wire bytes. */
  packets: number;
  bytes: number;
  /** Buffers (mbuf segments) received: more than packets when frames are chained. */
  segments: number;
  /** Received but dropped: the engine's rx ring had no room. */
  ringFull: number;
  /** Frames that came back through the return rings, and indexes there that were not DPDK frames. */
  returned: number;
  badReturns: number;
  polls: number;
  emptyPolls: number;
  sleeps: number;
  wakeups: number;
  /** The PMD's own counters (rte_eth_stats); pmdMissed undercounts on af_packet / af_xdp. */
  pmdPackets: number;
  pmdMissed: number;
  pmdErrors: number;
  pmdNoMbuf: number;
  txPackets: number;
  txErrors: number;
  /** Drops the kernel counted on the PMD's AF_PACKET (PACKET_STATISTICS) / AF_XDP (XDP_STATISTICS) sockets. */
  kernelDrops: number;
  kernelFreezes: number;
  kernelInvalid: number;
  mempoolAvailable: number;
  mempoolInUse: number;
}

export class DpdkError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DpdkError';
  }
}

let addon: DpdkAddon | undefined;

/** The DPDK addon, loaded on first use; throws DPDK_UNAVAILABLE when it was not built. */
export function loadDpdk(): DpdkAddon {
  if (addon) return addon;
  const file = dpdkAddonPath();
  if (!file) throw new DpdkError(`${DPDK_UNAVAILABLE} (no addon in ${artefact(DPDK_ADDON_DIR)}/build/Release or prebuilds/${process.platform}-${process.arch}: pkg-config found no libdpdk >= 22.11 at build time)`);
  try {
    addon = createRequire(import.meta.url)(file) as DpdkAddon;
  } catch (e) {
    throw new DpdkError(`${DPDK_UNAVAILABLE} (loading ${file}: ${(e as Error).message})`, { cause: e });
  }
  return addon;
}

/** Whether DPDK can be used here, its version and, once EAL runs, the ports it sees. */
export function dpdkInfo(options: { probe?: boolean } = {}): { available: boolean; version?: string; reason?: string; ports?: ReturnType<DpdkAddon['ports']>; pciDevices?: string[] } {
  let a: DpdkAddon;
  try {
    a = loadDpdk();
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
  const pciDevices = dpdkPciDevices();
  if (options.probe) {
    try {
      ensureEal(pciDevices.length ? ealArgsFor(pciDevices) : defaultEalArgs('net_null0'));
    } catch (e) {
      return { available: true, version: a.version(), reason: (e as Error).message, pciDevices };
    }
  }
  return { available: true, version: a.version(), ports: a.ports(), pciDevices };
}

const PCI = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const DPDK_DRIVERS = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];

/** PCI devices bound to a driver DPDK can use (sysfs), i.e. the NICs EAL would probe. */
export function dpdkPciDevices(): string[] {
  const out: string[] = [];
  for (const d of DPDK_DRIVERS) {
    const dir = `/sys/bus/pci/drivers/${d}`;
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir)) if (PCI.test(e)) out.push(e);
  }
  return out;
}

/**
 * EAL arguments that work inside a Node process (measured with DPDK 22.11): no hugepages (-m 512 MB
 * of ordinary memory; the frames themselves are in the WASM memory), no shared config files, IOVA =
 * VA, one lcore (the poll threads are registered non-EAL threads), no telemetry socket. Virtual
 * devices are added at open (rte_vdev_init), so the same EAL serves every later port.
 */
export function defaultEalArgs(port: string): string[] {
  return ealArgsFor(PCI.test(port) ? [port] : []);
}

function ealArgsFor(pci: string[]): string[] {
  return ['--no-huge', '-m', '512', '--no-shconf', '--iova-mode=va', '-l', '0', '--no-telemetry', '--log-level=*:warning',
    ...(pci.length ? pci.flatMap((p) => ['-a', p]) : ['--no-pci'])];
}

/** Starts EAL unless it runs already (it cannot start twice in a process). */
export function ensureEal(args: string[]): { already: boolean; args: string } {
  return loadDpdk().init(args);
}

/** Checks a `dpdk.port` string; returns the vdev arguments it needs (qpairs / queue_count) added. */
export function checkPort(port: string, queues: number): string {
  if (typeof port !== 'string' || port === '')
    throw new DpdkError("dpdk.port: give a device: 'net_af_xdp0,iface=eth0', 'net_af_packet0,iface=eth0', 'net_null0' or a PCI address such as 0000:01:00.0");
  if (PCI.test(port)) return port;
  const [name, ...kv] = port.split(',');
  if (!/^net_[a-z_]+\d+$/.test(name))
    throw new DpdkError(`dpdk.port: "${port}" is neither a PCI address nor a virtual device "net_<driver><n>[,key=value...]" (e.g. net_af_xdp0,iface=eth0)`);
  const args = new Map(kv.map((s) => s.split('=') as [string, string]));
  const driver = name.replace(/\d+$/, '');
  if ((driver === 'net_af_xdp' || driver === 'net_af_packet') && !args.get('iface'))
    throw new DpdkError(`dpdk.port: ${driver} needs the interface: "${name},iface=eth0"`);
  if (driver === 'net_af_packet') {
    const blocksz = Number(args.get('blocksz') ?? 4096);
    const framesz = Number(args.get('framesz') ?? 2048);
    // The PMD accepts any pair, then stalls silently when a block is not a whole number of frames.
    if (blocksz % framesz !== 0) throw new DpdkError(`dpdk.port: net_af_packet blocksz ${blocksz} is not a multiple of framesz ${framesz}; the PMD would stall: use e.g. blocksz=${framesz * Math.max(1, Math.round(blocksz / framesz))}`);
    if (!args.has('qpairs')) args.set('qpairs', String(queues));
  }
  if (driver === 'net_af_xdp' && !args.has('queue_count')) args.set('queue_count', String(queues));
  return [name, ...[...args].map(([k, v]) => `${k}=${v}`)].join(',');
}

/**
 * A killed run leaves its XDP program (and promiscuous mode) on the interface and the next
 * net_af_xdp start then fails. A program the DPDK PMD loads (libxdp's dispatcher or its default
 * xsk program) found at start is detached; any other program is someone else's: an error names it.
 */
export function detachStaleXdp(iface: string): string | undefined {
  let info: { xdp?: { prog?: { id?: number; name?: string }; attached?: { prog?: { id?: number; name?: string } }[] } }[];
  try {
    info = JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', iface], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    throw new DpdkError(`dpdk: interface ${iface} not found in this network namespace (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const xdp = info[0]?.xdp;
  if (!xdp) return undefined;
  const progs = [xdp.prog, ...(xdp.attached ?? []).map((a) => a.prog)].filter((p): p is { id?: number; name?: string } => !!p);
  const names = progs.map((p) => p.name ?? '?');
  if (!names.some((n) => /^(xdp_dispatcher|xsk_def_prog|xdp_sock_prog)$/.test(n)))
    throw new DpdkError(`dpdk: ${iface} already has an XDP program (${names.join(', ')}) that DPDK did not load; detach it (ip link set dev ${iface} xdp off) if it is stale`);
  for (const mode of ['xdp', 'xdpgeneric', 'xdpdrv']) {
    try {
      execFileSync('ip', ['link', 'set', 'dev', iface, mode, 'off'], { stdio: 'ignore' });
    } catch {
      // not attached in this mode
    }
  }
  execFileSync('ip', ['link', 'set', 'dev', iface, 'promisc', 'off'], { stdio: 'ignore' });
  return `dpdk: detached a stale XDP program (${names.join(', ')}) from ${iface}, left by a run that did not close its port`;
}

let signalsHooked = false;
function hookSignals(a: DpdkAddon): void {
  if (signalsHooked) return;
  signalsHooked = true;
  // process exit and normal teardown are native (environment cleanup hook + atexit); a signal
  // that nothing else handles would end the process without them, so close first, then re-raise.
  // A signal someone else handles (the CLI stops its engine, which closes the port) is theirs.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 0) return;
      a.closeAll();
      process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

export interface DpdkOpenOptions {
  memory: WebAssembly.Memory;
  layout: Layout;
  config: DpdkConfig;
  /** Offsets of the queues' rx rings (formatted u32 rings); default layout.ring(`rx<q>`). */
  rxRings?: number[];
  /** Called from the JS thread when a poll thread published to an adaptive ring that has a sleeper. */
  notify?: (tailOffset: number) => void;
  /**
   * The engine's rx time array (u64 ns per engine frame index, its latency start) and the clock it
   * counts in: CLOCK_MONOTONIC (Node's hrtime) minus `clockBaseNs`. The poll threads stamp each frame.
   */
  rxTime?: { offset: number; clockBaseNs: number };
}

/** What close() found. */
export interface DpdkCloseReport {
  /** Received frames never given back through a return ring: 0 when the engine released every one. */
  notReturned: number;
  /**
   * Mempool objects still out once the port closed: the frames not returned, and those the PMD
   * kept (the AF_XDP PMD leaves its fill ring's 2048 mbufs per queue, and the frames it copied
   * transmitted frames into, out of the pool; they go with the pool's memory).
   */
  inUse: number;
  /** Frames the return rings gave back over the port's life. */
  returned: number;
}

/**
 * One open DPDK port as an engine source: its poll threads feed the rx rings on their own, so the
 * engine's source loop only ingests counts, transmits, and decides when it may idle.
 */
export class DpdkSource {
  readonly name = 'dpdk' as const;
  readonly id: number;
  readonly port: number;
  readonly driver: string;
  /** Bytes from a frame's start to its packet data when no headroom is used (mempool header + mbuf + headroom). */
  readonly dataOffset: number;
  readonly dataRoom: number;
  /** The PMD's AF_PACKET / AF_XDP sockets whose kernel drop counters stats() reads. */
  readonly kernelSockets: number;
  readonly queues: number;
  readonly mode: string;
  /** A note when a stale XDP program was detached at start. */
  readonly warning?: string;
  private readonly a: DpdkAddon;
  private seen = 0;
  private closed = false;

  constructor(options: DpdkOpenOptions) {
    const { memory, layout, config } = options;
    const dpdk = layout.dpdk;
    if (!dpdk) throw new DpdkError('dpdk: the layout has no DPDK region; compute it with computeLayout({ ..., dpdk: { frames: 4096 } })');
    const queues = config.queues ?? 1;
    if (!Number.isInteger(queues) || queues < 1 || queues > layout.config.queues)
      throw new DpdkError(`dpdk.queues: got ${queues}; use 1..${layout.config.queues} (the layout's queues)`);
    const mode = config.mode ?? 'busy';
    if (mode !== 'busy' && mode !== 'adaptive') throw new DpdkError(`dpdk.mode: got "${mode}"; use "busy" or "adaptive"`);
    const device = checkPort(config.port, queues);
    // The AF_XDP PMD puts 2048 mbufs per queue on its fill ring at start and allocates a burst
    // before each receive: with fewer it receives nothing, counting every poll as no-mbuf.
    const afxdpNeed = (2048 + 2 * (config.burst ?? 32) + 512) * queues;
    if (device.startsWith('net_af_xdp') && dpdk.frames < afxdpNeed)
      throw new DpdkError(`dpdk: net_af_xdp needs more than ${afxdpNeed} DPDK frames for ${queues} queue(s) (2048 per queue stay on its fill ring); the layout has ${dpdk.frames}: use computeLayout({ dpdk: { frames: ${2 ** Math.ceil(Math.log2(afxdpNeed))} } })`);
    this.a = loadDpdk();
    const eal = ensureEal(config.eal ?? defaultEalArgs(config.port));
    if (eal.already && PCI.test(device) && /(^| )--no-pci( |$)/.test(eal.args))
      throw new DpdkError(`dpdk: EAL already runs in this process with --no-pci (${eal.args}) and starts only once per process; open the PCI port ${device} first, or in a process of its own`);
    const iface = /(?:^|,)iface=([^,]+)/.exec(device)?.[1];
    if (iface && device.startsWith('net_af_xdp')) this.warning = detachStaleXdp(iface);
    hookSignals(this.a);
    const r = this.a.open({
      memory,
      device,
      queues,
      region: { offset: dpdk.region.offset, stride: dpdk.stride, frames: dpdk.frames, frameBase: dpdk.frameBase },
      meta: layout.meta.offset,
      rxRings: options.rxRings ?? Array.from({ length: queues }, (_, q) => layout.ring(`rx${q}`).offset),
      returnRings: dpdk.returnRings.slice(0, queues).map((x) => x.offset),
      burst: config.burst ?? 32,
      rxDescs: config.rxDescs ?? 1024,
      txDescs: config.txDescs ?? 1024,
      mode,
      spinPolls: config.spinPolls ?? 1024,
      maxSleepUs: config.maxSleepUs ?? 200,
      promiscuous: config.promiscuous ?? true,
      notify: options.notify,
      rxTime: options.rxTime?.offset,
      clockBaseNs: options.rxTime?.clockBaseNs,
    });
    this.id = r.id;
    this.port = r.port;
    this.driver = r.driver;
    this.dataOffset = r.dataOffset;
    this.dataRoom = r.dataRoom;
    this.kernelSockets = r.kernelSockets;
    this.queues = queues;
    this.mode = `dpdk ${r.driver} ${mode} x${queues}`;
  }

  /** Packets the poll threads put on the rx rings since the last call (they need no JS to run). */
  ingest(): number {
    const now = this.a.stats(this.id).packets;
    const n = now - this.seen;
    this.seen = now;
    return n;
  }

  /**
   * Sends the frames at `offsets` (memory offsets, `lengths` bytes each; the first `n`, default all)
   * on queue q, from where they lie. Returns how many DPDK accepted, the first ones; the caller
   * keeps the rest. `done()` lists the frames DPDK has finished with (sent, or dropped by the PMD),
   * which may then be reused: by their `tags` (default: their offsets).
   */
  transmit(q: number, offsets: Uint32Array, lengths: Uint32Array, tags?: Uint32Array, n?: number): number {
    return this.a.transmit(this.id, q, offsets, lengths, tags, n);
  }

  done(): Uint32Array;
  /** Writes up to into.length done tags into `into`; returns how many (no allocation). */
  done(into: Uint32Array): number;
  done(into?: Uint32Array): Uint32Array | number {
    return into ? this.a.txDone(this.id, into) : this.a.txDone(this.id);
  }

  /** Per queue q: out[3q] packets received, out[3q+1] their bytes, out[3q+2] of them the rx ring had no room for. */
  counters(out: Float64Array): void {
    this.a.counters(this.id, out);
  }

  /** Joins the poll threads: nothing more reaches the rx rings; transmit still works until finish(). */
  stopReceive(): void {
    if (!this.closed) this.a.stopReceive(this.id);
  }

  /** True when nothing arrived since the last ingest: the engine loop may back off. */
  idle(): boolean {
    return this.a.stats(this.id).packets === this.seen;
  }

  stats(): DpdkStats {
    return this.a.stats(this.id);
  }

  /**
   * Stops the poll threads, gives the frames on the return rings back to the mempool, closes the
   * port and frees the mempool. Returns what it found (once; undefined when already closed), and
   * passes the tags of frames the PMD let go of while stopping to `txDone`.
   */
  finish(txDone?: (tags: Uint32Array) => void): DpdkCloseReport | undefined {
    if (this.closed) return undefined;
    this.closed = true;
    const r = this.a.close(this.id);
    if (!r) return undefined;
    if (r.txDone.length) txDone?.(r.txDone);
    return { inUse: r.inUse, returned: r.returned, notReturned: r.notReturned };
  }
}

/**
 * The DPDK source behind the frame-backend interface of host/backends/types.ts (what the feed
 * client and other frame consumers use): receive = one WASM ring dequeue of frame indexes from
 * the queue's rx ring, turned into metadata addresses at `rxAddrs`; release = one WASM enqueue of
 * the burst on the queue's return ring. Each queue's kernel region (kernelBytesFor('dpdk')) holds
 * its burst lists. Transmit through this interface is not offered: use DpdkSource.transmit.
 */
export function openDpdkBackend(c: BackendConfig & { dpdk: DpdkConfig }): Backend {
  const { memory, layout } = c;
  const queues = c.queues ?? c.dpdk.queues ?? 1;
  const burst = c.burst ?? 64;
  if (!Number.isInteger(burst) || burst < 1 || burst > 256) throw new BackendError('bad-config', `dpdk: burst is ${burst}; use 1 to 256`);
  if (layout.kernel.length < queues || layout.kernel[0].size < dpdkKernelBytes())
    throw new BackendError('memory-too-small', `dpdk: each queue needs ${dpdkKernelBytes()} bytes of kernel region for its burst lists; create the layout with kernelBytesPerQueue: kernelBytesFor('dpdk')`);
  const ex = (c.engine ?? instantiateEngine(compileEngine(), memory)) as EngineExports;
  for (let q = 0; q < queues; q++) {
    const at = layout.ring(`rx${q}`).offset;
    if (new Uint32Array(memory.buffer, at, 1)[0] !== RING_MAGIC) ex.ringInit(at, layout.ring(`rx${q}`).slots, 4, 0);
    const r = layout.dpdk?.returnRings[q];
    if (r && new Uint32Array(memory.buffer, r.offset, 1)[0] !== RING_MAGIC) ex.ringInit(r.offset, r.slots, 4, r.flags);
  }
  let src: DpdkSource;
  try {
    src = new DpdkSource({ memory, layout, config: { ...c.dpdk, queues, burst: Math.min(burst, 256) } });
  } catch (e) {
    throw new BackendError('bad-config', (e as Error).message, { cause: e });
  }
  const u32 = new Uint32Array(memory.buffer);
  const metaBase = layout.meta.offset;
  const qs: QueueInfo[] = Array.from({ length: queues }, (_, q) => {
    const k = layout.kernel[q].offset;
    return { index: q, fd: -1, state: k, rxAddrs: k, txAddrs: k + 1024, txLens: k + 2048, txCapacity: 0 };
  });
  // Per queue: the frame indexes of the burst held (staged at kernel + 3072), and their count.
  const held = new Array<number>(queues).fill(0);
  const rx = qs.map((_, q) => layout.ring(`rx${q}`).offset);
  const ret = qs.map((_, q) => layout.dpdk!.returnRings[q].offset);
  const stage = qs.map((qi) => qi.state + 3072);
  let rxBytes = 0;
  const release = (q: number) => {
    if (held[q] && ex.ringEnqueueBurst32(ret[q], stage[q], held[q]) !== held[q]) throw new Error('dpdk: a return ring was full (it has a slot for every frame: a frame was released twice)');
    held[q] = 0;
  };
  const unsupported = (): never => {
    throw new BackendError('unsupported', 'dpdk: transmit through the frame-backend interface is not offered; use DpdkSource.transmit');
  };
  return {
    name: 'dpdk',
    mode: src.mode,
    queues: qs,
    receive(q, max = burst) {
      release(q);
      const n = ex.ringDequeueBurst32(rx[q], stage[q], Math.min(max, burst));
      const s = stage[q] >> 2, a = qs[q].rxAddrs >> 2;
      for (let i = 0; i < n; i++) {
        const m = metaBase + u32[s + i] * 64;
        u32[a + i] = m;
        rxBytes += u32[(m >> 2) + 2];
      }
      held[q] = n;
      return n;
    },
    rxMeta: (q, i) => u32[(qs[q].rxAddrs >> 2) + i],
    release,
    wait(q, timeoutMs) {
      const end = performance.now() + timeoutMs;
      do if (ex.ringCount(rx[q]) > 0) return true;
      while (performance.now() < end);
      return false;
    },
    txReserve: unsupported,
    txSubmit: unsupported,
    send: unsupported,
    flush: () => true,
    stats(): BackendStats {
      const s = src.stats();
      return { rx: s.packets, rxBytes: s.bytes, tx: s.txPackets, txBytes: 0, drops: { ringFull: s.kernelDrops + s.ringFull, queueFreezes: s.kernelFreezes, invalid: s.kernelInvalid } };
    },
    close() {
      for (let q = 0; q < queues; q++) held[q] = 0;
      src.finish();
    },
  };
}

/** Kernel-region bytes per queue the frame-backend adapter needs (its burst lists). */
export const dpdkKernelBytes = (): number => 4096;
