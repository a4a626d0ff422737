// The engine's configuration: what a user passes to `new Engine(config)`, checked in one place so
// that a bad value is an error that names the field and says how to fix it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pow2Problem } from '../layout.js';
import type { FlowRuleInput } from './flow.js';
import type { PluginSpec } from '../plugins/load.js';
import { checkPublishConfig, type PublishConfig } from '../publish/config.js';
import type { DpdkConfig } from '../backends/dpdk.js';

export type PollMode = 'busy' | 'adaptive' | 'wait';
export type SourceKind = 'pcap' | 'memory' | 'afpacket' | 'afxdp' | 'dpdk';

/**
 * The DPDK source (docs/dpdk.md): the port and its EAL and polling settings (host/backends/dpdk.ts
 * DpdkConfig; its queues are the engine's), and the DPDK frame region: `frames` mbufs (default
 * 8192 per queue) of `stride` bytes (default 4096: the AF_XDP PMD's 576 bytes of headroom plus an
 * MTU-size frame need more than 2048).
 */
export type EngineDpdkConfig = Omit<DpdkConfig, 'queues'> & { frames?: number; stride?: number };

export interface ParseOptions {
  /** Compute the Toeplitz hash of every frame into its meta (default true with > 1 worker). */
  rss?: boolean;
  /**
   * Software RSS: spread each receive queue's frames over the workers by that hash (default: when
   * there are more workers than queues). With a queue per worker the queues are already spread, as
   * a NIC's RSS does, and keeping each frame on the worker that received it is cheapest.
   */
  spread?: boolean;
  /** Hash both directions of a flow alike (default true). */
  symmetric?: boolean;
  /** A 40-byte RSS key (default: the Microsoft verification key). */
  rssKey?: Uint8Array;
  /** Verify IPv4/TCP/UDP/ICMP checksums (default false). */
  verifyChecksums?: boolean;
  /** Drop frames with parse errors, counted as parse_error (default false: deliver them flagged). */
  dropErrors?: boolean;
}

export interface ReplayOptions {
  /** Times to play the capture (default 1; 0 = forever). */
  loops?: number;
  /** Play at most this many frames of the capture file, all loops together (default: all). */
  count?: number;
  /** Packets per second (token bucket), instead of as fast as possible. */
  rate?: number;
  /** Bits per second, with `rate` or alone. */
  bitRate?: number;
  /** Follow the capture's timestamps, `speed` times faster (1 = real time). */
  speed?: number;
  /** Behave like a NIC: drop for want of frames or ring room instead of waiting (default false). */
  lossy?: boolean;
}

export interface TxOptions {
  /** Packets per second each transmit queue may send (token bucket; default unlimited). */
  rate?: number;
  /** Bits per second each transmit queue may send (default unlimited). */
  bitRate?: number;
  /** Bucket depth in packets (default: 20 ms of `rate`, at least a burst). */
  burstPackets?: number;
  /** Bucket depth in bytes (default: 20 ms of `bitRate`, at least a frame). */
  burstBytes?: number;
}

