/**
 * AF_PACKET backend: PACKET_MMAP rings mapped into the shared memory, walked by WASM
 * (assembly/kernel/tpacket.ts, engine/tpacket.ts). Two receive modes:
 *  - TPACKET_V3 (default, throughput): the kernel fills blocks and hands a block over when full or
 *    after `retireMs`; one wake-up per block, so latency is bounded by the retire timeout.
 *  - TPACKET_V2 (latency): one frame per packet, visible as soon as the kernel wrote it.
 * Transmit uses a TPACKET_V2 TX ring on its own socket: frames are written in place in the ring
 * (zero-copy from the memory), then one sendto() sends the burst.
 * Several queues = several sockets in one PACKET_FANOUT group: the kernel splits the interface's
 * packets among them (by flow hash, CPU, round-robin or hardware queue), one queue per worker.
 *
 * Engine mode (`enginePool`, set by the engine) with TPACKET_V3 is zero-copy by default: each
 * packet becomes a pool frame whose data points into the kernel's block, and a block goes back to
 * the kernel when the last frame describing one of its packets is released (assembly/engine/tpacket.ts,
 * "Zero-copy engine source"). Frames handlers forward are copied into the TX ring by the engine's
 * source loop (transmit(), assembly/engine/tpacket.ts "Engine transmit"), so a forwarded zero-copy frame gives its
 * block back as soon as it is copied. The per-block holder lines follow the queue's I/O area:
 *
 * ```
 *  region: rx ring (blocks) | tx ring | I/O area (kernel.ts) | holder lines: blockCount × 64 B
 * ```
 */
import { compileEngine, instantiateEngine } from '../wasm.js';
import type { EngineExports } from '../abi.js';
import {
  adaptiveWait, alignPage, checkInterface, checkPow2, checkRegion, DEFAULT_BURST, explain, ioArea, ioAreaBytes,
  flushTx, kernelAddon, MAX_BURST, sendFrames, sumQueues, walkerCounters, type IoArea,
} from './kernel.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

export type FanoutMode = 'hash' | 'cpu' | 'rr' | 'queue';

export interface AfPacketOptions {
  /** 3 (blocks; throughput, default) or 2 (frames; latency). */
  version?: 2 | 3;
  /** V3: bytes per block (power of two, >= 4096; default 256 KiB) and blocks per queue (default 16, engine zero-copy 64). */
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
  /**
   * A classic BPF program (struct sock_filter, 8 bytes an instruction: host/filter encodeBpf) the
   * kernel runs on every receive socket, attached before bind(): packets it rejects never reach the ring.
   */
  filter?: Uint8Array;
  /**
   * Engine, TPACKET_V3: pool frames describe packets where the kernel wrote them, no copy (default
   * true). A frame held (keep(), a slow handler) then holds its whole block, and a ring whose
   * blocks are all held drops (counted as kernel drops). false: each packet is copied into a pool
   * frame and its block goes back at once. V2 (the latency mode) always copies.
   */
  zeroCopy?: boolean;
  /** Engine mode (set by the engine): receive with ingest() into the engine's pool. */
  enginePool?: boolean;
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
    // Engine zero-copy: a block stays out of the kernel's hands while any of its frames is held,
    // and at low rates the retire timer hands blocks over nearly empty, so the ring buffers about
    // blockCount × retireMs: 64 blocks of 256 KiB (16 MiB, 256 ms at 4 ms) rather than 16. Not
    // smaller blocks: each costs a wake-up, and 64 KiB ones measured 50% more CPU per packet.
    const zc = c.enginePool && c.zeroCopy !== false;
    unit = c.blockSize ?? 1 << 18;
    count = c.blockCount ?? (zc ? 64 : 16);
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
  return alignPage(g.rxBytes) + g.txBytes + ioAreaBytes(g.burst) + holderBytes(g);
}

/** V3: one 64-byte holder line per block (engine zero-copy). */
const holderBytes = (g: Geometry) => (g.version === 3 ? alignPage(g.count * 64) : 0);

interface Queue extends QueueInfo {
  id: number;
  rxFd: number;
  txFd: number;
  io: IoArea;
  drops: { ringFull: number; queueFreezes: number; txNoBuffer: number };
  kernelPackets: number;
}


const nap = new Int32Array(new SharedArrayBuffer(4));

export class AfPacketBackend implements Backend {
  readonly name = 'afpacket' as const;
  readonly mode: string;
  readonly queues: Queue[] = [];
  private readonly wasm: EngineExports;
  private readonly memory: WebAssembly.Memory;
  private readonly g: Geometry;
  private closed = false;
  private readonly u32: Uint32Array;
  private readonly coalesceUs?: number;
  /** Engine mode, V3: packets are read in place (ingest()); see the file comment. */
  readonly zeroCopy: boolean;
  /** Where each queue's receive ring lies in the memory (blocks or frames). */
  readonly rxRegions: { offset: number; size: number }[] = [];
  private holdersAt = 0;

