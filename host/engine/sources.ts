// The engine's live sources: a live backend (host/backends/) opened on the engine's memory and
// wrapped as a LiveSource (host/backends/types.ts), and the one loop that drives any of them on the
// main thread (pollSources). Per round and queue it makes one WASM call to receive a burst and one
// to send what handlers forwarded; nothing here runs per packet.
import { EH } from '../abi.js';
import { openBackend, type Backend, type LiveSource } from '../backends/index.js';
import type { AfXdpBackend } from '../backends/afxdp.js';
import type { AfPacketBackend } from '../backends/afpacket.js';
import { dpdkLiveSource, type DpdkEngineBackend } from '../backends/dpdk-engine.js';
import { encodeBpf } from '../filter/index.js';
import type { EngineRuntime } from './setup.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

/**
 * Opens the configured live backend on the engine's memory (its pool, its kernel regions) as a
 * LiveSource. `clockBaseNs`: the engine clock's zero on CLOCK_MONOTONIC (Node's hrtime), for
 * sources whose own threads stamp rx times (DPDK's poll threads).
 */
export function openLiveSource(rt: EngineRuntime, nowNs: () => number, warn: (message: string) => void = () => undefined): LiveSource {
  const c = rt.config;
  if (c.backend === 'dpdk') {
    const clockBaseNs = Number(process.hrtime.bigint()) - nowNs();
    const { dpdk } = c;
    const config = { ...dpdk!, frames: undefined, stride: undefined };
    const source = dpdkLiveSource({ memory: rt.memory, layout: rt.layout, config, engine: rt.wasm, ctx: rt.ctx, cache: rt.hostCache, queues: c.queues, burst: c.burst, rxTime: { offset: rt.map.rxTime, clockBaseNs } });
    if (source.backend.port.warning) warn(source.backend.port.warning);
    return source;
  }
  // On AF_PACKET the kernel runs the filter, attached to each socket before it binds: what it
  // rejects never reaches the ring (setup.ts then leaves it out of the workers).
  const filter = c.backend === 'afpacket' && rt.filter ? { filter: encodeBpf(rt.filter.insns) } : {};
  const b = openBackend(c.backend, {
    ...c.backendOptions, iface: c.iface, netns: c.netns, memory: rt.memory, layout: rt.layout, queues: c.queues, burst: c.burst,
    enginePool: true, engine: rt.wasm, ...filter,
  } as Parameters<typeof openBackend>[1]);
  try {
    if (c.backend === 'afxdp') return xdpSource(b as AfXdpBackend, rt, nowNs);
    if ((b as AfPacketBackend).zeroCopy) return tpacketSource(b as AfPacketBackend, rt, nowNs);
    return copySource(b, rt, nowNs);
  } catch (e) {
    b.close();
    throw e;
  }
}

/** The calls AF_XDP and zero-copy AF_PACKET share: their walkers' engine receive and transmit, one WASM call each. */
function engineCalls(b: AfXdpBackend | AfPacketBackend, rt: EngineRuntime, nowNs: () => number): Pick<LiveSource, 'backend' | 'ingest' | 'transmit' | 'inflight'> {
  const { ctx, hostCache: cache, sourceList: list } = rt;
  const burst = rt.config.burst;
  return {
    backend: b,
    ingest: (q) => b.ingest(q, ctx, cache, list, burst, nowNs()),
    transmit: (q) => b.transmit(q, ctx, cache, nowNs()),
    inflight: (q) => b.txInflight(q),
  };
}

/**
 * AF_XDP, zero-copy: per queue and burst, one WASM call turns the RX descriptors into pool frames
 * on the engine's rx ring and tops the fill ring up from the pool. A frame a handler keeps stays
 * out of the fill ring until its last holder releases it.
 */
