/**
 * The `io_uring` backend: UDP (unicast; multicast with a group join on a chosen interface) and TCP
 * receive for users without raw-socket privileges, with one kernel copy and no user-space copy.
 * native/iouring.cc keeps a multishot receive armed whose buffers are the pool frames, handed to
 * the kernel through a provided-buffer ring that lives in this queue's kernel region:
 *
 * ```
 *   layout.kernel[0]
 *   +0      rxAddrs / txAddrs / txLens / state   (payloadQueue, socket.ts)
 *   +4096   io_uring_buf ring: entries × 16 B    registered with IORING_REGISTER_PBUF_RING
 *   frames  buffer i = pool frame i (bid = frame index), frameSize bytes each
 * ```
 *
 * `receive` walks the completion queue a batch at a time (the ring runs with DEFER_TASKRUN, so the
 * kernel posts completions only when we ask) and fills the burst's metadata records; `release`
 * returns the burst's frames to the buffer ring. Frames hold the L4 payload (LINKTYPE_PAYLOAD),
 * stamped with CLOCK_REALTIME at the walk. Needs Linux 6.0+ (multishot receive with provided
 * buffer rings); `wirewasm info` shows what the kernel offers.
 */
import { loadNative, type NativeAddon } from '../native.js';
import { checkPayloadConfig, PAYLOAD_MAX_BURST, payloadQueue, type PayloadBackend, type PayloadBackendConfig } from './socket.js';
import { BackendError, type BackendStats, type QueueInfo } from './types.js';

interface IoUringAddon extends NativeAddon {
  iouringOpen(o: object): { id: number; fd: number };
  iouringReceive(id: number, max: number, rxAddrs: number): number;
  iouringRelease(id: number): void;
  iouringWait(id: number, timeoutMs: number): boolean;
  iouringSend(id: number, bytes: Uint8Array): number;
  iouringStats(id: number): { rx: number; rxBytes: number; noBuffer: number; arms: number; ended: boolean; armed: boolean; socketDrops: number; error?: string };
  iouringClose(id: number): void;
}

const RING_AT = 4096;
const MAX_ENTRIES = 32768;

/** Bytes of a queue's kernel region: the burst arrays and a buffer ring for up to frameCount frames. */
export function ioUringKernelBytes(o: { frameCount?: number } = {}): number {
  const entries = Math.min(o.frameCount ?? 4096, MAX_ENTRIES);
  return RING_AT + Math.ceil((entries * 16) / 4096) * 4096;
}

export class IoUringBackend implements PayloadBackend {
  readonly name = 'io_uring' as const;
  readonly mode: string;
  readonly queues: readonly QueueInfo[];
  readonly ready: Promise<void>;
  private readonly native: IoUringAddon;
  private readonly id: number;
  private readonly burst: number;
  private closed = false;
  private view: DataView;

  constructor(private readonly c: PayloadBackendConfig) {
    checkPayloadConfig('io_uring', c);
    this.burst = c.burst ?? 64;
    const entries = Math.min(c.layout.config.frameCount, MAX_ENTRIES);
    const qa = payloadQueue(c.layout, 0, 'io_uring', ioUringKernelBytes({ frameCount: c.layout.config.frameCount }));
    if (entries < 2 * this.burst) throw new BackendError('bad-config', `io_uring: ${entries} frames cannot hold two bursts of ${this.burst}; give the layout at least ${2 * this.burst} frames`);
    this.native = loadNative() as IoUringAddon;
    try {
      const r = this.native.iouringOpen({
        memory: c.memory, transport: c.transport, host: c.host ?? (c.transport === 'udp-multicast' ? '0.0.0.0' : '0.0.0.0'), port: c.port, group: c.group,
        iface: c.iface, netns: c.netns, ringOffset: qa.region + RING_AT, entries, framesOffset: c.layout.frames.offset, frameSize: c.layout.config.frameSize,
        metaOffset: c.layout.meta.offset, queue: 0,
      });
      this.id = r.id;
      this.queues = [{ index: 0, fd: r.fd, state: qa.state, rxAddrs: qa.rxAddrs, txAddrs: qa.txAddrs, txLens: qa.txLens, txCapacity: 0 }];
    } catch (e) {
      const err = e as Error & { code?: string };
      const hint =
        err.code === 'ENOSYS' || err.code === 'EPERM' ? ' (io_uring disabled? check /proc/sys/kernel/io_uring_disabled, or use --backend socket)'
        : err.code === 'EINVAL' ? ' (this kernel may lack multishot receive with provided buffer rings: Linux 6.0+; use --backend socket)'
        : err.code === 'ECONNREFUSED' ? ' (is the server running? start `wirewasm feed-sim --transport tcp` first)'
        : err.code === 'EADDRINUSE' ? ' (another socket holds the port)'
        : '';
      throw new BackendError(err.code === 'EPERM' ? 'missing-privilege' : 'bad-config', `${err.message}${hint}`, { cause: e });
    }
    this.view = new DataView(c.memory.buffer);
    this.mode = `io_uring ${c.transport} multishot recv, ${entries} provided buffers in the frame pool`;
    this.ready = Promise.resolve();
  }

  get ended(): boolean {
    return this.native.iouringStats(this.id).ended;
  }

  receive(q: number, max = this.burst): number {
    this.release(q);
    return this.native.iouringReceive(this.id, Math.min(max, this.burst, PAYLOAD_MAX_BURST), this.queues[0].rxAddrs);
  }

  rxMeta(q: number, i: number): number {
    if (this.view.buffer !== this.c.memory.buffer) this.view = new DataView(this.c.memory.buffer);
    return this.view.getUint32(this.queues[q].rxAddrs + 4 * i, true);
  }

  release(_q: number): void {
    this.native.iouringRelease(this.id);
  }

  wait(_q: number, timeoutMs: number): boolean {
    return this.native.iouringWait(this.id, timeoutMs);
  }

  async waitAsync(q: number, timeoutMs: number): Promise<boolean> {
    // Short blocking waits in the kernel, with the event loop run between them (timers, signals).
    const end = performance.now() + timeoutMs;
    for (;;) {
      const left = end - performance.now();
      if (this.wait(q, Math.max(0, Math.min(left, 5)))) return true;
      if (left <= 0 || this.ended) return false;
      await new Promise((res) => setImmediate(res));
    }
  }

  txReserve(): number {
    return 0;
  }

  txSubmit(): number {
    return 0;
  }

  /** TCP: writes the payloads to the stream (e.g. a SoupBinTCP login). */
  send(_q: number, frames: readonly Uint8Array[]): number {
    if (this.c.transport !== 'tcp') return 0;
    for (const f of frames) this.native.iouringSend(this.id, f);
    return frames.length;
  }

  flush(): boolean {
    return true;
  }

  stats(): BackendStats & { noBuffer: number; error?: string } {
    const s = this.native.iouringStats(this.id);
    return { rx: s.rx, tx: 0, rxBytes: s.rxBytes, txBytes: 0, drops: { ringFull: s.socketDrops }, noBuffer: s.noBuffer, error: s.error };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.iouringClose(this.id);
  }
}

export function openIoUring(c: PayloadBackendConfig): IoUringBackend {
  return new IoUringBackend(c);
}
