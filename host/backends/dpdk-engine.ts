// The DPDK port as the engine's live source (host/engine/sources.ts opens it for `backend: 'dpdk'`);
// the port itself, EAL and the addon are in dpdk.ts.
import type { Layout } from '../layout.js';
import type { EngineExports } from '../abi.js';
import { META, NEXT_NONE } from '../meta.js';
import { DpdkError, DpdkSource, dpdkKernelBytes, type DpdkCloseReport, type DpdkConfig } from './dpdk.js';
import { BackendError, type Backend, type BackendStats, type LiveSource } from './types.js';

/** What the engine gives its DPDK source (host/engine/sources.ts). */
export interface DpdkEngineOptions {
  memory: WebAssembly.Memory;
  /** The engine's map: rings rx<q> and tx<q>, a DPDK region, dpdkKernelBytes() of kernel region per queue. */
  layout: Layout;
  config: DpdkConfig;
  /** The calling thread's engine instance, the engine header (`ctx`) and the thread's pool cache. */
  engine: EngineExports;
  ctx: number;
  cache: number;
  queues: number;
  /** Frames per transmit burst (the engine's burst). */
  burst: number;
  rxTime: { offset: number; clockBaseNs: number };
}

/** The DPDK port as the engine's live backend: its counters, and close() with what it found. */
export interface DpdkEngineBackend extends Backend {
  readonly port: DpdkSource;
  /** Set by close(): received frames never given back, mbufs out of the mempool (DpdkCloseReport). */
  readonly closeReport?: DpdkCloseReport;
}

/**
 * The DPDK port as an engine source (LiveSource). The poll threads put received frames on the rx
 * rings themselves and stamp their rx time, so `ingest` only folds their counters into the queues'
 * stats blocks (received, ring_full; the kernel's drops come through `backend.stats()`), and returns
 * 0: there is nothing for the source loop to do per received burst. `transmit(q)` takes the frames
 * handlers forwarded off tx ring q (one WASM call), sends them from where they lie in the memory
 * (one N-API call per burst), keeps what the PMD refused for the next round, and releases the
 * frames the PMD is done with through WASM (one call per 256). `finish` stops the poll threads so
 * that the workers drain rings nothing feeds any more; `backend.close()` releases what was never
 * sent (tx_dropped), gives the return rings back to the mempool, closes the port and reports the
 * mbufs still out (`closeReport`).
 *
 * Frames are tagged with their engine index, so a frame forwarded from any queue comes back to the
 * pool (or, a DPDK frame, to its return ring) by index. A forwarded chain (a frame over one
 * segment) is not sent: counted tx_dropped.
 */