export interface EngineConfig {
  /** Transmit queues (one per receive queue): what handlers `forward(i)`, shaped per queue. */
  tx?: TxOptions;
  /**
   * Where frames come from: a capture file ('pcap'), frames given in memory ('memory'), or a live
   * interface: 'afxdp' (zero-copy: the frame pool is the AF_XDP UMEM, the kernel receives straight
   * into pool frames) or 'afpacket' (the kernel's TPACKET ring, each frame copied once into the pool),
   * or 'dpdk' (a DPDK port, `dpdk`: its mbufs are a region of the engine's memory).
   */
  backend?: SourceKind;
  /** The DPDK port of the dpdk backend, e.g. {port: 'net_af_xdp0,iface=eth0'}. */
  dpdk?: EngineDpdkConfig;
  /** The interface of a live backend. */
  iface?: string;
  /** Network namespace (ip netns name) of `iface`. */
  netns?: string;
  /** Options for the live backend (host/backends/afpacket.ts AfPacketOptions, host/backends/afxdp.ts AfXdpOptions). */
  backendOptions?: Record<string, unknown>;
  /** The capture file of the pcap backend. */
  file?: string;
  /** The frames of the memory backend: replayed in order, `replay.loops` times. */
  frames?: readonly Uint8Array[];
  /** Link type of `frames` (default 1, Ethernet). */
  linktype?: number;
  replay?: ReplayOptions;
  /** Receive queues (default 1; the memory backend defaults to one per worker). */
  queues?: number;
  workers?: number;
  /** CPUs to pin workers to, one per worker in order (needs the native affinity call). */
  cpus?: number[];
  /** Slots of each receive ring (power of two). */
  ringSize?: number;
  /** Frames in the pool (power of two). */
  frameCount?: number;
  /** Bytes per frame (power of two, 2048..65536). */
  frameSize?: number;
  /** Frames per burst (1..256, default 64). */
  burst?: number;
  /** Frames each thread caches from the pool (default 64). */
  poolCache?: number;
  /** Strict-priority classes per worker (1..4, default 1). */
  classes?: number;
  /** Flow-director rules per table (default 256). */
  maxRules?: number;
  /** Initial flow-director rules. */
  rules?: readonly FlowRuleInput[];
  /** busy: spin; adaptive (default): spin, then sleep up to 1 ms (a paced replay: until its next record is due, 1 ms at a time); wait: sleep as soon as idle. */
  poll?: PollMode;
  parse?: ParseOptions;
  /** Path of an ES module whose default export is called once per burst in each worker. */
  handler?: string;
  /** Passed to the handler module's optional `init(args, info)` export. */
  handlerArgs?: unknown;
  /** Slots of the records ring (power of two, default 4096). */
  recordsRing?: number;
  /**
   * How often at most each worker wakes the sleeping reader of the records ring (records(), the
   * publish sink), in µs (default 500; 0: on every hand-over): records wait that long at most for
   * the wake-up (longer only behind a handler that runs longer). Waking once per interval, not per
   * burst, spares the reader's thread an event-loop turn per burst.
   */
  recordsWakeUs?: number;
  /** Restart a worker that dies (default true). */
  restart?: boolean;
  /** Parser plugins (docs/plugins.md), run in every worker on each burst before the handler. */
  plugins?: readonly PluginSpec[];
  /** Watchdog: the longest a plugin may hold a worker on one burst (ms, default 250). */
  pluginBudgetMs?: number;
  /** Publish every record to NATS (docs/publish.md): the engine runs the sink; `engine.published` has its counts. */
  publish?: PublishConfig;
  /**
   * A filter expression in the pcap-filter language (`udp port 7001`, as tcpdump takes it), compiled
   * by libpcap for the source's link type: frames it rejects are released and counted as
   * `filtered`. AF_PACKET sources also run it in the kernel, so those never reach the ring. docs/filter.md.
   */
  filter?: string;
}

export interface ResolvedConfig {
  tx: TxOptions;
  iface?: string;
  netns?: string;
  backendOptions: Record<string, unknown>;
  backend: SourceKind;
  dpdk?: Required<Pick<EngineDpdkConfig, 'frames' | 'stride'>> & EngineDpdkConfig;
  file?: string;
  frames?: readonly Uint8Array[];
  linktype: number;
  replay: Required<Omit<ReplayOptions, 'rate' | 'bitRate' | 'speed' | 'count'>> & Pick<ReplayOptions, 'rate' | 'bitRate' | 'speed' | 'count'>;
  queues: number;
  workers: number;
  cpus?: number[];
  ringSize: number;
  frameCount: number;
  frameSize: number;
  burst: number;
  poolCache: number;
  classes: number;
  maxRules: number;
  rules: readonly FlowRuleInput[];
  poll: PollMode;
  parse: Required<Omit<ParseOptions, 'rssKey'>> & { rssKey: Uint8Array };
  handler?: string;
  handlerArgs?: unknown;
  recordsRing: number;
  recordsWakeUs: number;
  restart: boolean;
  plugins: readonly PluginSpec[];
  pluginBudgetMs: number;
  publish?: PublishConfig;
  filter?: string;
}

export class EngineConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`engine config: ${field}: ${message}`);
    this.name = 'EngineConfigError';
  }
}

/** The RSS key of Microsoft's verification suite (the one NICs ship as default). */
export const DEFAULT_RSS_KEY = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
  0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

const KNOWN = new Set([
  'tx', 'iface', 'netns', 'backendOptions', 'dpdk',
  'backend', 'file', 'frames', 'linktype', 'replay', 'queues', 'workers', 'cpus', 'ringSize', 'frameCount', 'frameSize', 'burst', 'poolCache', 'classes',
  'maxRules', 'rules', 'poll', 'parse', 'handler', 'handlerArgs', 'recordsRing', 'recordsWakeUs', 'restart',
  'plugins', 'pluginBudgetMs', 'publish', 'filter',
]);

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new EngineConfigError(field, `got ${String(v)}; use a whole number from ${min} to ${max}`);
  return v;
}

function pow2(field: string, v: unknown, min: number, max: number): number {
  const problem = pow2Problem(v, min, max);
  if (problem) throw new EngineConfigError(field, problem);
  return v as number;
}

function positive(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new EngineConfigError(field, `got ${String(v)}; use a number above 0`);
  return v;
}

/** The sizes a config file may set (host/config.ts), with the engine's defaults filled in: the one
 * source of those defaults, for the engine and for the map `wirewasm info` prints. Not validated. */