  constructor(config: AfPacketConfig) {
    const native = kernelAddon();
    const iface = config.iface!;
    const n = config.queues ?? config.layout.config.queues;
    this.g = geometry({ ...config, burst: config.burst });
    this.memory = config.memory;
    this.u32 = new Uint32Array(config.memory.buffer);
    this.coalesceUs = config.coalesceUs;
    if (config.zeroCopy && this.g.version !== 3)
      throw new BackendError('bad-config', 'afpacket: zeroCopy needs TPACKET_V3 (version 3, the default); TPACKET_V2 copies each packet into the pool');
    this.zeroCopy = Boolean(config.enginePool) && this.g.version === 3 && config.rx !== false && config.zeroCopy !== false;
    checkRegion('afpacket', config.layout, n, afpacketKernelBytes({ ...config }));
    this.wasm = config.engine ?? instantiateEngine(compileEngine(), config.memory);
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
          filter: config.filter ?? null,
        });
        hw ||= r.hwTimestamps;
        this.wasm.tpacketInit(io.state, this.g.version, at, this.g.unit, this.g.count, q, io.records, this.g.txFrames ? txAt : 0, this.g.txFrameSize, this.g.txFrames);
        this.holdersAt = txAt + this.g.txBytes + ioAreaBytes(this.g.burst) - at;
        if (this.zeroCopy) this.wasm.tpacketEngineInit(io.state, at + this.holdersAt);
        this.rxRegions.push({ offset: at, size: this.g.rxBytes });
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
      config.rx === false ? 'tx-only' : this.g.version === 3 ? `tpacket_v3${this.zeroCopy ? ' zero-copy' : ''} block ${this.g.unit}x${this.g.count} retire ${config.retireMs ?? 4}ms` : `tpacket_v2 frame ${this.g.unit}x${this.g.count}`, this.g.txFrames ? `tx ${this.g.txFrames}x${this.g.txFrameSize}${config.qdiscBypass ? ' qdisc-bypass' : ''}` : '',
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

  /**
   * Engine zero-copy, one WASM call per burst: up to `max` packets of queue q become pool frames
   * (allocated through `cache`) describing the packets in place, on the engine's rx ring q. `list`
   * is scratch for `max` u32. Returns the frames received.
   */
  ingest(q: number, ctx: number, cache: number, list: number, max: number, nowNs: number): number {
    return this.wasm.tpacketEngineRx(this.queues[q].state, ctx, q, cache, list, Math.min(max, this.g.burst), nowNs);
  }

  /** Engine zero-copy, at stop after the last ingest(): the walker lets go of its block (packets it could not take are counted pool_empty). */
  finish(q: number, ctx: number): number {
    return this.wasm.tpacketEngineStop(this.queues[q].state, ctx, q);
  }

  /**
   * Engine mode transmit of queue q, one WASM call: the frames handlers forwarded (the engine's tx
   * ring q, through its shaper) are copied into the TX ring and released to the pool, then one
   * send() hands them to the kernel. Returns the frames held or not sent yet (0 without a TX ring).
   */
  transmit(q: number, ctx: number, cache: number, nowNs: number): number {
    const Q = this.queues[q];
    if (Q.txFd < 0) return 0;
    const r = this.wasm.tpacketEngineTx(Q.state, ctx, q, cache, nowNs);
    if (r >>> 31) kernelAddon().fdKick(Q.txFd);
    return r & 0x7fffffff;
  }

  /** Engine mode: slots of queue q's TX ring the kernel has not sent yet. */
  txInflight(q: number): number {
    const Q = this.queues[q];
    return Q.txFd < 0 ? 0 : this.wasm.tpacketEngineTxInflight(Q.state);
  }

  /** Engine zero-copy: blocks of queue q the engine holds (not yet given back to the kernel). */
  heldBlocks(q: number): number {
    return this.wasm.tpacketEngineHeld(this.queues[q].state);
  }

  /**
   * Engine zero-copy: what the engine header's ext fields need (assembly/engine-map.ts EH_EXT_*):
   * the kernel regions, their stride, log2 of the block size and the holder lines' offset.
   */
  extRegions(layout: { kernel: readonly { offset: number; size: number }[] }): { base: number; bytes: number; stride: number; shift: number; holders: number } {
    const k = layout.kernel;
    const stride = k.length > 1 ? k[1].offset - k[0].offset : k[0].size;
    return { base: k[0].offset, bytes: stride * this.queues.length, stride, shift: Math.log2(this.g.unit), holders: this.holdersAt };
  }

  /** Packets waiting on queue q (V3: in the open or next block; a block the engine still holds is not new). */
  ready(q: number): number {
    return this.wasm.tpacketRxReady(this.queues[q].state);
  }

  wait(q: number, timeoutMs: number): boolean {
    const Q = this.queues[q];
    if (this.zeroCopy && !this.wasm.tpacketEnginePollable(Q.state)) {
      // poll() would return at once (the engine holds the block the kernel checks): sleep by the
      // clock, 50 µs doubling to 1 ms, V3's latency being bounded by the retire timer anyway.
      const end = Date.now() + timeoutMs;
      for (let us = 50; ; us = Math.min(1000, us * 2)) {
        if (this.wasm.tpacketRxReady(Q.state) > 0) return true;
        if (Date.now() >= end) return false;
        Atomics.wait(nap, 0, 0, us / 1000);
      }
    }
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
      const w = this.wasm;
      return {
        ...walkerCounters(this.memory, Q.state, { rx: w.TPS_RX, rxBytes: w.TPS_RX_BYTES, tx: w.TPS_TX, txBytes: w.TPS_TX_BYTES }),
        drops: { ...Q.drops },
      };
    });
    return sumQueues(per);
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

