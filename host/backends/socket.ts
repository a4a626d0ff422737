/**
 * The `socket` backend: plain Node dgram and net sockets, the portable fallback that needs no
 * privilege and no kernel feature (the counterpart of a Boost.Asio backend). The kernel delivers
 * each datagram (or TCP chunk) into a JS Buffer; the backend copies it into a pool frame and writes
 * its metadata record, so everything after `receive` is the same as for the other backends.
 *
 * Frames hold the L4 payload only (the kernel keeps the headers): l2/l3/l4 are OFFSET_NONE, the
 * payload offset is 0 and linktype is LINKTYPE_PAYLOAD. The flow hash tells sources apart (a
 * datagram's source address and port; a TCP connection's number), which stream plugins such as
 * soupbintcp-itch key their reassembly on.
 *
 * A queue's kernel region holds the burst arrays of the Backend interface (payloadQueue below).
 * Only one queue: a socket is one queue. `send` writes payloads: a TCP chunk, or a UDP datagram to
 * the last peer heard from. TX buffers (txReserve) are not offered: use `send`.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { nowNs } from '../clock.js';
import type { Layout } from '../layout.js';
import { META, NEXT_NONE, OFFSET_NONE, VLAN_NONE } from '../meta.js';
import { BackendError, type Backend, type BackendConfig, type BackendStats, type QueueInfo } from './types.js';

/** pcap LINKTYPE_USER0, used by wirewasm for frames that hold an application payload and no headers. */
export const LINKTYPE_PAYLOAD = 147;
export const PAYLOAD_MAX_BURST = 256;

export type PayloadTransport = 'udp' | 'udp-multicast' | 'tcp';

export interface PayloadBackendConfig extends BackendConfig {
  transport: PayloadTransport;
  /** udp: local address to bind (default 0.0.0.0); udp-multicast: the interface address to join on; tcp: the server. */
  host?: string;
  port: number;
  /** udp-multicast: the group to join. */
  group?: string;
}

/**
 * The start of a payload backend's queue region (layout.kernel[q]):
 *
 * ```
 *   +0     rxAddrs  256 × u32   meta record addresses of the last burst
 *   +1024  txAddrs  256 × u32
 *   +2048  txLens   256 × u32
 *   +3072  state    1 KiB       free for the backend (io_uring: its buffer ring follows at +4096)
 * ```
 */
export function payloadQueue(layout: Layout, q: number, name: string, need: number): { region: number; rxAddrs: number; txAddrs: number; txLens: number; state: number } {
  const r = layout.kernel[q];
  if (!r || r.size < need)
    throw new BackendError('memory-too-small', `${name}: queue ${q} needs a kernel region of ${need} bytes; compute the layout with kernelBytesPerQueue: kernelBytesFor('${name}') (it has ${r?.size ?? 0})`);
  return { region: r.offset, rxAddrs: r.offset, txAddrs: r.offset + 1024, txLens: r.offset + 2048, state: r.offset + 3072 };
}

export const socketKernelBytes = (): number => 4096;

/** Checks what every payload backend needs; throws BackendError('bad-config') naming the fix. */
export function checkPayloadConfig(name: string, c: PayloadBackendConfig): void {
  const bad = (m: string) => {
    throw new BackendError('bad-config', `${name}: ${m}`);
  };
  if (!['udp', 'udp-multicast', 'tcp'].includes(c.transport)) bad(`transport ${JSON.stringify(c.transport)}: use udp, udp-multicast or tcp`);
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) bad(`port ${c.port}: give a port from 1 to 65535`);
  if ((c.queues ?? 1) !== 1) bad(`queues ${c.queues}: a socket is one queue; open one backend per socket`);
  if (c.burst !== undefined && (!Number.isInteger(c.burst) || c.burst < 1 || c.burst > PAYLOAD_MAX_BURST)) bad(`burst ${c.burst}: give 1 to ${PAYLOAD_MAX_BURST}`);
  if (c.host !== undefined && !net.isIPv4(c.host)) bad(`host ${c.host}: give an IPv4 address`);
  if (c.transport === 'tcp' && !c.host) bad('transport tcp needs host: the server to connect to');
  if (c.transport === 'udp-multicast') {
    const first = Number(c.group?.split('.')[0]);
    if (!c.group || !net.isIPv4(c.group) || first < 224 || first > 239) bad(`group ${c.group}: give an IPv4 multicast group (224.0.0.0 to 239.255.255.255)`);
  }
}

