/**
 * What the two kernel-ring backends (afxdp, afpacket) share: the addon's functions they call, the
 * layout of a queue's kernel region, errors with their fixes, and adaptive waiting.
 *
 * A queue's kernel region (layout.kernel[q], page-aligned, sized by kernelBytesPerQueue):
 *
 * ```
 *  ┌──────────────────────────────┐ region offset
 *  │ kernel rings (mmap MAP_FIXED)│ AF_XDP: fill | completion | rx | tx, each page-rounded
 *  │                              │ AF_PACKET: rx ring (blocks/frames) | tx ring
 *  ├──────────────────────────────┤ page aligned
 *  │ queue state block (256 B)    │ read and written by the WASM walker of this queue
 *  │ rxAddrs   burst × u32        │ meta record addresses of the last received burst
 *  │ txAddrs   burst × u32        │ buffer addresses of the last TX reservation
 *  │ txLens    burst × u32        │ lengths written by the sender before submit
 *  │ records   burst × 64 B       │ meta records of the last burst (data → UMEM frame / ring)
 *  │ free      txFrames × u32     │ AF_XDP: TX free-frame stack
 *  └──────────────────────────────┘
 * ```
 */
import { loadNative, type NativeAddon } from '../native.js';
import { effectiveCapabilities, type CapName } from '../privileges.js';
import { pow2Problem, type Layout } from '../layout.js';
import { BackendError, type BackendErrorReason, type BackendStats } from './types.js';

export const PAGE = 4096;
export const STATE_BYTES = 256;
export const DEFAULT_BURST = 64;
export const MAX_BURST = 256;
export const alignPage = (n: number) => Math.ceil(n / PAGE) * PAGE;
export const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export interface IfInfo {
  iface: string;
  ifindex: number;
  up?: boolean;
  running?: boolean;
  mtu?: number;
  mac?: string;
  driver?: string;
  busInfo?: string;
  channels?: { rx: number; tx: number; combined: number; other: number; maxRx: number; maxTx: number; maxCombined: number };
  features?: Record<string, string>;
  timestamping?: { capabilities: string[]; phcIndex: number; hardwareReceiveFilters: number };
}

/** The addon's kernel-ring functions (native/kmap.cc, afpacket.cc, afxdp.cc, bpf.cc, ifcaps.cc, affinity.cc). */
export interface KernelAddon extends NativeAddon {
  kernelRelease(id: number): boolean;
  kernelMappings(): { handles: number; mappings: number; fds: number };
  fdPoll(fd: number, events: number, timeoutMs: number): number;
  fdKick(fd: number): number;
  fdWake(fd: number): void;
  clockNs(clock: 0 | 1): bigint;
  ifInfo(o: { iface: string; netns?: string }): IfInfo;
  afpacketOpen(o: object): { id: number; rxFd: number; txFd: number; ifindex: number; rxBytes?: number; txBytes?: number; hwTimestamps: boolean };
  afpacketStats(fd: number): { packets: number; drops: number; freezes: number };
  xskOpen(o: object): XskOpened;
  xskStats(fd: number): { rxDropped: number; rxInvalid: number; txInvalid: number; rxRingFull: number; fillRingEmpty: number; txRingEmpty: number };
  xdpAttach(o: { iface: string; netns?: string; mode: 'skb' | 'drv'; entries: number }): { id: number; mapFd: number; progFd: number; linkFd: number; ifindex: number };
  xskMapSet(mapFd: number, key: number, fd: number): void;
  pinThread(cpus: number[]): void;
  threadAffinity(): number[];
  numaNodeOf(memory: WebAssembly.Memory, offset: number): number;
  bindToNode(memory: WebAssembly.Memory, offset: number, length: number, node: number): number;
}

export interface RingOffsets {
  producer: number;
  consumer: number;
  desc: number;
  flags: number;
}
export interface XskOpened {
  id: number;
  fd: number;
  ifindex: number;
  zeroCopy: boolean;
  needWakeup: boolean;
  rx?: RingOffsets;
  tx?: RingOffsets;
  fill?: RingOffsets;
  comp?: RingOffsets;
}

export const kernelAddon = () => loadNative() as KernelAddon;

/** Bytes of the per-queue I/O area that follows the kernel rings. */
export function ioAreaBytes(burst: number, txFrames = 0): number {
  return alignPage(STATE_BYTES + burst * (4 + 4 + 4 + 64) + txFrames * 4);
}

export interface IoArea {
  state: number;
  rxAddrs: number;
  txAddrs: number;
  txLens: number;
  records: number;
  free: number;
}

export function ioArea(at: number, burst: number): IoArea {
  const state = at;
  const rxAddrs = state + STATE_BYTES;
  const txAddrs = rxAddrs + burst * 4;
  const txLens = txAddrs + burst * 4;
  const records = txLens + burst * 4;
  const free = records + burst * 64;
  return { state, rxAddrs, txAddrs, txLens, records, free };
}

