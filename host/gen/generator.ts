/**
 * The traffic generator behind `wirewasm gen`: UDP frames written in place into TX buffers of the
 * shared memory (AF_XDP UMEM frames or TPACKET TX ring slots) and sent in bursts at a set rate.
 *
 * Payload (18 bytes, network byte order), so a 64-byte frame on the wire (60 + FCS) carries it:
 *
 *   0        8                16    18
 *   | seq u64 | send time u64  | 5757 |
 *             CLOCK_MONOTONIC ns, taken just before the burst is handed to the kernel
 *
 * Headers come from a template written once per frame (IPv4 id 0 with DF, UDP checksum 0, which
 * IPv4 allows), so per frame only the payload's 16 bytes change. Rate: a token bucket refilled
 * from the monotonic clock; it sleeps through gaps longer than 30 µs and spins through shorter ones.
 */
import { execFileSync } from 'node:child_process';
import { kernelBytesFor, openBackend } from '../backends/index.js';
import { kernelAddon } from '../backends/kernel.js';
import type { Backend } from '../backends/types.js';
import { UDP_HEADERS, writeUdpHeaders } from '../backends/udpframe.js';
import { computeLayout, createMemory } from '../layout.js';

const nap = new Int32Array(new SharedArrayBuffer(4));

export const GEN_MAGIC = 0x5757;
export const GEN_PAYLOAD = 18;
/** Smallest --size: the 42 header bytes, the 18-byte payload and the 4-byte FCS. */
export const GEN_MIN_SIZE = UDP_HEADERS + GEN_PAYLOAD + 4;

export interface GenOptions {
  iface: string;
  netns?: string;
  backend?: 'afxdp' | 'afpacket';
  /** Frames per second (0: as fast as possible). */
  rate: number;
  /** Frame size on the wire including the 4-byte FCS (the kernel adds no FCS on veth; we write size - 4). */
  size: number;
  count?: number;
  durationS?: number;
  dstIp?: string;
  dstMac?: string;
  srcIp?: string;
  dstPort?: number;
  srcPort?: number;
  /** Distinct source ports to rotate through (flows, for RSS / fanout spreading). */
  flows?: number;
  burst?: number;
}

export interface GenResult {
  mode: string;
  sent: number;
  seconds: number;
  pps: number;
  /** Bursts that found no free TX buffer and waited for completions. */
  waits: number;
}

function ipJson(netns: string | undefined, args: string[]): unknown[] {
  const out = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-j', ...args], { encoding: 'utf8' });
  return out.trim() ? (JSON.parse(out) as unknown[]) : [];
}

function resolve(o: GenOptions, srcMac: string) {
  const srcIp =
    o.srcIp ??
    ((ipJson(o.netns, ['-4', 'addr', 'show', 'dev', o.iface])[0] as { addr_info?: { local: string }[] } | undefined)?.addr_info?.[0]?.local);
  if (!srcIp) throw new Error(`gen: ${o.iface} has no IPv4 address; give one with --src-ip`);
  if (!o.dstIp) throw new Error('gen: no destination; give --dst-ip (and --dst-mac if the neighbour is not known)');
  let dstMac = o.dstMac;
  if (!dstMac) {
    const n = ipJson(o.netns, ['neigh', 'show', 'to', o.dstIp, 'dev', o.iface])[0] as { lladdr?: string } | undefined;
    dstMac = n?.lladdr;
    if (!dstMac) throw new Error(`gen: the MAC address of ${o.dstIp} on ${o.iface} is unknown (no neighbour entry); give --dst-mac`);
  }
  return { srcMac, dstMac, srcIp, dstIp: o.dstIp, srcPort: o.srcPort ?? 40000, dstPort: o.dstPort ?? 9000 };
}

export function validateGen(o: GenOptions): void {
  if (!Number.isInteger(o.size) || o.size < GEN_MIN_SIZE || o.size > 1518)
    throw new Error(`gen: --size ${o.size}: use ${GEN_MIN_SIZE} to 1518 bytes (the frame on the wire with its FCS; 64 is the Ethernet minimum)`);
  if (!(o.rate >= 0) || !Number.isFinite(o.rate)) throw new Error(`gen: --rate ${o.rate}: use frames per second (0 = as fast as possible)`);
  if ((o.count === undefined) === (o.durationS === undefined)) throw new Error('gen: give exactly one of --count N or --duration S');
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count > 0)) throw new Error(`gen: --count ${o.count}: use a whole number > 0`);
  if (o.durationS !== undefined && !(o.durationS > 0)) throw new Error(`gen: --duration ${o.durationS}: use seconds > 0`);
}

