/**
 * The one interface every packet backend implements: afxdp and afpacket (kernel rings mapped into
 * the shared memory), io_uring, plain sockets and pcap files. A backend moves frames between the
 * kernel (or a file) and the engine's shared WebAssembly.Memory; it never parses them.
 *
 * Life cycle:
 *
 * ```
 *   const b = openBackend('afpacket', { iface: 'eth0', memory, layout, queues: 2 });
 *   for (;;) {
 *     const n = b.receive(q, 64);            // up to 64 frames of queue q, or 0
 *     for (let i = 0; i < n; i++) use(b.rxMeta(q, i));   // address of a 64-byte meta record
 *     b.release(q);                          // frames of that burst go back to the kernel
 *   }
 *   b.close();                               // every mapping restored, fds closed, XDP detached
 * ```
 *
 * Receive is burst based: `receive` returns a count and writes, at `queue.rxAddrs`, one u32 per
 * frame: the address of its frame metadata record (assembly/meta.ts). The record's `data` field is
 * the absolute address of the first packet byte in the shared memory, where the kernel put it
 * (an AF_XDP UMEM frame, a TPACKET block, an io_uring buffer): nothing is copied in user space.
 * The frames stay valid and untouched by the kernel until `release(queue)`; one burst is held at a
 * time per queue (receive after receive without release releases the earlier burst first).
 *
 * Transmit is zero-copy from the memory: `txReserve(queue, n)` hands out up to n writable buffers
 * (addresses at `queue.txAddrs`, each `txCapacity` bytes: a UMEM frame or a TX ring slot); the
 * caller writes the frames in place, puts their lengths at `queue.txLens` and calls
 * `txSubmit(queue, k)`. `send` is the convenience that copies JS buffers in (one copy, for users
 * who have their packet in a Uint8Array already).
 *
 * Every address here is an offset in the shared memory (a WASM pointer), so WASM code in any
 * worker can read the records and buffers directly. `queue.state` is the address of the queue's
 * state block that the WASM ring walkers (assembly/xsk.ts, assembly/tpacket.ts) run on; a worker
 * that owns a queue may call the walkers itself instead of going through the host object.
 *
 * Nothing is lost silently: every frame the kernel or the backend did not deliver is counted in
 * `stats().drops` under its reason.
 */
import type { EngineExports } from '../abi.js';
import type { Layout } from '../layout.js';

export type BackendName = 'afxdp' | 'afpacket' | 'io_uring' | 'socket' | 'pcap';

/** Settings common to all backends; each backend adds its own (see its file). */
export interface BackendConfig {
  /** The interface to bind (kernel backends), e.g. "eth0". */
  iface?: string;
  /**
   * A network namespace (a name under /run/netns, as `ip netns` makes) in which to open the
   * sockets and find the interface. The calling process stays where it is; only the sockets live
   * in the namespace. Used by tests and by services that own a namespace.
   */
  netns?: string;
  /** The engine's shared memory and its map; kernel rings go into `layout.kernel[q]`. */
  memory: WebAssembly.Memory;
  layout: Layout;
  /**
   * The calling thread's engine instance (its exports), whose ring walkers the backend calls and
   * whose parsers can then run on the same records; default: a new instance over `memory`.
   */
  engine?: EngineExports;
  /** How many queues to open (default: layout.config.queues). */
  queues?: number;
  /** The largest burst `receive`/`txReserve` handle at once (default 64, at most 256). */
  burst?: number;
  /**
   * wait(): when only a few frames wait, sleep up to this many µs once so bursts are fuller
   * (interrupt moderation; default 50, 0 = off). Busy-polling receivers never wait.
   */
  coalesceUs?: number;
}

/** One queue of an open backend: a hardware queue, a fanout member, a socket. */
export interface QueueInfo {
  readonly index: number;
  /** File descriptor to poll (readable = frames waiting), or -1 when there is none. */
  readonly fd: number;
  /** Address of the queue's state block (for the WASM walkers). */
  readonly state: number;
  /** Address of `burst` u32: meta record addresses of the last received burst. */
  readonly rxAddrs: number;
  /** Address of `burst` u32: buffer addresses of the last TX reservation. */
  readonly txAddrs: number;
  /** Address of `burst` u32: lengths the caller writes before txSubmit. */
  readonly txLens: number;
  /** Bytes writable at each TX buffer. */
  readonly txCapacity: number;
}

