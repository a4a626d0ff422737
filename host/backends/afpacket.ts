/**
 * AF_PACKET backend: PACKET_MMAP rings mapped into the shared memory, walked by WASM
 * (assembly/tpacket.ts). Two receive modes:
 *  - TPACKET_V3 (default, throughput): the kernel fills blocks and hands a block over when full or
 *    after `retireMs`; one wake-up per block, so latency is bounded by the retire timeout.
 *  - TPACKET_V2 (latency): one frame per packet, visible as soon as the kernel wrote it.
 * Transmit uses a TPACKET_V2 TX ring on its own socket: frames are written in place in the ring
 * (zero-copy from the memory), then one sendto() sends the burst.
 * Several queues = several sockets in one PACKET_FANOUT group: the kernel splits the interface's
 * packets among them (by flow hash, CPU, round-robin or hardware queue), one queue per worker.
 */
import { compileEngine, instantiateEngine } from '../wasm.js';
import {
  adaptiveWait, alignPage, checkInterface, checkPow2, checkRegion, DEFAULT_BURST, explain, ioArea, ioAreaBytes,
  flushTx, kernelAddon, MAX_BURST, sendFrames, u64, type IoArea,
} from './kernel.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

export type FanoutMode = 'hash' | 'cpu' | 'rr' | 'queue';

export interface AfPacketOptions {
  /** 3 (blocks; throughput, default) or 2 (frames; latency). */
  version?: 2 | 3;
  /** V3: bytes per block (power of two, >= 4096; default 256 KiB) and blocks per queue (default 16). */
  blockSize?: number;
  blockCount?: number;
  /** V3: ms after which a partly filled block is handed over anyway (default 4). */
  retireMs?: number;
  /** V2: bytes per frame (power of two, default 2048) and frames per queue (default 4096). */
  frameSize?: number;
  frameCount?: number;
  /** Receive (default true). false: a transmit-only socket (e.g. the generator). */
  rx?: boolean;
  /** Transmit ring: frames per queue (power of two, default 1024; 0 = no TX). */
  txFrames?: number;
  /** Bytes per TX frame (power of two, default 2048). */
  txFrameSize?: number;
  /** PACKET_QDISC_BYPASS: send straight to the driver, skipping the qdisc (default false). */
  qdiscBypass?: boolean;
  /** How fanout splits packets among queues (default hash). */
  fanout?: FanoutMode;
  /** Fanout group id (default: derived from the pid); sockets with one id share the packets. */
  fanoutGroup?: number;
  /** Ask the NIC for hardware receive timestamps (reported in `mode` when in force). */
  hwTimestamps?: boolean;
}

export type AfPacketConfig = BackendConfig & AfPacketOptions;

interface Geometry {
  version: 2 | 3;
  unit: number; // block size (V3) or frame size (V2)
  count: number;
  rxBytes: number;
  txFrames: number;
  txFrameSize: number;
  txBytes: number;
  burst: number;
}

function geometry(c: AfPacketOptions & { burst?: number }): Geometry {
  const version = c.version ?? 3;
  if (version !== 2 && version !== 3) throw new BackendError('bad-config', `afpacket: version is ${version}; use 3 (blocks, throughput) or 2 (frames, latency)`);
  const burst = c.burst ?? DEFAULT_BURST;
  if (!Number.isInteger(burst) || burst < 1 || burst > MAX_BURST) throw new BackendError('bad-config', `afpacket: burst is ${burst}; use 1 to ${MAX_BURST}`);
  let unit: number, count: number;
  if (c.rx === false) {
    unit = 0;
    count = 0;
  } else if (version === 3) {
    unit = c.blockSize ?? 1 << 18;
    count = c.blockCount ?? 16;
    checkPow2('afpacket', 'blockSize', unit, 4096, 1 << 26);
    checkPow2('afpacket', 'blockCount', count, 2, 1 << 16);
  } else {
    unit = c.frameSize ?? 2048;
    count = c.frameCount ?? 4096;
    checkPow2('afpacket', 'frameSize', unit, 256, 1 << 16);
    checkPow2('afpacket', 'frameCount', count, 8, 1 << 20);
  }
  const txFrames = c.txFrames ?? 1024;
  const txFrameSize = c.txFrameSize ?? 2048;
  if (txFrames) {
    checkPow2('afpacket', 'txFrames', txFrames, 8, 1 << 20);
    checkPow2('afpacket', 'txFrameSize', txFrameSize, 256, 1 << 16);
  }
  const txBytes = txFrames ? Math.max(4096, txFrameSize) * Math.ceil((txFrames * txFrameSize) / Math.max(4096, txFrameSize)) : 0;
  return { version, unit, count, rxBytes: unit * count, txFrames, txFrameSize, txBytes: alignPage(txBytes), burst };
}