export function dpdkLiveSource(o: DpdkEngineOptions): LiveSource & { readonly backend: DpdkEngineBackend } {
  const { memory, layout, engine: ex, ctx, cache, queues } = o;
  const burst = Math.min(o.burst, 256);
  if (layout.kernel.length < queues || layout.kernel[0].size < dpdkKernelBytes())
    throw new DpdkError(`dpdk: the engine layout needs ${dpdkKernelBytes()} bytes of kernel region per queue (kernelBytesFor('dpdk'))`);
  const port = new DpdkSource({ memory, layout, config: { ...o.config, queues, burst: o.config.burst ?? burst }, rxTime: o.rxTime });
  const u32 = new Uint32Array(memory.buffer);
  const metaWord = layout.meta.offset >> 2;
  const txRing = Array.from({ length: queues }, (_, q) => layout.ring(`tx${q}`).offset);
  // Per queue: frames taken off the tx ring and not yet accepted by the PMD, at kernel[q] (256 u32).
  const stage = Array.from({ length: queues }, (_, q) => layout.kernel[q].offset);
  const pending = new Uint32Array(queues);
  // Frames to release, at kernel[0] + 1024 (256 u32), for frameReleaseList.
  const releaseAt = layout.kernel[0].offset + 1024;
  const offs = new Uint32Array(256), lens = new Uint32Array(256), tags = new Uint32Array(256), done = new Uint32Array(256);
  const now = new Float64Array(3 * queues), seen = new Float64Array(3 * queues);
  let inflight = 0;

  const release = (list: Uint32Array, n: number) => {
    for (let i = 0; i < n; i += 256) {
      const k = Math.min(256, n - i);
      for (let j = 0; j < k; j++) u32[(releaseAt >> 2) + j] = list[i + j];
      ex.frameReleaseList(ctx, cache, releaseAt, k);
    }
  };
  const reap = () => {
    for (;;) {
      const k = port.done(done);
      if (k === 0) return;
      inflight -= k;
      release(done, k);
    }
  };
  const fold = () => {
    port.counters(now);
    for (let q = 0; q < queues; q++) {
      const i = 3 * q;
      if (now[i] === seen[i]) continue;
      ex.sourceCount(ctx, q, now[i] - seen[i], now[i + 1] - seen[i + 1], now[i + 2] - seen[i + 2], 0, 0, 0);
      seen[i] = now[i];
      seen[i + 1] = now[i + 1];
      seen[i + 2] = now[i + 2];
    }
  };
  /** Frames staged on queue q: the burst's offsets, lengths and tags; drops (and compacts away) chains. */
  const prepare = (q: number, n: number): { n: number; chains: number } => {
    const at = stage[q] >> 2;
    let k = 0, chains = 0;
    for (let i = 0; i < n; i++) {
      const f = u32[at + i];
      const m = metaWord + f * (META.BYTES >> 2);
      if (u32[m + (META.NEXT >> 2)] !== NEXT_NONE) {
        chains++;
        done[chains - 1] = f;
        continue;
      }
      u32[at + k] = f;
      tags[k] = f;
      offs[k] = u32[m + (META.DATA >> 2)];
      lens[k] = u32[m + (META.CAPLEN >> 2)];
      k++;
    }
    if (chains) release(done, chains);
    return { n: k, chains };
  };

  const stats = (): BackendStats => {
    const s = port.stats();
    return { rx: s.packets, rxBytes: s.bytes, tx: s.txPackets, txBytes: 0, drops: { ringFull: s.kernelDrops, queueFreezes: s.kernelFreezes, invalid: s.kernelInvalid } };
  };
  const unsupported = (): never => {
    throw new BackendError('unsupported', "dpdk: the engine's workers take this port's frames off the rx rings; forward() sends through it");
  };
  let closeReport: DpdkCloseReport | undefined;
  const backend: DpdkEngineBackend = {
    name: 'dpdk',
    mode: port.mode,
    port,
    get closeReport() {
      return closeReport;
    },
    queues: Array.from({ length: queues }, (_, q) => ({ index: q, fd: -1, state: stage[q], rxAddrs: stage[q], txAddrs: stage[q], txLens: stage[q], txCapacity: 0 })),
    receive: unsupported,
    rxMeta: unsupported,
    release: unsupported,
    wait: () => false,
    txReserve: unsupported,
    txSubmit: unsupported,
    send: unsupported,
    flush: () => inflight === 0,
    stats,
    close() {
      if (closeReport) return;
      // Never sent: back to the pool (a DPDK frame to its return ring, drained by the close).
      for (let q = 0; q < queues; q++) {
        const n = pending[q];
        if (!n) continue;
        for (let i = 0; i < n; i++) tags[i] = u32[(stage[q] >> 2) + i];
        release(tags, n);
        ex.sourceCount(ctx, q, 0, 0, 0, 0, 0, n);
        pending[q] = 0;
      }
      reap();
      closeReport = port.finish((late) => {
        inflight -= late.length;
        release(late, late.length);
      }) ?? { inUse: 0, returned: 0, notReturned: 0 };
    },
  };
  return {
    backend,
    ingest(q) {
      if (q === 0) fold();
      return 0;
    },
    transmit(q) {
      reap();
      let n = pending[q];
      for (;;) {
        if (n < burst) n += ex.ringDequeueBurst32(txRing[q], stage[q] + 4 * n, burst - n);
        if (n === 0) break;
        const p = prepare(q, n);
        if (p.chains) ex.sourceCount(ctx, q, 0, 0, 0, 0, 0, p.chains);
        n = p.n;
        if (n === 0) continue;
        const k = port.transmit(q, offs, lens, tags, n);
        let bytes = 0;
        for (let i = 0; i < k; i++) bytes += u32[metaWord + tags[i] * (META.BYTES >> 2) + (META.WIRELEN >> 2)];
        if (k) ex.sourceCount(ctx, q, 0, 0, 0, k, bytes, 0);
        inflight += k;
        if (k < n) {
          // The PMD's queue is full: the rest go first next round.
          u32.copyWithin(stage[q] >> 2, (stage[q] >> 2) + k, (stage[q] >> 2) + n);
          n -= k;
          break;
        }
        n = 0;
      }
      pending[q] = n;
      return n + (q === 0 ? inflight : 0);
    },
    inflight: (q) => (q === 0 ? inflight : 0),
    async idle(sent) {
      // The poll threads receive on their own: the loop only counts and sends, so it sleeps 1 ms
      // unless frames are waiting to go out.
      await new Promise((r) => (sent === 0 ? setTimeout(r, 1) : setImmediate(r)));
    },
    finish() {
      port.stopReceive();
      fold();
    },
  };
}
