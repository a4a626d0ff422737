/**
 * AF_XDP backend: the engine's frame pool is the UMEM; each queue's fill, completion, RX and TX
 * rings are mapped into its kernel region and walked by WASM (assembly/kernel/xsk.ts, assembly/engine/xsk.ts). A six-instruction
 * XDP program (native/bpf.cc) redirects each RX queue's packets to that queue's socket through an
 * XSKMAP; it is attached with a BPF link, so it goes away with the process.
 *
 * Modes: `xdpMode` skb (generic: works on any interface, the packet is already an skb) or drv
 * (native: the driver runs the program before allocating an skb; veth supports it); `auto` tries
 * drv then skb. `zeroCopy` auto tries a zero-copy bind (needs driver support: a real NIC) then
 * copy. `mode` reports what is in force.
 *
 * Frames: queue q owns frames [q·F/Q, (q+1)·F/Q) of the pool (F frames, Q queues); of those,
 * `txFrames` are kept for transmit and the rest go to the fill ring. RX frames go back to the fill
 * ring on release; TX frames come back through the completion ring.
 */
import { compileEngine, instantiateEngine } from '../wasm.js';
import type { EngineExports } from '../abi.js';
import {
  adaptiveWait, alignPage, checkInterface, checkPow2, checkRegion, DEFAULT_BURST, explain, ioArea, ioAreaBytes, kernelAddon,
  flushTx, MAX_BURST, nextPow2, sendFrames, sumQueues, walkerCounters, type IoArea, type RingOffsets,
} from './kernel.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

export interface AfXdpOptions {
  /** Where the XDP program runs: drv (native), skb (generic) or auto (drv, else skb). Default auto. */
  xdpMode?: 'auto' | 'drv' | 'skb';
  /** Zero-copy bind: auto (try, else copy), on (required), off. Default auto. */
  zeroCopy?: 'auto' | 'on' | 'off';
  /** Use the need_wakeup flags so the kernel is woken only when it asks (default true). */
  needWakeup?: boolean;
  /** Hardware queue ids to bind, one per queue (default 0, 1, ...). */
  queueIds?: number[];
  /** Frames per queue kept for transmit (default: a quarter of the queue's frames, at most 1024). */
  txFrames?: number;
  /** Ring sizes (powers of two). Defaults: each covers the frames that can be on it. */
  rxSize?: number;
  txSize?: number;
  fillSize?: number;
  compSize?: number;
  /** Attach the redirect program (default true). false: someone else steers packets to the XSKMAP. */
  attach?: boolean;
  /**
   * Engine mode: the whole frame pool is the engine's (assembly/pool.ts), the kernel receives into
   * frames the engine allocates for the fill ring, and received frames become engine frames with
   * no copy (ingest()). No frame is set aside here: transmit() sends the frames handlers forwarded,
   * themselves (send() is not available in this mode).
   */
  enginePool?: boolean;
  /** Engine mode: pool frames each queue keeps on its fill ring (default: half the queue's share, at most the fill ring). */
  fillFrames?: number;
}

export type AfXdpConfig = BackendConfig & AfXdpOptions;

interface Geometry {
  perQueue: number;
  rxFrames: number;
  txFrames: number;
  rxSize: number;
  txSize: number;
  fillSize: number;
  compSize: number;
  burst: number;
}

/** Upper bound of the kernel's offset of the descriptors in a ring mapping (producer, consumer, flags lines). */
const RING_HEADER = 1024;
const ringBytes = (n: number, desc: number) => alignPage(RING_HEADER + n * desc);

function geometry(c: AfXdpOptions & { burst?: number; frameCount: number; queues: number }): Geometry {
  const perQueue = Math.floor(c.frameCount / c.queues);
  const txFrames = c.enginePool ? 0 : (c.txFrames ?? Math.min(1024, perQueue >> 2));
  const rxFrames = perQueue - txFrames;
  const burst = c.burst ?? DEFAULT_BURST;
  if (!Number.isInteger(burst) || burst < 1 || burst > MAX_BURST) throw new BackendError('bad-config', `afxdp: burst is ${burst}; use 1 to ${MAX_BURST}`);
  if (rxFrames < burst)
    throw new BackendError('memory-too-small', `afxdp: ${perQueue} frames per queue leave ${rxFrames} for receiving, fewer than one burst (${burst}); create the layout with more frames (frameCount >= ${nextPow2((burst + txFrames) * c.queues * 2)})`);
  const g = {
    perQueue, rxFrames, txFrames, burst,
    rxSize: c.rxSize ?? nextPow2(rxFrames),
    // Engine mode transmits forwarded pool frames (xskEngineTx): room for a few bursts in flight.
    txSize: c.txSize ?? nextPow2(Math.max(c.enginePool ? Math.min(2048, perQueue) : txFrames, 8)),
    fillSize: c.fillSize ?? nextPow2(rxFrames),
    compSize: c.compSize ?? nextPow2(Math.max(c.enginePool ? Math.min(2048, perQueue) : txFrames, 8)),
  };
  for (const k of ['rxSize', 'txSize', 'fillSize', 'compSize'] as const) checkPow2('afxdp', k, g[k], 8, 1 << 20);
  if (g.fillSize < rxFrames)
    throw new BackendError('ring-size', `afxdp: fillSize ${g.fillSize} is smaller than the ${rxFrames} receive frames per queue; use fillSize ${nextPow2(rxFrames)} (a starved fill ring drops packets)`);
  return g;
}