/** Writes the metadata record of a payload frame. */
export function writePayloadMeta(dv: DataView, meta: number, data: number, caplen: number, wirelen: number, tsNs: bigint, hash: number, q: number): void {
  dv.setUint32(meta + META.DATA, data, true);
  dv.setUint32(meta + META.CAPLEN, caplen, true);
  dv.setUint32(meta + META.WIRELEN, wirelen, true);
  dv.setUint32(meta + META.PTYPE, 0, true);
  dv.setBigUint64(meta + META.TIMESTAMP, tsNs, true);
  dv.setUint16(meta + META.L2, OFFSET_NONE, true);
  dv.setUint16(meta + META.L3, OFFSET_NONE, true);
  dv.setUint16(meta + META.L4, OFFSET_NONE, true);
  dv.setUint16(meta + META.PAYLOAD, 0, true);
  dv.setUint32(meta + META.INNER_L3, 0xffffffff, true);
  dv.setUint16(meta + META.VLAN0, VLAN_NONE, true);
  dv.setUint16(meta + META.VLAN1, VLAN_NONE, true);
  dv.setUint32(meta + META.HASH, hash, true);
  dv.setUint32(meta + META.ERRORS, 0, true);
  dv.setUint16(meta + META.QUEUE, q, true);
  dv.setUint16(meta + META.LINKTYPE, LINKTYPE_PAYLOAD, true);
  dv.setUint32(meta + META.MARK, 0, true);
  dv.setUint32(meta + META.REFCNT, 0, true);
  dv.setUint32(meta + META.NEXT, NEXT_NONE, true);
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Pending {
  bytes: Buffer;
  ts: bigint;
  hash: number;
}

/** Extra surface of the payload backends (socket, io_uring) beyond the Backend interface. */
export interface PayloadBackend extends Backend {
  /** Resolves once the socket is bound/joined/connected; rejects with a BackendError. */
  readonly ready: Promise<void>;
  /** Resolves true when frames wait on queue q, false after timeoutMs; lets the event loop run. */
  waitAsync(q: number, timeoutMs: number): Promise<boolean>;
  /** True once a TCP peer closed the stream (everything before it has been received). */
  readonly ended: boolean;
}

export class SocketBackend implements PayloadBackend {
  readonly name = 'socket' as const;
  readonly mode: string;
  readonly queues: readonly QueueInfo[];
  readonly ready: Promise<void>;
  ended = false;
  private readonly burst: number;
  private readonly pending: Pending[] = [];
  private readonly maxPending: number;
  private head = 0;
  private dv: DataView;
  private readonly frames: number;
  private nextFrame = 0;
  private udp: dgram.Socket | null = null;
  private tcp: net.Socket | null = null;
  private peer: { address: string; port: number } | null = null;
  private waiter: (() => void) | null = null;
  private readonly st: BackendStats = { rx: 0, tx: 0, rxBytes: 0, txBytes: 0, drops: { ringFull: 0, truncated: 0 } };
  private closed = false;

  constructor(private readonly c: PayloadBackendConfig) {
    checkPayloadConfig('socket', c);
    if (c.netns) throw new BackendError('bad-config', 'socket: netns is not supported by Node sockets; run the process in the namespace (ip netns exec NS …) or use io_uring');
    this.burst = c.burst ?? 64;
    const qa = payloadQueue(c.layout, 0, 'socket', socketKernelBytes());
    this.queues = [{ index: 0, fd: -1, state: qa.state, rxAddrs: qa.rxAddrs, txAddrs: qa.txAddrs, txLens: qa.txLens, txCapacity: 0 }];
    this.frames = c.layout.config.frameCount;
    if (this.frames < 2 * this.burst) throw new BackendError('bad-config', `socket: ${this.frames} frames cannot hold two bursts of ${this.burst}; give the layout at least ${2 * this.burst} frames`);
    this.maxPending = Math.max(4096, this.frames * 4);
    this.dv = new DataView(c.memory.buffer);
    this.mode = `socket ${c.transport}${c.transport === 'udp-multicast' ? ` ${c.group} on ${c.host ?? '0.0.0.0'}` : ''}`;
    this.ready = c.transport === 'tcp' ? this.connect() : this.bind();
    this.ready.catch(() => {});
  }

  private push(bytes: Buffer, hash: number): void {
    if (this.pending.length - this.head >= this.maxPending) {
      this.st.drops.ringFull!++;
      return;
    }
    this.pending.push({ bytes, ts: nowNs(), hash });
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private bind(): Promise<void> {
    const c = this.c;
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: c.transport === 'udp-multicast' });
    this.udp = sock;
    sock.on('message', (m, ri) => {
      this.peer = ri;
      this.push(m, fnv(`${ri.address}:${ri.port}`));
    });
    return new Promise((res, rej) => {
      sock.once('error', (e) => rej(new BackendError('bad-config', `socket: bind ${c.host ?? '0.0.0.0'}:${c.port}: ${e.message}`, { cause: e })));
      sock.bind(c.port, c.transport === 'udp-multicast' ? undefined : c.host, () => {
        try {
          sock.setRecvBufferSize(8 << 20);
        } catch {
          // the kernel caps it at net.core.rmem_max; keep its default
        }
        if (c.transport === 'udp-multicast') {
          try {
            sock.addMembership(c.group!, c.host ?? '0.0.0.0');
          } catch (e) {
            rej(new BackendError('bad-config', `socket: join ${c.group} on ${c.host ?? '0.0.0.0'}: ${(e as Error).message}`, { cause: e }));
            return;
          }
        }
        res();
      });
    });
  }

  private connect(): Promise<void> {
    const c = this.c;
    const hash = fnv(`${c.host}:${c.port}`);
    return new Promise((res, rej) => {
      const s = net.connect({ host: c.host, port: c.port }, () => res());
      s.setNoDelay(true);
      this.tcp = s;
      s.on('data', (d) => {
        // A chunk longer than a frame is handed over in frame-sized pieces, in order.
        const fs = c.layout.config.frameSize;
        for (let o = 0; o < d.length; o += fs) this.push(d.subarray(o, Math.min(d.length, o + fs)), hash);
      });
      s.on('error', (e) => rej(new BackendError('bad-config', `socket: connect ${c.host}:${c.port}: ${e.message}`, { cause: e })));
      s.on('close', () => {
        this.ended = true;
        const w = this.waiter;
        this.waiter = null;
        w?.();
      });
    });
  }

  receive(q: number, max = this.burst): number {
    this.release(q);
    const n = Math.min(max, this.burst, this.pending.length - this.head);
    if (n === 0) return 0;
    if (this.dv.buffer !== this.c.memory.buffer) this.dv = new DataView(this.c.memory.buffer);
    const u8 = new Uint8Array(this.c.memory.buffer);
    const frames = this.frames;
    const layout = this.c.layout;
    const fs = layout.config.frameSize;
    const rx = this.queues[0].rxAddrs;
    for (let i = 0; i < n; i++) {
      const p = this.pending[this.head++];
      const f = this.nextFrame;
      this.nextFrame = (f + 1) % frames;
      const data = layout.frameAddress(f);
      const cap = Math.min(p.bytes.length, fs);
      if (cap < p.bytes.length) this.st.drops.truncated!++;
      u8.set(cap < p.bytes.length ? p.bytes.subarray(0, cap) : p.bytes, data);
      const meta = layout.metaAddress(f);
      writePayloadMeta(this.dv, meta, data, cap, p.bytes.length, p.ts, p.hash, q);
      this.dv.setUint32(rx + 4 * i, meta, true);
      this.st.rx++;
      this.st.rxBytes += p.bytes.length;
    }
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return n;
  }

  rxMeta(q: number, i: number): number {
    return this.dv.getUint32(this.queues[q].rxAddrs + 4 * i, true);
  }

  release(_q: number): void {
    // Frames are reused round-robin, never before the next burst: nothing to hand back.
  }

  wait(_q: number, _timeoutMs: number): boolean {
    return this.pending.length > this.head;
  }

  waitAsync(_q: number, timeoutMs: number): Promise<boolean> {
    if (this.pending.length > this.head || this.ended) return Promise.resolve(this.pending.length > this.head);
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiter = null;
        res(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(t);
        res(this.pending.length > this.head);
      };
    });
  }

  txReserve(): number {
    return 0;
  }

  txSubmit(): number {
    return 0;
  }

  send(_q: number, frames: readonly Uint8Array[]): number {
    let n = 0;
    for (const f of frames) {
      if (this.tcp) this.tcp.write(f);
      else if (this.udp && this.peer) this.udp.send(f, this.peer.port, this.peer.address);
      else break;
      n++;
      this.st.tx++;
      this.st.txBytes += f.length;
    }
    return n;
  }

  flush(): boolean {
    return true;
  }

  stats(): BackendStats {
    return { ...this.st, drops: { ...this.st.drops } };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.udp?.close();
    this.tcp?.destroy();
  }
}

export function openSocket(c: PayloadBackendConfig): SocketBackend {
  return new SocketBackend(c);
}