export function engineSizes(c: { workers?: number; queues?: number; frameCount?: number; frameSize?: number; ringSize?: number }, backend: SourceKind = 'pcap') {
  const workers = c.workers ?? 1;
  const frameCount = c.frameCount ?? 8192;
  return { workers, queues: c.queues ?? (backend === 'memory' ? workers : 1), frameCount, frameSize: c.frameSize ?? 2048, ringSize: c.ringSize ?? Math.min(4096, frameCount) };
}

function publishConfig(p: PublishConfig): PublishConfig {
  try {
    return checkPublishConfig(p);
  } catch (e) {
    // The check names the field ("publish.url: ..."): keep it as the field.
    const [, field, message] = /^(publish\.\w+): (.*)$/s.exec((e as Error).message) ?? [, 'publish', (e as Error).message];
    throw new EngineConfigError(field!, message!);
  }
}

function resolveDpdk(c: EngineConfig, queues: number): ResolvedConfig['dpdk'] {
  const d = c.dpdk;
  if (typeof d !== 'object' || d === null || typeof d.port !== 'string' || d.port === '')
    throw new EngineConfigError('dpdk', "the dpdk backend needs dpdk.port: 'net_af_xdp0,iface=eth0', 'net_af_packet0,iface=eth0', 'net_null0' or a PCI address");
  if ('queues' in d) throw new EngineConfigError('dpdk.queues', 'the port opens the engine\'s queues: set queues, not dpdk.queues');
  if (c.iface !== undefined) throw new EngineConfigError('iface', `the dpdk backend takes the interface in dpdk.port (e.g. net_af_packet0,iface=${c.iface})`);
  if (c.netns !== undefined) throw new EngineConfigError('netns', 'a DPDK port opens in the process\'s own network namespace: run the process there (ip netns exec NAME ...)');
  if (c.tx?.rate !== undefined || c.tx?.bitRate !== undefined) throw new EngineConfigError('tx', 'the dpdk backend sends at the rate the port accepts; tx.rate and tx.bitRate are not applied to it');
  return { ...d, frames: int('dpdk.frames', d.frames ?? 8192 * queues, 64, 1 << 20), stride: pow2('dpdk.stride', d.stride ?? 4096, 2048, 65536) };
}

/** The engine's recordsWakeUs when the config gives none. */
export const DEFAULT_RECORDS_WAKE_US = 500;