const FIX: Record<BackendErrorReason, string> = {
  'no-such-interface': 'check the name with `ip link` (and --netns if it lives in a namespace)',
  'interface-down': 'bring it up: `ip link set dev IF up`',
  'missing-privilege': 'run as root, or grant the capabilities: `sudo setcap cap_net_raw,cap_net_admin,cap_bpf,cap_ipc_lock+ep $(readlink -f $(which node))`',
  'xdp-busy': 'another XDP program is attached to IF (see `ip link show dev IF`); detach it (`ip link set dev IF xdp off`, or stop the program that attached it), or use --backend afpacket',
  'ring-size': 'use powers of two within the kernel limits',
  'memory-too-small': 'create the layout with kernelBytesPerQueue from kernelBytesFor() (or a larger frame pool)',
  'bad-config': 'check the backend options',
  unsupported: 'this kernel or driver does not offer it; `wirewasm info --iface IF` shows what it does offer',
};

/** Turns an addon error (with its `reason`) into a BackendError that says how to fix it. */
export function explain(e: unknown, iface: string, what: string): BackendError {
  const err = e as Error & { reason?: BackendErrorReason; code?: string };
  if (err instanceof BackendError) return err;
  let reason: BackendErrorReason = err.reason ?? 'bad-config';
  if (err.code === 'EPERM' || err.code === 'EACCES') reason = 'missing-privilege';
  const fix = FIX[reason].replaceAll('IF', iface);
  const lead =
    reason === 'xdp-busy'
      ? `${what}: an XDP program is already attached to ${iface} by someone else`
      : reason === 'missing-privilege'
        ? `${what}: missing privilege (${err.message})`
        : `${what}: ${err.message}`;
  return new BackendError(reason, `${lead}; ${fix}`, { cause: e });
}

/**
 * Checks what must hold before touching the kernel, in the order a user would fix things:
 * privilege, interface exists, interface up. Returns the interface's info.
 */
export function checkInterface(backend: string, iface: string | undefined, netns: string | undefined, needs: CapName[][]): IfInfo {
  if (!iface) throw new BackendError('bad-config', `${backend}: no interface given; pass iface (CLI: --iface IF), e.g. eth0`);
  const have = effectiveCapabilities();
  const missing = needs.map((set) => set.filter((c) => !have.has(c))).reduce((a, b) => (b.length < a.length ? b : a));
  if (missing.length)
    throw new BackendError('missing-privilege', `${backend} on ${iface}: missing privilege ${missing.join(' + ')} (needs ${needs.map((s) => s.join(' + ')).join(', or ')}); ${FIX['missing-privilege']}`);
  let info: IfInfo;
  try {
    info = kernelAddon().ifInfo({ iface, netns });
  } catch (e) {
    const where = netns ? ` in network namespace ${netns}` : '';
    if ((e as { reason?: string }).reason === 'no-such-interface')
      throw new BackendError('no-such-interface', `${backend}: no such interface "${iface}"${where}; ${FIX['no-such-interface']}`, { cause: e });
    throw explain(e, iface, backend);
  }
  if (info.up === false)
    throw new BackendError('interface-down', `${backend}: interface ${iface} is down; ${FIX['interface-down'].replace('IF', iface)}${netns ? ` (inside: ip -n ${netns} link set dev ${iface} up)` : ''}`);
  return info;
}

export function checkPow2(backend: string, field: string, v: number, min: number, max: number): void {
  const problem = pow2Problem(v, min, max);
  if (problem) throw new BackendError('ring-size', `${backend}: ring size ${field}: ${problem}`);
}

export function checkRegion(backend: string, layout: Layout, queues: number, need: number): void {
  if (queues > layout.config.queues)
    throw new BackendError('memory-too-small', `${backend}: ${queues} queues asked but the memory map has kernel regions for ${layout.config.queues}; create the layout with queues: ${queues}`);
  const have = layout.config.kernelBytesPerQueue;
  if (have < need)
    throw new BackendError('memory-too-small', `${backend}: the memory map reserves ${have} bytes per queue for kernel rings but these ring sizes need ${need}; create the layout with kernelBytesPerQueue: ${need} (kernelBytesFor('${backend}', config) computes it)`);
}

/** A backend's totals: each counter and each drop reason summed over its queues, which are kept as they are. */
export function sumQueues(queues: NonNullable<BackendStats['queues']>): BackendStats {
  const total: BackendStats = { rx: 0, tx: 0, rxBytes: 0, txBytes: 0, drops: {}, queues };
  const drops = total.drops as Record<string, number>;
  for (const q of queues) {
    total.rx += q.rx;
    total.tx += q.tx;
    total.rxBytes += q.rxBytes;
    total.txBytes += q.txBytes;
    for (const [reason, n] of Object.entries(q.drops)) drops[reason] = (drops[reason] ?? 0) + (n ?? 0);
  }
  return total;
}

/** Reads an unsigned 64-bit counter from the memory as a Number. */
export function u64(memory: WebAssembly.Memory, addr: number): number {
  return Number(new DataView(memory.buffer).getBigUint64(addr, true));
}