/** Bytes a queue's kernel region needs (use as the layout's kernelBytesPerQueue). */
export function afxdpKernelBytes(c: AfXdpOptions & { burst?: number; frameCount?: number; queues?: number } = {}): number {
  const g = geometry({ ...c, frameCount: c.frameCount ?? 4096, queues: c.queues ?? 1 });
  return ringBytes(g.fillSize, 8) + ringBytes(g.compSize, 8) + ringBytes(g.rxSize, 16) + ringBytes(g.txSize, 16) + ioAreaBytes(g.burst, g.txFrames);
}

interface Queue extends QueueInfo {
  id: number;
  queueId: number;
  io: IoArea;
  zeroCopy: boolean;
  txNoBuffer: number;
}

export class AfXdpBackend implements Backend {
  readonly name = 'afxdp' as const;
  readonly mode: string;
  readonly queues: Queue[] = [];
  private readonly wasm: EngineExports;
  private readonly memory: WebAssembly.Memory;
  private readonly g: Geometry;
  private link?: { id: number; mapFd: number };
  private closed = false;
  private readonly u32: Uint32Array;
  private readonly coalesceUs?: number;
  private readonly clockOffset: bigint;
  /** Engine mode: pool frames each queue keeps on its fill ring. */
  readonly fillFrames: number;