function xdpSource(b: AfXdpBackend, rt: EngineRuntime, nowNs: () => number): LiveSource {
  const { ctx, hostCache: cache, sourceList: list } = rt;
  const queues = rt.config.queues;
  // The kernel gets its first frames from the pool; from here on, ingest tops it up.
  for (let q = 0; q < queues; q++) b.refill(q, ctx, cache, list);
  const calls = engineCalls(b, rt, nowNs);
  return {
    ...calls,
    async idle(sent) {
      // Idle (ingest also topped the fill rings up with frames released since); frames to send: no sleep.
      if (sent === 0) b.wait(0, 1);
      await nextTurn();
    },
    finish(warn) {
      // Nothing more arrives once the program is gone: take what is on the RX rings, then the
      // fill rings' frames come back to the pool.
      b.detach();
      for (let q = 0; q < queues; q++) while (calls.ingest(q) > 0);
      let stranded = 0;
      for (let q = 0; q < queues; q++) {
        b.reclaim(q, ctx, cache);
        stranded += b.kernelFrames(q);
      }
      if (stranded) warn(`afxdp: the driver kept ${stranded} pool frames at stop (a zero-copy driver does not hand back frames it had taken); they stay out of the pool`);
    },
  };
}

/**
 * AF_PACKET, zero-copy (TPACKET_V3): per queue and burst, one WASM call turns packets into pool
 * frames that point into the kernel's blocks, on the engine's rx ring. A block goes back to the
 * kernel when the last frame describing one of its packets is released (by any thread), not here.
 * At stop, what the blocks still hold is taken in, then the walker lets go. Forwarded frames are
 * copied into the TX ring, then released.
 */
function tpacketSource(b: AfPacketBackend, rt: EngineRuntime, nowNs: () => number): LiveSource {
  const { ctx, u32 } = rt;
  const queues = rt.config.queues;
  // Frames that describe packets in the TPACKET blocks: frameRelease finds their block by these.
  const x = b.extRegions(rt.layout);
  const h = rt.map.offset >> 2;
  u32[h + EH.EXT_BASE] = x.base;
  u32[h + EH.EXT_STRIDE] = x.stride;
  u32[h + EH.EXT_SHIFT] = x.shift;
  u32[h + EH.EXT_HOLDERS] = x.holders;
  // Last, and atomically: a worker testing a frame against the range sees the rest set.
  Atomics.store(u32, h + EH.EXT_BYTES, x.bytes);
  const calls = engineCalls(b, rt, nowNs);
  return {
    ...calls,
    async idle(sent) {
      // Packets ready that the walker did not take: the pool is empty; wait 1 ms for frames to come back.
      if (b.ready(0) > 0) await new Promise((r) => setTimeout(r, 1));
      else {
        // Frames to send: no sleep.
        if (sent === 0) b.wait(0, 1);
        await nextTurn();
      }
    },
    finish() {
      for (let q = 0; q < queues; q++) {
        while (calls.ingest(q) > 0);
        b.finish(q, ctx);
      }
    },
  };
}

/**
 * A live backend that copies: each queue's burst is copied into pool frames in one WASM call
 * (backendIngest) and released to the kernel at once, so the kernel ring never waits on a handler.
 * AF_PACKET sends forwarded frames through its TX ring.
 */
function copySource(b: Backend, rt: EngineRuntime, nowNs: () => number): LiveSource {
  const { ctx, hostCache: cache, sourceList: list, wasm } = rt;
  const { burst } = rt.config;
  const pkt = b.name === 'afpacket' ? (b as AfPacketBackend) : undefined;
  return {
    backend: b,
    ingest(q) {
      const n = b.receive(q, burst);
      if (n === 0) return 0;
      wasm.backendIngest(ctx, q, cache, b.queues[q].rxAddrs, n, list, nowNs());
      b.release(q);
      return n;
    },
    transmit: (q) => (pkt ? pkt.transmit(q, ctx, cache, nowNs()) : 0),
    inflight: (q) => (pkt ? pkt.txInflight(q) : 0),
    async idle(sent) {
      // Frames to send: no sleep.
      if (sent === 0) b.wait(0, 1);
      await nextTurn();
    },
    finish() {},
  };
}

/** Runs a live source until stop(): the engine's receive and transmit on the main thread. */
export class SourcePoller {
  private stopping = false;
  /** Kernel drops per queue already reported to the engine. */
  private readonly kernel: number[];