/** The packets and bytes a kernel walker counted: u64 words of its state block `st` at the offsets the engine module exports. */
export function walkerCounters(
  memory: WebAssembly.Memory,
  st: number,
  at: { rx: WebAssembly.Global; rxBytes: WebAssembly.Global; tx: WebAssembly.Global; txBytes: WebAssembly.Global },
): { rx: number; rxBytes: number; tx: number; txBytes: number } {
  const word = (g: WebAssembly.Global) => u64(memory, st + (g.value as number));
  return { rx: word(at.rx), rxBytes: word(at.rxBytes), tx: word(at.tx), txBytes: word(at.txBytes) };
}

const POLLIN = 1;
const nap = new Int32Array(new SharedArrayBuffer(4));

export interface WaitOptions {
  /** Spin this long before sleeping (default 2 µs). */
  spinNs?: bigint;
  /**
   * Coalescing, like a NIC's interrupt moderation: when fewer than `coalesceFrames` are waiting,
   * sleep up to `coalesceUs` once so the next burst is fuller (default 50 µs, 16 frames; 0 = off).
   * Costs at most that much latency; busy-poll receivers do not call wait() at all.
   */
  coalesceUs?: number;
  coalesceFrames?: number;
}

/**
 * Adaptive wait (docs/native-host.md: poll() per wake-up is expensive): spin on `ready` for `spinNs`, then
 * one short sleep, then poll() until `timeoutMs`; and when only a few frames wait, one short
 * sleep so the burst fills. `ready` returns how many frames wait. True when frames are waiting.
 */
export function adaptiveWait(ready: () => number, fd: number, timeoutMs: number, o: WaitOptions = {}): boolean {
  const coalesceUs = o.coalesceUs ?? 50;
  let n = ready();
  if (n === 0) {
    // 1. Spin briefly: frames often follow each other within microseconds.
    const start = process.hrtime.bigint();
    const spinNs = o.spinNs ?? 2_000n;
    while (n === 0 && process.hrtime.bigint() - start < spinNs) n = ready();
    // 2. Short sleep: cheaper than a poll() wake-up (~5 µs of CPU), and it lets a burst gather.
    if (n === 0 && coalesceUs > 0 && timeoutMs > 0) {
      Atomics.wait(nap, 0, 0, coalesceUs / 1000);
      n = ready();
      if (n > 0) return true;
    }
    // 3. Wait in poll() until the kernel has something.
    if (n === 0 && timeoutMs > 0) {
      const native = kernelAddon();
      const end = Date.now() + timeoutMs;
      while (n === 0 && Date.now() < end) {
        native.fdPoll(fd, POLLIN, Math.max(1, Math.min(end - Date.now(), 50)));
        n = ready();
      }
    }
    if (n === 0) return false;
  }
  if (n < (o.coalesceFrames ?? 16) && coalesceUs > 0) Atomics.wait(nap, 0, 0, coalesceUs / 1000);
  return true;
}

/** A kernel TX ring as the copying send path sees it (AF_XDP TX ring or TPACKET TX ring). */
export interface TxRing {
  memory: WebAssembly.Memory;
  burst: number;
  /** Reserves up to n slots; their addresses and lengths go to `addrs`/`lens` (u32 arrays in memory). */
  reserve(n: number): number;
  submit(k: number): number;
  addrs: number;
  lens: number;
  capacity: number;
  /** Names the slot in the too-large error, e.g. "afxdp: ... the 2048-byte UMEM frame". */
  tooLarge(bytes: number): string;
}

/**
 * Copies `frames` into reserved TX slots a burst at a time and submits them. Returns how many were
 * sent and how many found no free slot (counted by the caller as txNoBuffer, never lost silently).
 */
export function sendFrames(tx: TxRing, frames: readonly Uint8Array[]): { sent: number; noBuffer: number } {
  let done = 0;
  while (done < frames.length) {
    const k = tx.reserve(Math.min(frames.length - done, tx.burst));
    if (k === 0) return { sent: done, noBuffer: frames.length - done };
    const addrs = new Uint32Array(tx.memory.buffer, tx.addrs, k);
    const lens = new Uint32Array(tx.memory.buffer, tx.lens, k);
    const mem = new Uint8Array(tx.memory.buffer);
    for (let i = 0; i < k; i++) {
      const f = frames[done + i];
      if (f.length > tx.capacity) throw new BackendError('bad-config', tx.tooLarge(f.length));
      mem.set(f, addrs[i]);
      lens[i] = f.length;
    }
    done += tx.submit(k);
  }
  return { sent: done, noBuffer: 0 };
}

/** Kicks the kernel until `pending()` reaches 0 or `timeoutMs` passes; true when all went out. */
export function flushTx(pending: () => number, fd: number, timeoutMs: number): boolean {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (pending() === 0) return true;
    if (Date.now() > end) return false;
    kernelAddon().fdKick(fd);
    kernelAddon().fdPoll(fd, 4 /* POLLOUT */, 1);
  }
}