/** Bytes a queue's kernel region needs for these options (use as the layout's kernelBytesPerQueue). */
export function afpacketKernelBytes(c: AfPacketOptions & { burst?: number } = {}): number {
  const g = geometry(c);
  return alignPage(g.rxBytes) + g.txBytes + ioAreaBytes(g.burst);
}

interface Queue extends QueueInfo {
  id: number;
  rxFd: number;
  txFd: number;
  io: IoArea;
  drops: { ringFull: number; queueFreezes: number; txNoBuffer: number };
  kernelPackets: number;
}

interface TpacketExports {
  tpacketInit(st: number, version: number, ring: number, unit: number, count: number, queue: number, records: number, txRing: number, txFrameSize: number, txFrameCount: number): void;
  tpacketRx(st: number, out: number, max: number): number;
  tpacketRelease(st: number): void;
  tpacketRxReady(st: number): number;
  tpacketTxReserve(st: number, out: number, n: number): number;
  tpacketTxSubmit(st: number, lens: number, k: number): number;
  tpacketTxPending(st: number): number;
}

export class AfPacketBackend implements Backend {
  readonly name = 'afpacket' as const;
  readonly mode: string;
  readonly queues: Queue[] = [];
  private readonly wasm: TpacketExports;
  private readonly memory: WebAssembly.Memory;
  private readonly g: Geometry;
  private closed = false;
  private readonly u32: Uint32Array;
  private readonly coalesceUs?: number;

  constructor(config: AfPacketConfig) {
    const native = kernelAddon();
    const iface = config.iface!;
    const n = config.queues ?? config.layout.config.queues;
    this.g = geometry({ ...config, burst: config.burst });
    this.memory = config.memory;
    this.u32 = new Uint32Array(config.memory.buffer);
    this.coalesceUs = config.coalesceUs;
    checkRegion('afpacket', config.layout, n, afpacketKernelBytes({ ...config }));
    this.wasm = (config.engine ?? instantiateEngine(compileEngine(), config.memory)) as unknown as TpacketExports;
    const fanout = n > 1 ? (config.fanout ?? 'hash') : config.fanout;
    const group = config.fanoutGroup ?? ((process.pid ^ (Date.now() & 0xffff)) & 0xffff);
    let hw = false;
    try {
      for (let q = 0; q < n; q++) {
        const region = config.layout.kernel[q];
        const at = region.offset;
        const txAt = at + alignPage(this.g.rxBytes);
        const io = ioArea(txAt + this.g.txBytes, this.g.burst);
        const r = native.afpacketOpen({
          memory: config.memory,
          iface,
          netns: config.netns,
          version: this.g.version,
          rx: config.rx === false ? null : this.rxRing(at, config.retireMs ?? 4),
          tx: this.g.txFrames ? { offset: txAt, frameSize: this.g.txFrameSize, frameCount: this.g.txFrames, qdiscBypass: config.qdiscBypass ?? false } : null,
          fanout: fanout && config.rx !== false ? { group, mode: fanout } : null,
          hwTimestamps: config.hwTimestamps ?? false,
        });
        hw ||= r.hwTimestamps;
        this.wasm.tpacketInit(io.state, this.g.version, at, this.g.unit, this.g.count, q, io.records, this.g.txFrames ? txAt : 0, this.g.txFrameSize, this.g.txFrames);
        this.queues.push({
          index: q, fd: r.rxFd >= 0 ? r.rxFd : r.txFd, state: io.state, rxAddrs: io.rxAddrs, txAddrs: io.txAddrs, txLens: io.txLens,
          txCapacity: this.g.txFrameSize - 32, id: r.id, rxFd: r.rxFd, txFd: r.txFd, io,
          drops: { ringFull: 0, queueFreezes: 0, txNoBuffer: 0 }, kernelPackets: 0,
        });
      }
    } catch (e) {
      this.close();
      throw explain(e, iface, 'afpacket');
    }
    this.mode = [
      'afpacket',
      config.rx === false ? 'tx-only' : this.g.version === 3 ? `tpacket_v3 block ${this.g.unit}x${this.g.count} retire ${config.retireMs ?? 4}ms` : `tpacket_v2 frame ${this.g.unit}x${this.g.count}`, this.g.txFrames ? `tx ${this.g.txFrames}x${this.g.txFrameSize}${config.qdiscBypass ? ' qdisc-bypass' : ''}` : '',
      fanout && config.rx !== false ? `fanout ${fanout} x${n}` : '', hw ? 'hw-timestamps' : 'sw-timestamps',
    ].filter(Boolean).join(' ');
  }