export function resolveConfig(c: EngineConfig): ResolvedConfig {
  if (typeof c !== 'object' || c === null) throw new EngineConfigError('config', 'expected an object such as {backend: "pcap", file: "x.pcap"}');
  const unknown = Object.keys(c).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new EngineConfigError(unknown[0], `unknown key; known keys: ${[...KNOWN].join(', ')}`);
  const backend = c.backend ?? (c.file ? 'pcap' : 'memory');
  if (backend !== 'pcap' && backend !== 'memory' && backend !== 'afpacket' && backend !== 'afxdp' && backend !== 'dpdk')
    throw new EngineConfigError('backend', `got "${String(backend)}"; use "pcap" (a capture file), "memory" (frames you pass), "afxdp" or "afpacket" (a live interface), "dpdk" (a DPDK port)`);
  if ((backend === 'afpacket' || backend === 'afxdp') && (typeof c.iface !== 'string' || c.iface === '')) throw new EngineConfigError('iface', `the ${backend} backend needs iface: the interface to receive on (see \`ip link\`)`);
  if (backend === 'pcap') {
    if (typeof c.file !== 'string' || c.file === '') throw new EngineConfigError('file', "the pcap backend needs file: the path of a pcap or pcapng capture ('-' for stdin)");
    if (c.file !== '-' && !existsSync(c.file)) throw new EngineConfigError('file', `${c.file} does not exist; check the path`);
  }
  if (backend === 'memory') {
    if (!Array.isArray(c.frames) || c.frames.length === 0 || !c.frames.every((f) => f instanceof Uint8Array))
      throw new EngineConfigError('frames', 'the memory backend needs frames: a non-empty array of Uint8Array, one whole frame each');
  }
  const sizes = engineSizes(c, backend);
  const workers = int('workers', sizes.workers, 1, 64);
  const queues = int('queues', sizes.queues, 1, 64);
  if (c.dpdk !== undefined && backend !== 'dpdk') throw new EngineConfigError('dpdk', `dpdk configures the dpdk backend; this engine's backend is ${backend}: set backend: 'dpdk' or drop dpdk`);
  const dpdk = backend === 'dpdk' ? resolveDpdk(c, queues) : undefined;
  const frameCount = pow2('frameCount', sizes.frameCount, 16, 1 << 20);
  const frameSize = pow2('frameSize', sizes.frameSize, 2048, 65536);
  const ringSize = pow2('ringSize', sizes.ringSize, 2, 1 << 24);
  const burst = int('burst', c.burst ?? 64, 1, 256);
  const poolCache = int('poolCache', c.poolCache ?? Math.min(64, Math.floor(frameCount / (4 * (workers + 1)))), 0, 512);
  const classes = int('classes', c.classes ?? 1, 1, 4);
  const maxRules = int('maxRules', c.maxRules ?? 256, 1, 4096);
  const recordsRing = pow2('recordsRing', c.recordsRing ?? 4096, 2, 1 << 20);
  const recordsWakeUs = int('recordsWakeUs', c.recordsWakeUs ?? DEFAULT_RECORDS_WAKE_US, 0, 1_000_000);
  const poll = c.poll ?? 'adaptive';
  if (!['busy', 'adaptive', 'wait'].includes(poll)) throw new EngineConfigError('poll', `got "${poll}"; use busy, adaptive or wait`);
  if (c.cpus !== undefined) {
    if (!Array.isArray(c.cpus) || c.cpus.length !== workers) throw new EngineConfigError('cpus', `give one CPU per worker (${workers}), e.g. [${Array.from({ length: workers }, (_, i) => i).join(', ')}]`);
    c.cpus.forEach((x, i) => int(`cpus[${i}]`, x, 0, 4095));
  }
  const r = c.replay ?? {};
  if (r.rate !== undefined && r.speed !== undefined) throw new EngineConfigError('replay', 'give rate (packets/s) or speed (× capture timing), not both');
  const replay = {
    loops: int('replay.loops', r.loops ?? 1, 0, 0xfffffffe),
    count: r.count === undefined ? undefined : int('replay.count', r.count, 0, Number.MAX_SAFE_INTEGER),
    lossy: Boolean(r.lossy),
    rate: r.rate === undefined ? undefined : positive('replay.rate', r.rate),
    bitRate: r.bitRate === undefined ? undefined : positive('replay.bitRate', r.bitRate),
    speed: r.speed === undefined ? undefined : positive('replay.speed', r.speed),
  };
  const p = c.parse ?? {};
  const rssKey = p.rssKey ?? DEFAULT_RSS_KEY;
  if (!(rssKey instanceof Uint8Array) || rssKey.length < 40) throw new EngineConfigError('parse.rssKey', `got ${rssKey?.length ?? 0} bytes; an RSS key has at least 40`);
  const spread = p.spread ?? workers > queues;
  const parse = { rss: (p.rss ?? workers > 1) || spread, spread, symmetric: p.symmetric ?? true, verifyChecksums: Boolean(p.verifyChecksums), dropErrors: Boolean(p.dropErrors), rssKey };
  let handler = c.handler;
  if (handler !== undefined) {
    if (typeof handler !== 'string' || handler === '') throw new EngineConfigError('handler', 'give the path of an ES module: export default (burst) => { ... }');
    if (!handler.startsWith('file:')) {
      handler = path.resolve(handler);
      if (!existsSync(handler)) throw new EngineConfigError('handler', `${handler} does not exist; check the path`);
    }
  }
  if (c.filter !== undefined && (typeof c.filter !== 'string' || c.filter.trim() === ''))
    throw new EngineConfigError('filter', `got ${JSON.stringify(c.filter)}; give a filter expression as tcpdump takes it, e.g. "udp port 7001"`);
  const t = c.tx ?? {};
  const tx: TxOptions = {
    rate: t.rate === undefined ? undefined : positive('tx.rate', t.rate),
    bitRate: t.bitRate === undefined ? undefined : positive('tx.bitRate', t.bitRate),
    burstPackets: t.burstPackets === undefined ? undefined : positive('tx.burstPackets', t.burstPackets),
    burstBytes: t.burstBytes === undefined ? undefined : positive('tx.burstBytes', t.burstBytes),
  };
  return {
    tx,
    iface: c.iface,
    netns: c.netns,
    backendOptions: c.backendOptions ?? {},
    backend,
    dpdk,
    file: c.file,
    frames: c.frames,
    linktype: int('linktype', c.linktype ?? 1, 0, 65535),
    replay,
    queues,
    workers,
    cpus: c.cpus,
    ringSize,
    frameCount,
    frameSize,
    burst,
    poolCache,
    classes,
    maxRules,
    rules: c.rules ?? [],
    poll,
    parse,
    handler,
    handlerArgs: c.handlerArgs,
    recordsRing,
    recordsWakeUs,
    restart: c.restart ?? true,
    plugins: Array.isArray(c.plugins) ? c.plugins : c.plugins === undefined ? [] : (() => {
      throw new EngineConfigError('plugins', 'give an array of plugin specs, e.g. [{path: "moldudp64.wasm"}]');
    })(),
    pluginBudgetMs: positive('pluginBudgetMs', c.pluginBudgetMs ?? 250),
    publish: c.publish === undefined ? undefined : publishConfig(c.publish),
    filter: c.filter,
  };
}