export function openGenerator(o: GenOptions): { backend: Backend; memory: WebAssembly.Memory } {
  const name = o.backend ?? 'afpacket';
  const frameCount = 4096;
  // Bypassing the qdisc also bypasses the kernel's flow-hash choice of TX queue: the frames leave on
  // the queue of the sending CPU, so every flow would take one queue (and a veth peer receives on
  // the queue it was sent on). On a multi-queue interface the kernel picks the queue per flow instead.
  const txQueues = Number((ipJson(o.netns, ['-d', 'link', 'show', 'dev', o.iface])[0] as { num_tx_queues?: number } | undefined)?.num_tx_queues ?? 1);
  const opts = name === 'afxdp' ? { attach: false, txFrames: 2048, xdpMode: 'skb' as const } : { rx: false, txFrames: 2048, qdiscBypass: txQueues <= 1 };
  const layout = computeLayout({ frameCount, kernelBytesPerQueue: kernelBytesFor(name, { frameCount, ...opts }) });
  const memory = createMemory(layout);
  return { backend: openBackend(name, { iface: o.iface, netns: o.netns, memory, layout, ...opts }), memory };
}

export function runGenerator(o: GenOptions, opened = openGenerator(o)): GenResult {
  validateGen(o);
  const { backend: b, memory } = opened;
  const info = kernelAddon().ifInfo({ iface: o.iface, netns: o.netns });
  const ends = resolve(o, info.mac ?? '00:00:00:00:00:00');
  const frameLen = o.size - 4;
  const payloadLen = frameLen - UDP_HEADERS;
  const flows = Math.max(1, o.flows ?? 1);
  const templates = Array.from({ length: flows }, (_, f) => {
    const t = new Uint8Array(frameLen);
    writeUdpHeaders(t, { ...ends, srcPort: ends.srcPort + f }, payloadLen);
    // UDP checksum 0: "no checksum" in IPv4, so the payload can change without recomputing it.
    t[40] = 0;
    t[41] = 0;
    t[UDP_HEADERS + 16] = GEN_MAGIC >> 8;
    t[UDP_HEADERS + 17] = GEN_MAGIC & 0xff;
    return t;
  });
  const burst = Math.min(o.burst ?? 32, 256);
  const q = b.queues[0];
  const mem = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  const lens = new Uint32Array(memory.buffer, q.txLens, burst);
  const addrs = new Uint32Array(memory.buffer, q.txAddrs, burst);
  const limit = o.count ?? Infinity;
  const start = process.hrtime.bigint();
  const stopAt = o.durationS !== undefined ? start + BigInt(Math.round(o.durationS * 1e9)) : undefined;
  let sent = 0;
  let waits = 0;
  for (;;) {
    if (sent >= limit) break;
    const now = process.hrtime.bigint();
    if (stopAt !== undefined && now >= stopAt) break;
    let want = Math.min(burst, limit - sent);
    if (o.rate > 0) {
      const due = Math.floor((Number(now - start) / 1e9) * o.rate) + 1 - sent;
      if (due <= 0) {
        const gapNs = ((sent + 1) / o.rate) * 1e9 - Number(now - start);
        // Sleep through gaps instead of spinning: on a small machine a spinning sender takes the
        // CPU the kernel needs to deliver its frames, and the latency measured would be its own.
        if (gapNs > 30_000) Atomics.wait(nap, 0, 0, (gapNs - 20_000) / 1e6);
        continue;
      }
      want = Math.min(want, due);
    }
    const k = b.txReserve(0, want);
    if (k === 0) {
      waits++;
      b.flush(0, 1);
      continue;
    }
    const ts = process.hrtime.bigint();
    const hi = Number(ts >> 32n);
    const lo = Number(ts & 0xffffffffn);
    for (let i = 0; i < k; i++) {
      const a = addrs[i];
      const seq = sent + i;
      mem.set(templates[seq % flows], a);
      const p = a + UDP_HEADERS;
      dv.setUint32(p, Math.floor(seq / 2 ** 32));
      dv.setUint32(p + 4, seq >>> 0);
      dv.setUint32(p + 8, hi);
      dv.setUint32(p + 12, lo);
      lens[i] = frameLen;
    }
    sent += b.txSubmit(0, k);
  }
  b.flush(0, 2000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mode: b.mode, sent, seconds, pps: sent / seconds, waits };
}