  constructor(config: AfXdpConfig) {
    const native = kernelAddon();
    const iface = config.iface!;
    const layout = config.layout;
    const n = config.queues ?? layout.config.queues;
    const frameSize = layout.config.frameSize;
    if (frameSize !== 2048 && frameSize !== 4096)
      throw new BackendError('bad-config', `afxdp: the frame pool's frames are ${frameSize} bytes; AF_XDP needs 2048 or 4096 (create the layout with frameSize: 2048)`);
    this.g = geometry({ ...config, frameCount: layout.config.frameCount, queues: n });
    checkRegion('afxdp', layout, n, afxdpKernelBytes({ ...config, frameCount: layout.config.frameCount, queues: n }));
    this.memory = config.memory;
    this.u32 = new Uint32Array(config.memory.buffer);
    this.coalesceUs = config.coalesceUs;
    this.wasm = config.engine ?? instantiateEngine(compileEngine(), config.memory);
    // Frames are stamped when the poll loop picks them up, in CLOCK_REALTIME ns like TPACKET's.
    this.clockOffset = native.clockNs(0) - process.hrtime.bigint();
    const want = config.xdpMode ?? 'auto';
    let xdpMode: 'drv' | 'skb' = want === 'skb' ? 'skb' : 'drv';
    try {
      if (config.attach ?? true) {
        try {
          this.link = native.xdpAttach({ iface, netns: config.netns, mode: xdpMode, entries: Math.max(64, ...(config.queueIds ?? [0]).map((x) => x + 1)) });
        } catch (e) {
          if (want !== 'auto' || (e as { reason?: string }).reason === 'xdp-busy' || (e as { reason?: string }).reason === 'missing-privilege') throw e;
          xdpMode = 'skb';
          this.link = native.xdpAttach({ iface, netns: config.netns, mode: xdpMode, entries: 64 });
        }
      }
      const shift = Math.log2(frameSize);
      let sharedFd = -1;
      for (let q = 0; q < n; q++) {
        const queueId = config.queueIds?.[q] ?? q;
        let at = layout.kernel[q].offset;
        const place = (bytes: number) => {
          const o = at;
          at += bytes;
          return o;
        };
        const fillOffset = place(ringBytes(this.g.fillSize, 8));
        const compOffset = place(ringBytes(this.g.compSize, 8));
        const rxOffset = place(ringBytes(this.g.rxSize, 16));
        const txOffset = place(ringBytes(this.g.txSize, 16));
        const io = ioArea(at, this.g.burst);
        const r = native.xskOpen({
          memory: config.memory, iface, netns: config.netns, queueId,
          umem: { offset: layout.frames.offset, size: layout.frames.size, frameSize, headroom: 0 },
          sharedUmemFd: sharedFd,
          rxSize: this.g.rxSize, txSize: this.g.txSize, fillSize: this.g.fillSize, compSize: this.g.compSize,
          rxOffset, txOffset, fillOffset, compOffset,
          rxOffsetRoom: ringBytes(this.g.rxSize, 16), txOffsetRoom: ringBytes(this.g.txSize, 16),
          fillOffsetRoom: ringBytes(this.g.fillSize, 8), compOffsetRoom: ringBytes(this.g.compSize, 8),
          zeroCopy: config.zeroCopy ?? 'auto', needWakeup: config.needWakeup ?? true,
        });
        if (sharedFd < 0) sharedFd = r.fd;
        const ringLine = { rx: this.wasm.XSK_RX, fill: this.wasm.XSK_FILL, tx: this.wasm.XSK_TX, comp: this.wasm.XSK_COMP };
        for (const ring of ['rx', 'fill', 'tx', 'comp'] as const) {
          const o = r[ring] as RingOffsets;
          const size = { rx: this.g.rxSize, fill: this.g.fillSize, tx: this.g.txSize, comp: this.g.compSize }[ring];
          this.wasm.xskRing(io.state, ringLine[ring].value as number, o.producer, o.consumer, o.desc, o.flags, size);
        }
        const first = q * this.g.perQueue;
        // Engine mode: the fill ring is stocked from the engine's pool by ingest(), not from a fixed share.
        if (config.enginePool) this.wasm.xskInit(io.state, q, layout.frames.offset, shift, 0, 0, 0, io.records, io.free);
        else this.wasm.xskInit(io.state, q, layout.frames.offset, shift, first, this.g.rxFrames, this.g.txFrames, io.records, io.free);
        this.queues.push({
          index: q, fd: r.fd, state: io.state, rxAddrs: io.rxAddrs, txAddrs: io.txAddrs, txLens: io.txLens, txCapacity: frameSize,
          id: r.id, queueId, io, zeroCopy: r.zeroCopy, txNoBuffer: 0,
        });
        if (this.link) native.xskMapSet(this.link.mapFd, queueId, r.fd);
        if (!config.enginePool && this.wasm.xskRelease(io.state)) native.fdWake(r.fd);
      }
    } catch (e) {
      this.close();
      throw explain(e, iface, 'afxdp');
    }
    // At most the queue's share of the pool: the engine sizes its top-up list by it.
    this.fillFrames = Math.min(this.g.perQueue, this.g.fillSize, Math.max(this.g.burst, config.fillFrames ?? this.g.perQueue >> 1));
    const zc = this.queues.every((Q) => Q.zeroCopy);
    this.mode = ['afxdp', this.link ? xdpMode : 'no-program (tx, or steered by another program)', zc ? 'zero-copy' : 'copy', (config.needWakeup ?? true) ? 'need_wakeup' : '', `x${n}`, `fill ${this.g.fillSize} rx ${this.g.rxSize} tx ${this.g.txSize}`].filter(Boolean).join(' ');
  }

  receive(q: number, max = this.g.burst): number {
    const Q = this.queues[q];
    const n = this.wasm.xskRx(Q.state, Q.rxAddrs, Math.min(max, this.g.burst), process.hrtime.bigint() + this.clockOffset);
    return n;
  }

  rxMeta(q: number, i: number): number {
    // One view over the whole memory, made once: shared memory never moves or shrinks.
    return this.u32[(this.queues[q].rxAddrs >>> 2) + i];
  }

  /**
   * Engine mode, one WASM call per burst: up to `max` received frames of queue q become engine
   * frames in place (their metadata records; data points into the UMEM frame) on the engine's rx
   * ring q, and the fill ring is topped up from the pool through `cache`. `list` is scratch for
   * max(max, fillFrames) u32. Returns the frames received.
   */
  ingest(q: number, ctx: number, cache: number, list: number, max: number, nowNs: number): number {
    const Q = this.queues[q];
    const r = this.wasm.xskEngineRx(Q.state, ctx, q, cache, list, Math.min(max, this.g.burst), process.hrtime.bigint() + this.clockOffset, nowNs, this.fillFrames);
    if (r >>> 31) kernelAddon().fdWake(Q.fd);
    return r & 0x7fffffff;
  }

  /** Engine mode: tops queue q's fill ring up from the pool (at start, and when frames came back). */
  refill(q: number, ctx: number, cache: number, scratch: number): number {
    const Q = this.queues[q];
    const n = this.wasm.xskEngineFill(Q.state, ctx, cache, this.fillFrames, scratch);
    if (n) kernelAddon().fdWake(Q.fd);
    return n;
  }

  /** Engine mode: pool frames the kernel holds on queue q (on the fill ring, or being received into). */
  kernelFrames(q: number): number {
    return this.wasm.xskEngineKernelFrames(this.queues[q].state);
  }