  constructor(
    private readonly rt: EngineRuntime,
    private readonly warn: (message: string) => void,
  ) {
    this.kernel = new Array(rt.config.queues).fill(0);
  }

  /**
   * The loop every live source runs through: each round receives a burst and sends what handlers
   * forwarded on every queue, reads the kernel's drop counters every 100 ms, waits in `idle(sent)`
   * after a round that received nothing and yields to the event loop every 8 busy rounds. After
   * stop(), the source finishes (takes in what the kernel still holds).
   */
  async pollSources(source: LiveSource): Promise<void> {
    const queues = this.rt.config.queues;
    let round = 0;
    let lastDrops = 0;
    while (!this.stopping) {
      let got = 0;
      let sent = 0;
      for (let q = 0; q < queues; q++) {
        got += source.ingest(q);
        sent += source.transmit(q);
      }
      const now = performance.now();
      if (now - lastDrops >= 100) {
        lastDrops = now;
        this.countKernelDrops(source.backend);
      }
      if (got === 0) await source.idle(sent);
      else if (++round % 8 === 0) await nextTurn();
    }
    this.countKernelDrops(source.backend);
    source.finish(this.warn);
    this.countKernelDrops(source.backend);
  }

  /** Ends pollSources after its current round. */
  stop(): void {
    this.stopping = true;
  }

  private countKernelDrops(b: Backend): void {
    const st = b.stats();
    for (let q = 0; q < this.rt.config.queues; q++) {
      const d = st.queues?.[q]?.drops ?? (q === 0 ? st.drops : {});
      const total = (d.ringFull ?? 0) + (d.fillRingEmpty ?? 0);
      if (total > this.kernel[q]) {
        this.rt.wasm.kernelDrops(this.rt.ctx, q, total - this.kernel[q]);
        this.kernel[q] = total;
      }
    }
  }
}

/** Sends what handlers forwarded on every queue once; returns the frames still waiting or in flight. */
export function transmitAll(source: LiveSource, queues: number): number {
  let left = 0;
  for (let q = 0; q < queues; q++) left += source.transmit(q);
  return left;
}

/**
 * At stop, after the workers finished: what they forwarded goes out (as the shaper allows) and the
 * kernel finishes the TX rings (AF_XDP: every frame comes back through the completion rings), for
 * 1 s at most. Frames the shaper still holds then are counted tx_dropped with the leftovers.
 */
export async function flushTransmit(source: LiveSource, queues: number, warn: (message: string) => void): Promise<void> {
  const end = Date.now() + 1000;
  while (transmitAll(source, queues) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
  let inflight = 0;
  for (let q = 0; q < queues; q++) inflight += source.inflight(q);
  const name = source.backend.name;
  if (inflight && name === 'afxdp') warn(`afxdp: ${inflight} forwarded frame(s) not completed by the kernel at stop; they stay out of the pool`);
  if (inflight && name === 'afpacket') warn(`afpacket: ${inflight} forwarded frame(s) still on the TX ring at stop, not sent by the kernel within 1 s; the socket closes with them`);
}

/**
 * Closes the live backend once the workers drained: with zero-copy AF_PACKET, frames point into the
 * kernel's blocks until released, so the ring stays mapped until every block came back.
 */
export function closeLiveSource(source: LiveSource, queues: number, warn: (message: string) => void): void {
  const b = source.backend;
  if (b.name === 'afpacket' && (b as AfPacketBackend).zeroCopy) {
    let held = 0;
    for (let q = 0; q < queues; q++) held += (b as AfPacketBackend).heldBlocks(q);
    if (held) warn(`afpacket: ${held} ring block(s) still held at stop (frames from records() not released yet); their packets read as zeros from now on`);
  }
  b.close();
  if (b.name === 'dpdk') {
    const r = (b as DpdkEngineBackend).closeReport;
    if (r?.notReturned) warn(`dpdk: ${r.notReturned} received frame(s) never came back to the port's return rings (held past stop)`);
  }
}