  /** V3: blocks as configured. V2: frames packed into blocks of up to 64 KiB; since both are
   * powers of two, frame i sits at i × frameSize, which is how the walker finds it. */
  private rxRing(offset: number, retireMs: number) {
    const { version, unit, count } = this.g;
    if (version === 3) return { offset, blockSize: unit, blockCount: count, frameSize: 2048, retireMs };
    const blockSize = Math.min(unit * count, Math.max(unit, 1 << 16));
    return { offset, blockSize, blockCount: (unit * count) / blockSize, frameSize: unit };
  }

  receive(q: number, max = this.g.burst): number {
    const Q = this.queues[q];
    return this.wasm.tpacketRx(Q.state, Q.rxAddrs, Math.min(max, this.g.burst));
  }

  rxMeta(q: number, i: number): number {
    // One view over the whole memory, made once: shared memory never moves or shrinks.
    return this.u32[(this.queues[q].rxAddrs >>> 2) + i];
  }

  release(q: number): void {
    this.wasm.tpacketRelease(this.queues[q].state);
  }

  wait(q: number, timeoutMs: number): boolean {
    const Q = this.queues[q];
    // V3 already batches per block; V2 coalesces like AF_XDP.
    return adaptiveWait(() => this.wasm.tpacketRxReady(Q.state), Q.rxFd, timeoutMs, { coalesceUs: this.g.version === 3 ? 0 : this.coalesceUs });
  }

  txReserve(q: number, n: number): number {
    const Q = this.queues[q];
    if (Q.txFd < 0) throw new BackendError('bad-config', 'afpacket: this backend was opened without a TX ring; open it with txFrames > 0');
    const k = this.wasm.tpacketTxReserve(Q.state, Q.txAddrs, Math.min(n, this.g.burst));
    return k;
  }

  txSubmit(q: number, k: number): number {
    const Q = this.queues[q];
    const sent = this.wasm.tpacketTxSubmit(Q.state, Q.txLens, k);
    if (sent) kernelAddon().fdKick(Q.txFd);
    return sent;
  }

  send(q: number, frames: readonly Uint8Array[]): number {
    const Q = this.queues[q];
    const r = sendFrames(
      { memory: this.memory, burst: this.g.burst, reserve: (n) => this.txReserve(q, n), submit: (k) => this.txSubmit(q, k), addrs: Q.txAddrs, lens: Q.txLens, capacity: Q.txCapacity,
        tooLarge: (n) => `afpacket: frame of ${n} bytes exceeds the TX slot's ${Q.txCapacity}; raise txFrameSize` },
      frames,
    );
    Q.drops.txNoBuffer += r.noBuffer;
    return r.sent;
  }

  flush(q: number, timeoutMs = 1000): boolean {
    const Q = this.queues[q];
    return flushTx(() => this.wasm.tpacketTxPending(Q.state), Q.txFd, timeoutMs);
  }

  stats(): BackendStats {
    const native = kernelAddon();
    const per = this.queues.map((Q) => {
      if (!this.closed && Q.rxFd >= 0) {
        const k = native.afpacketStats(Q.rxFd); // resets in the kernel: accumulate
        Q.drops.ringFull += k.drops;
        Q.drops.queueFreezes += k.freezes;
        Q.kernelPackets += k.packets;
      }
      const s = Q.state;
      return {
        rx: u64(this.memory, s + 48), rxBytes: u64(this.memory, s + 56), tx: u64(this.memory, s + 88), txBytes: u64(this.memory, s + 96),
        drops: { ...Q.drops },
      };
    });
    const sum = (f: (s: (typeof per)[number]) => number) => per.reduce((a, s) => a + f(s), 0);
    return {
      rx: sum((s) => s.rx), tx: sum((s) => s.tx), rxBytes: sum((s) => s.rxBytes), txBytes: sum((s) => s.txBytes),
      drops: { ringFull: sum((s) => s.drops.ringFull), queueFreezes: sum((s) => s.drops.queueFreezes), txNoBuffer: sum((s) => s.drops.txNoBuffer) },
      queues: per,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const native = kernelAddon();
    for (const Q of this.queues.reverse()) native.kernelRelease(Q.id);
    this.queues.reverse();
  }
}

export function openAfPacket(config: AfPacketConfig): AfPacketBackend {
  checkInterface('afpacket', config.iface, config.netns, [['CAP_NET_RAW']]);
  geometry(config);
  return new AfPacketBackend(config);
}