  /**
   * Engine mode, zero-copy transmit of queue q: completed frames back to the pool through `cache`,
   * then the frames handlers forwarded (the engine's tx ring q, through its shaper) onto the TX
   * ring, with a sendto() when the kernel needs one. Returns the frames waiting or in flight.
   */
  transmit(q: number, ctx: number, cache: number, nowNs: number): number {
    const Q = this.queues[q];
    const r = this.wasm.xskEngineTx(Q.state, ctx, q, cache, nowNs);
    // Copy mode sends from inside sendto(), at most a small batch per call: kick while any is in flight.
    if (r >>> 31 || (!Q.zeroCopy && (r & 0x7fffffff) > 0)) kernelAddon().fdKick(Q.fd);
    return r & 0x7fffffff;
  }

  /** Engine mode: forwarded frames on queue q's TX ring not completed yet. */
  txInflight(q: number): number {
    return this.wasm.xskEngineTxInflight(this.queues[q].state);
  }

  /** Engine mode, at stop: detaches the program so nothing more arrives (the sockets stay open). */
  detach(): void {
    if (!this.link || this.closed) return;
    kernelAddon().kernelRelease(this.link.id);
    this.link = undefined;
  }

  /** Engine mode, after detach() and a last ingest: the fill ring's frames back to the pool. */
  reclaim(q: number, ctx: number, cache: number): number {
    return this.wasm.xskEngineReclaim(this.queues[q].state, ctx, cache);
  }

  release(q: number): void {
    const Q = this.queues[q];
    if (this.wasm.xskRelease(Q.state)) kernelAddon().fdWake(Q.fd);
  }

  wait(q: number, timeoutMs: number): boolean {
    const Q = this.queues[q];
    return adaptiveWait(() => this.wasm.xskRxReady(Q.state), Q.fd, timeoutMs, { coalesceUs: this.coalesceUs });
  }

  txReserve(q: number, n: number): number {
    return this.wasm.xskTxReserve(this.queues[q].state, this.queues[q].txAddrs, Math.min(n, this.g.burst));
  }

  txSubmit(q: number, k: number): number {
    const Q = this.queues[q];
    const wake = this.wasm.xskTxSubmit(Q.state, Q.txLens, k);
    // Copy mode sends from the sendto() call itself: kick whenever the kernel asks (always, in
    // copy mode) so the burst leaves now.
    if (wake || !Q.zeroCopy) kernelAddon().fdKick(Q.fd);
    return k;
  }

  send(q: number, frames: readonly Uint8Array[]): number {
    const Q = this.queues[q];
    const r = sendFrames(
      { memory: this.memory, burst: this.g.burst, reserve: (n) => this.txReserve(q, n), submit: (k) => this.txSubmit(q, k), addrs: Q.txAddrs, lens: Q.txLens, capacity: Q.txCapacity,
        tooLarge: (n) => `afxdp: frame of ${n} bytes exceeds the ${Q.txCapacity}-byte UMEM frame` },
      frames,
    );
    Q.txNoBuffer += r.noBuffer;
    return r.sent;
  }

  flush(q: number, timeoutMs = 1000): boolean {
    const Q = this.queues[q];
    return flushTx(() => this.wasm.xskTxPending(Q.state), Q.fd, timeoutMs);
  }

  stats(): BackendStats {
    const native = kernelAddon();
    const per = this.queues.map((Q) => {
      const k = this.closed ? undefined : native.xskStats(Q.fd);
      const w = this.wasm;
      return {
        ...walkerCounters(this.memory, Q.state, { rx: w.XS_RX_PKTS, rxBytes: w.XS_RX_BYTES, tx: w.XS_TX_PKTS, txBytes: w.XS_TX_BYTES }),
        drops: {
          // rx_dropped counts every drop, fill-ring starvation included: show the reasons apart.
          ringFull: k?.rxRingFull ?? 0,
          fillRingEmpty: k?.fillRingEmpty ?? 0,
          invalid: (k?.rxInvalid ?? 0) + (k?.txInvalid ?? 0),
          txNoBuffer: Q.txNoBuffer,
        },
      };
    });
    return sumQueues(per);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const native = kernelAddon();
    // The program first, so nothing is redirected to a socket being closed; then the sockets,
    // those sharing the UMEM before the one that registered it.
    if (this.link) native.kernelRelease(this.link.id);
    for (let i = this.queues.length - 1; i >= 0; i--) native.kernelRelease(this.queues[i].id);
  }
}

export function openAfXdp(config: AfXdpConfig): AfXdpBackend {
  checkInterface('afxdp', config.iface, config.netns, [
    ['CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_BPF'],
    ['CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
  ]);
  return new AfXdpBackend(config);
}