/** Counters since open. Drops are by reason; a reason a backend cannot see is absent. */
export interface BackendStats {
  rx: number;
  tx: number;
  rxBytes: number;
  txBytes: number;
  drops: {
    /** The kernel dropped: the ring (TPACKET blocks, AF_XDP RX ring) was full (PACKET_STATISTICS tp_drops, XDP_STATISTICS rx_dropped + rx_ring_full). */
    ringFull?: number;
    /** AF_XDP: no frame on the fill ring when a packet came (XDP_STATISTICS rx_fill_ring_empty_descs). */
    fillRingEmpty?: number;
    /** AF_XDP: descriptors the kernel rejected (XDP_STATISTICS rx_invalid_descs + tx_invalid_descs). */
    invalid?: number;
    /** TX: a send found no free buffer (all in flight) and was refused. */
    txNoBuffer?: number;
    /** TPACKET_V3: blocks the kernel had to freeze because user space was behind. */
    queueFreezes?: number;
    /** Frames longer than a buffer, cut or dropped. */
    truncated?: number;
  };
  /** Per queue, the same counters. */
  queues?: Omit<BackendStats, 'queues'>[];
}

export interface Backend {
  readonly name: BackendName;
  /** What is actually in force, e.g. "afxdp skb copy need_wakeup", "afpacket tpacket_v3 fanout hash". */
  readonly mode: string;
  readonly queues: readonly QueueInfo[];
  /** Receives up to `max` frames of queue `q`; returns the count (0 when none is waiting). */
  receive(q: number, max?: number): number;
  /** Address of the meta record of frame i of the last burst of queue q. */
  rxMeta(q: number, i: number): number;
  /** Returns the frames of the last burst of queue q to the kernel. */
  release(q: number): void;
  /**
   * Waits until queue q has frames or `timeoutMs` passes (adaptive: spins, then sleeps in poll()).
   * Returns true when frames are waiting.
   */
  wait(q: number, timeoutMs: number): boolean;
  /** Reserves up to n TX buffers on queue q; returns how many (addresses at txAddrs). */
  txReserve(q: number, n: number): number;
  /** Sends the first k reserved buffers with the lengths at txLens; returns k. */
  txSubmit(q: number, k: number): number;
  /** Copies and sends frames (each a whole Ethernet frame); returns how many were queued. */
  send(q: number, frames: readonly Uint8Array[]): number;
  /** Waits until every submitted TX frame left (completion reaped); true when all did. */
  flush(q: number, timeoutMs?: number): boolean;
  stats(): BackendStats;
  /** Restores every mapping, closes every fd, detaches programs. Idempotent. */
  close(): void;
}

/**
 * A live backend as the engine's source: the engine's one source loop (host/engine/sources.ts
 * pollSources) drives every live backend through these four calls, on the main thread, so a new
 * kernel path (a DPDK port, an ef_vi VI) is one more implementation, not one more loop. Each call
 * crosses into WASM once per queue and burst, never per packet.
 */
export interface LiveSource {
  /** The backend underneath: its stats().drops are what the kernel dropped, reported to the engine. */
  readonly backend: Backend;
  /**
   * Takes up to a burst of queue q into engine frames on the engine's rx ring q (zero-copy or
   * copied, as the backend can); returns the frames received.
   */
  ingest(q: number): number;
  /** Sends what handlers forwarded on queue q (the engine's tx ring q); returns the frames still waiting or in flight. */
  transmit(q: number): number;
  /** Forwarded frames of queue q the kernel has not completed yet. */
  inflight(q: number): number;
  /** After a round that received nothing: waits for traffic (not when `sent` frames are still going out). */
  idle(sent: number): Promise<void>;
  /** At stop, after the last round: takes in what the kernel still holds and gives back what it lent (warnings name what stays out). */
  finish(warn: (message: string) => void): void;
}

/** Thrown for a bad configuration: `cause` says what, the message says how to fix it. */
export class BackendError extends Error {
  constructor(
    readonly reason: BackendErrorReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackendError';
  }
}

export type BackendErrorReason =
  | 'no-such-interface'
  | 'interface-down'
  | 'missing-privilege'
  | 'xdp-busy'
  | 'ring-size'
  | 'memory-too-small'
  | 'bad-config'
  | 'unsupported';
