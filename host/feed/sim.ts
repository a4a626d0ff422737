/**
 * The feed simulator behind `wirewasm feed-sim`: a deterministic ITCH 5.0 market (generator.ts)
 * sent at a chosen rate as MoldUDP64 over UDP (unicast or multicast) or as SoupBinTCP over TCP
 * (the simulator is the server). Each message's ITCH timestamp is its send time (ns since UTC
 * midnight, the clock of clock.ts that the feed client's latency uses too).
 *
 * `dropEvery` N skips sending every Nth packet while still numbering its messages, so a receiver
 * sees a gap there; the result lists the gaps and carries the digest of what was really sent, which
 * a receiver's decoded stream must equal.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { kernelBytesFor, openBackend } from '../backends/index.js';
import { kernelAddon } from '../backends/kernel.js';
import { UDP_HEADERS, writeUdpHeaders } from '../backends/udpframe.js';
import { computeLayout, createMemory } from '../layout.js';
import { loadNative } from '../native.js';
import { FeedCapture, type Endpoint } from './capture.js';
import { nowNs, timeOfDayNs } from '../clock.js';
import { ItchGenerator, MOLD_END_OF_SESSION, MOLD_HEADER_BYTES, MOLD_HEARTBEAT, moldControl, moldPacket, sessionName, soupPacket, soupSequenced, soupLoginAccepted } from './generator.js';
import { canonicalRecord, encodeMessage, ITCH_BY_TYPE, StreamDigest, type ItchMessage } from './itch.js';

export type FeedTransport = 'udp' | 'udp-multicast' | 'tcp';
export const FEED_TRANSPORTS: readonly FeedTransport[] = ['udp', 'udp-multicast', 'tcp'];

export interface FeedSimOptions {
  transport: FeedTransport;
  /** How UDP goes out: Node dgram sockets (default), io_uring batches of sends, or the engine's transmit path (afpacket, afxdp: give iface). */
  backend?: 'socket' | 'io_uring' | 'afpacket' | 'afxdp';
  /** afpacket/afxdp: the interface to send on, and its network namespace. */
  iface?: string;
  netns?: string;
  /** Compute the digest of what was sent (default true; costs about half the generator's speed). */
  digest?: boolean;
  /** udp: the receiver's address; udp-multicast: the local interface address to send from; tcp: the address to listen on. */
  host: string;
  port: number;
  /** udp-multicast: the group (224.0.0.0/4). */
  group?: string;
  /** Messages per second; 0 sends as fast as the transport takes them. */
  rate: number;
  /** Seconds: rate × duration messages are sent (at least 1). */
  duration: number;
  messagesPerPacket?: number;
  /**
   * 2: A/B, the same session also goes to line B (`portB`, default port + 1, same host or group),
   * each line dropping packets on its own (`lineDrop`).
   */
  lines?: 1 | 2;
  portB?: number;
  /** Probability that a line drops a packet (seeded, independent per line); 0: none. */
  lineDrop?: number;
  /** Skip every Nth packet (1-based), still numbering its messages; 0: none. */
  dropEvery?: number;
  seed?: number;
  session?: string;
  /** Write the packets sent to this pcapng file. */
  write?: string;
  /** tcp: how long to wait for a client to log in (ms, default 30 000). */
  waitClientMs?: number;
  /**
   * udp: also serve MoldUDP64 re-requests on this UDP port (same host): a request
   * `session (10) | sequence (8) | count (2)` is answered, to its sender, with those messages
   * (packets of messagesPerPacket). The simulator then lingers `lingerMs` after the end of session.
   */
  rerequestPort?: number;
  lingerMs?: number;
  /** Stops early when aborted (the result counts what was sent). */
  signal?: AbortSignal;
  /** Called once the socket is ready (tcp: listening), e.g. to start a client. */
  onReady?: (where: { host: string; port: number }) => void;
  log?: (line: string) => void;
}

export interface FeedSimResult {
  messages_sent: number;
  /** Messages sent again on re-request. */
  messages_retransmitted: number;
  packets_sent: number;
  messages_dropped: number;
  packets_dropped: number;
  /** Sequence ranges skipped by --drop-every: [first, count] (the first 1000; gaps_total counts all). */
  gaps: [number, number][];
  gaps_total: number;
  /** With lines 2: what each line dropped (the gaps above are what both dropped). */
  lines?: Record<'a' | 'b', { packets_dropped: number; messages_dropped: number }>;
  /** Digest of the decoded stream a receiver must see (host/feed/itch.ts StreamDigest). */
  digest: string;
  next_sequence: number;
  seconds: number;
  by_type: Record<string, number>;
}

export class FeedSimError extends Error {}

/** Messages of the largest type (50 bytes + 2 of block length) that fit one 65,507-byte datagram after the 20-byte header. */
export const MAX_MESSAGES_PER_DATAGRAM = Math.floor((65_507 - MOLD_HEADER_BYTES) / (2 + Math.max(...[...ITCH_BY_TYPE.values()].map((m) => m.size))));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function checkSimOptions(o: FeedSimOptions): void {
  const bad = (m: string) => {
    throw new FeedSimError(m);
  };
  if (!FEED_TRANSPORTS.includes(o.transport)) bad(`--transport ${o.transport}: use one of ${FEED_TRANSPORTS.join(', ')}`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) bad(`--port ${o.port}: give a port from 1 to 65535`);
  if (!(o.rate >= 0) || !Number.isFinite(o.rate)) bad(`--rate ${o.rate}: give messages per second (0 = as fast as possible)`);
  if (!(o.duration > 0)) bad(`--duration ${o.duration}: give a positive number of seconds`);
  const k = o.messagesPerPacket ?? 8;
  const most = o.transport === 'tcp' ? 4096 : MAX_MESSAGES_PER_DATAGRAM;
  if (!Number.isInteger(k) || k < 1 || k > most) bad(`--messages-per-packet ${k}: give 1 to ${most} (a MoldUDP64 packet must fit one 64 KiB datagram)`);
  if (o.dropEvery !== undefined && (!Number.isInteger(o.dropEvery) || o.dropEvery < 0)) bad(`--drop-every ${o.dropEvery}: give a whole number (0 = drop none)`);
  if (o.lines !== undefined && o.lines !== 1 && o.lines !== 2) bad(`--lines ${o.lines}: give 1 or 2 (A/B: the same session on two lines)`);
  if (o.lines === 2 && o.transport === 'tcp') bad('--lines 2 sends MoldUDP64 on two UDP lines: use --transport udp or udp-multicast');
  if (o.lineDrop !== undefined && !(o.lineDrop >= 0 && o.lineDrop < 1)) bad(`--line-drop ${o.lineDrop}: give a probability from 0 to below 1`);
  if (o.backend && !['socket', 'io_uring', 'afpacket', 'afxdp'].includes(o.backend)) bad(`--backend ${o.backend}: use socket, io_uring, afpacket or afxdp`);
  if (o.transport === 'tcp' && o.backend && o.backend !== 'socket') bad(`--backend ${o.backend} sends UDP; the SoupBinTCP server (--transport tcp) uses a kernel socket: drop --backend or use socket`);
  if ((o.backend === 'afpacket' || o.backend === 'afxdp') && !o.iface) bad(`--backend ${o.backend} needs --iface: the interface to send on`);
  if (o.rerequestPort !== undefined && (o.transport === 'tcp' || !Number.isInteger(o.rerequestPort) || o.rerequestPort < 1 || o.rerequestPort > 65535))
    bad(`--rerequest-port ${o.rerequestPort}: give a UDP port (1 to 65535) for the MoldUDP64 re-request server (udp transports only)`);
  if (o.transport === 'tcp' && o.dropEvery) bad('--drop-every works with udp and udp-multicast only: SoupBinTCP has no sequence numbers on the wire, so a skipped packet could not be seen as a gap');
  if (o.transport === 'udp-multicast') {
    if (!o.group) bad('--transport udp-multicast needs --group (e.g. 239.1.1.1)');
    const first = Number(o.group!.split('.')[0]);
    if (!net.isIPv4(o.group!) || first < 224 || first > 239) bad(`--group ${o.group}: not an IPv4 multicast address (224.0.0.0 to 239.255.255.255)`);
  }
  if (!net.isIPv4(o.host)) bad(`--host ${o.host}: give an IPv4 address`);
}

interface UdpSender {
  src: Endpoint;
  send(packets: Uint8Array[]): Promise<void>;
  close(): Promise<void>;
}

/** Node dgram: one send per packet, a bounded number in flight. */
async function dgramSender(o: FeedSimOptions, dst: Endpoint): Promise<UdpSender> {
  const sock = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((res, rej) => {
    sock.once('error', (e) => rej(new FeedSimError(`bind: ${e.message}`)));
    sock.bind(0, o.transport === 'udp-multicast' ? o.host : undefined, () => res());
  });
  if (o.transport === 'udp-multicast') {
    sock.setMulticastInterface(o.host);
    sock.setMulticastLoopback(true);
    sock.setMulticastTTL(1);
  }
  let inflight = 0;
  let failed: Error | null = null;
  return {
    src: { ip: o.transport === 'udp-multicast' ? o.host : '127.0.0.1', port: sock.address().port },
    async send(packets) {
      for (const p of packets) {
        inflight++;
        sock.send(p, dst.port, dst.ip, (e) => {
          inflight--;
          if (e) failed = e;
        });
      }
      if (inflight > 512) while (inflight > 64) await new Promise((res) => setImmediate(res));
      if (failed) throw new FeedSimError(`send to ${dst.ip}:${dst.port}: ${(failed as Error).message}`);
    },
    async close() {
      while (inflight > 0) await new Promise((res) => setImmediate(res));
      sock.close();
    },
  };
}

interface IoUringSenderAddon {
  iouringSenderOpen(o: { host: string; port: number; multicastIf?: string }): number;
  iouringSenderSend(id: number, data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, first: number, count: number, pps: number): { sent: number; errors: number; ns: number };
  iouringSenderClose(id: number): void;
}

/** io_uring: a batch of IORING_OP_SEND per call, one io_uring_enter (native/iouring.cc). */
function ioUringSender(o: FeedSimOptions, dst: Endpoint): UdpSender {
  const n = loadNative() as unknown as IoUringSenderAddon;
  const id = n.iouringSenderOpen({ host: dst.ip, port: dst.port, multicastIf: o.transport === 'udp-multicast' ? o.host : undefined });
  const offs = new Uint32Array(64);
  const lens = new Uint32Array(64);
  let buf = new Uint8Array(64 * 1500);
  return {
    src: { ip: o.transport === 'udp-multicast' ? o.host : '127.0.0.1', port: 0 },
    async send(packets) {
      for (let i = 0; i < packets.length; i += 64) {
        const k = Math.min(64, packets.length - i);
        let size = 0;
        for (let j = 0; j < k; j++) size += packets[i + j].length;
        if (size > buf.length) buf = new Uint8Array(size);
        let at = 0;
        for (let j = 0; j < k; j++) {
          buf.set(packets[i + j], at);
          offs[j] = at;
          lens[j] = packets[i + j].length;
          at += lens[j];
        }
        const r = n.iouringSenderSend(id, buf, offs, lens, 0, k, 0);
        if (r.errors) throw new FeedSimError(`send to ${dst.ip}:${dst.port}: ${r.errors} of ${k} sends failed`);
      }
    },
    async close() {
      n.iouringSenderClose(id);
    },
  };
}

/**
 * afpacket / afxdp: the engine's transmit path. Each MoldUDP64 datagram is written in place into a
 * TX buffer of the shared memory (a TPACKET TX slot or an AF_XDP UMEM frame) behind Ethernet, IPv4
 * and UDP headers, and a batch goes to the kernel with one txSubmit.
 */
function frameSender(o: FeedSimOptions, dst: Endpoint): UdpSender {
  if (!o.iface) throw new FeedSimError(`--backend ${o.backend} needs --iface: the interface to send on`);
  const name = o.backend as 'afpacket' | 'afxdp';
  const frameCount = 4096;
  const opts = name === 'afxdp' ? { attach: false, txFrames: 2048, xdpMode: 'skb' as const } : { rx: false, txFrames: 2048, qdiscBypass: true };
  const layout = computeLayout({ frameCount, kernelBytesPerQueue: kernelBytesFor(name, { frameCount, ...opts }) });
  const memory = createMemory(layout);
  const b = openBackend(name, { iface: o.iface, netns: o.netns, memory, layout, ...opts } as never);
  const ipj = (args: string[]) => JSON.parse(execFileSync('ip', [...(o.netns ? ['-n', o.netns] : []), '-j', ...args], { encoding: 'utf8' }) || '[]') as { lladdr?: string; addr_info?: { local: string }[] }[];
  const srcIp = o.transport === 'udp-multicast' ? o.host : ipj(['-4', 'addr', 'show', 'dev', o.iface])[0]?.addr_info?.[0]?.local;
  if (!srcIp) throw new FeedSimError(`${o.iface} has no IPv4 address to send from`);
  const g = dst.ip.split('.').map(Number);
  const dstMac =
    o.transport === 'udp-multicast'
      ? ['01', '00', '5e', (g[1] & 0x7f).toString(16), g[2].toString(16), g[3].toString(16)].map((x) => x.padStart(2, '0')).join(':')
      : ipj(['neigh', 'show', 'to', dst.ip, 'dev', o.iface])[0]?.lladdr;
  if (!dstMac) throw new FeedSimError(`the MAC address of ${dst.ip} on ${o.iface} is unknown (no neighbour entry): ping it once, or add one with \`ip neigh add\``);
  const srcMac = kernelAddon().ifInfo({ iface: o.iface, netns: o.netns }).mac ?? '02:00:00:00:00:01';
  const ends = { srcMac, dstMac, srcIp, dstIp: dst.ip, srcPort: 40000 + (o.port % 20000), dstPort: dst.port };
  const q = b.queues[0];
  let ipId = 0;
  return {
    src: { ip: srcIp, port: ends.srcPort },
    async send(packets) {
      const mem = new Uint8Array(memory.buffer);
      const addrs = new Uint32Array(memory.buffer, q.txAddrs, 256);
      const lens = new Uint32Array(memory.buffer, q.txLens, 256);
      for (let i = 0; i < packets.length; ) {
        const k = b.txReserve(0, Math.min(64, packets.length - i));
        if (k === 0) {
          b.flush(0, 1);
          continue;
        }
        for (let j = 0; j < k; j++) {
          const p = packets[i + j];
          const a = addrs[j];
          if (UDP_HEADERS + p.length > q.txCapacity) throw new FeedSimError(`a ${p.length}-byte packet does not fit a ${q.txCapacity}-byte TX buffer`);
          mem.set(p, a + UDP_HEADERS);
          writeUdpHeaders(mem.subarray(a, a + UDP_HEADERS + p.length), ends, p.length, ipId++ & 0xffff);
          lens[j] = UDP_HEADERS + p.length;
        }
        b.txSubmit(0, k);
        i += k;
      }
    },
    async close() {
      b.flush(0, 2000);
      b.close();
    },
  };
}

/** A small seeded PRNG (LCG) for the lines' drops, apart from the market's. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Runs the simulator to the end; resolves with what was sent. */
export async function runFeedSim(o: FeedSimOptions): Promise<FeedSimResult> {
  checkSimOptions(o);
  const perPacket = o.messagesPerPacket ?? 8;
  const dropEvery = o.dropEvery ?? 0;
  const total = Math.max(1, Math.round(o.rate > 0 ? o.rate * o.duration : o.duration * 1e6));
  const gen = new ItchGenerator(o.seed ?? 1);
  const session = o.session ?? 'WIREWASM01';
  const sess = sessionName(session);
  const digest = o.digest === false ? null : new StreamDigest();
  const pcap = o.write ? new FeedCapture(o.write) : null;
  const byType: Record<string, number> = {};
  const r: FeedSimResult = { messages_retransmitted: 0, messages_sent: 0, packets_sent: 0, messages_dropped: 0, packets_dropped: 0, gaps: [], gaps_total: 0, digest: '', next_sequence: 1, seconds: 0, by_type: byType };
  let seq = 1n;
  let packetNo = 0;
  const batch: ItchMessage[] = [];

  /** The next packet's messages, stamped now; null when all were sent. */
  const nextBatch = (): ItchMessage[] | null => {
    const left = total - (Number(seq) - 1);
    if (left <= 0) return null;
    batch.length = 0;
    const ts = timeOfDayNs();
    for (let i = 0; i < Math.min(perPacket, left); i++) batch.push(gen.next(ts));
    return batch;
  };
  // Re-request history: every message generated, encoded, by sequence - 1 (the last 4 M at most).
  const HISTORY = 4 << 20;
  const history: Uint8Array[] | null = o.rerequestPort ? [] : null;
  const account = (msgs: ItchMessage[], sent: boolean) => {
    if (history)
      for (const m of msgs) {
        const b = new Uint8Array(ITCH_BY_TYPE.get(m.type)!.size);
        encodeMessage(b, 0, m);
        history.push(b);
        if (history.length > HISTORY) history[history.length - 1 - HISTORY] = undefined as unknown as Uint8Array;
      }
    if (sent) {
      msgs.forEach((m, i) => {
        digest?.addCanonical(canonicalRecord(m, seq + BigInt(i)));
        byType[m.type] = (byType[m.type] ?? 0) + 1;
      });
      r.messages_sent += msgs.length;
      r.packets_sent++;
    } else {
      if (r.gaps_total++ < 1000) r.gaps.push([Number(seq), msgs.length]);
      r.messages_dropped += msgs.length;
      r.packets_dropped++;
    }
    seq += BigInt(msgs.length);
  };

  const t0 = performance.now();
  let lastSend = performance.now();
  /** Waits until `sent` messages are due at the rate, with a heartbeat each idle second. */
  const pace = async (sent: number, heartbeat: () => Promise<void>) => {
    if (o.rate <= 0) return;
    const due = t0 + (sent / o.rate) * 1000;
    for (let wait = due - performance.now(); wait > 1 && !o.signal?.aborted; wait = due - performance.now()) {
      await sleep(Math.min(wait, 1000 - (performance.now() - lastSend)));
      if (performance.now() - lastSend >= 1000) await heartbeat();
    }
  };

  try {
    if (o.transport === 'tcp') await serveTcp();
    else await sendUdp();
  } finally {
    pcap?.close();
  }
  r.digest = digest?.hex() ?? '';
  r.next_sequence = Number(seq);
  r.seconds = (performance.now() - t0) / 1000;
  return r;

  async function sendUdp(): Promise<void> {
    const dst: Endpoint = { ip: o.transport === 'udp-multicast' ? o.group! : o.host, port: o.port };
    const sender = async (d: Endpoint) => (o.backend === 'io_uring' ? ioUringSender(o, d) : o.backend === 'afpacket' || o.backend === 'afxdp' ? frameSender(o, d) : await dgramSender(o, d));
    const out = await sender(dst);
    // A/B: line B, its packets and its own drops (a PRNG per line, seeded from the market's seed).
    const outB = o.lines === 2 ? await sender({ ip: dst.ip, port: o.portB ?? o.port + 1 }) : null;
    const pendingB: Uint8Array[] = [];
    const lineDrop = o.lineDrop ?? 0;
    const dropRand = [lcg((o.seed ?? 1) * 7919 + 1), lcg((o.seed ?? 1) * 7919 + 2)];
    if (outB) r.lines = { a: { packets_dropped: 0, messages_dropped: 0 }, b: { packets_dropped: 0, messages_dropped: 0 } };
    o.onReady?.({ host: out.src.ip, port: out.src.port });
    const pending: Uint8Array[] = [];
    const flush = async () => {
      if (!pending.length && !pendingB.length) return;
      const t = nowNs();
      for (const p of pending) pcap?.udp(t, out.src, dst, p);
      await out.send(pending);
      pending.length = 0;
      if (outB && pendingB.length) {
        for (const p of pendingB) pcap?.udp(t, outB.src, { ip: dst.ip, port: o.portB ?? o.port + 1 }, p);
        await outB.send(pendingB);
        pendingB.length = 0;
      }
      lastSend = performance.now();
    };
    const heartbeat = async () => {
      pending.push(moldControl(sess, seq, MOLD_HEARTBEAT));
      if (outB) pendingB.push(moldControl(sess, seq, MOLD_HEARTBEAT));
      await flush();
    };
    const server = o.rerequestPort ? await rerequestServer() : null;
    try {
      for (;;) {
        if (o.signal?.aborted) break;
        await pace(r.messages_sent + r.messages_dropped, heartbeat);
        // Every packet due by now, up to a batch of 64, goes out in one call.
        const now = performance.now();
        for (let k = 0; k < 64; k++) {
          const msgs = nextBatch();
          if (!msgs) break;
          packetNo++;
          const dropA = (dropEvery > 0 && packetNo % dropEvery === 0) || (lineDrop > 0 && dropRand[0]() < lineDrop);
          const bytes = moldPacket(sess, seq, msgs);
          let drop = dropA;
          if (outB) {
            const dropB = lineDrop > 0 && dropRand[1]() < lineDrop;
            for (const [k, d] of [['a', dropA], ['b', dropB]] as const)
              if (d) {
                r.lines![k].packets_dropped++;
                r.lines![k].messages_dropped += msgs.length;
              }
            if (!dropB) pendingB.push(bytes);
            drop = dropA && dropB; // lost only when both lines drop it
          }
          if (!dropA) pending.push(bytes);
          account(msgs, !drop);
          if (o.rate > 0 && t0 + ((r.messages_sent + r.messages_dropped) / o.rate) * 1000 > now) break;
        }
        if (!pending.length && !pendingB.length && r.messages_sent + r.messages_dropped >= total) break;
        await flush();
      }
      // End of session, three times a few ms apart: a datagram can be lost.
      for (let i = 0; i < 3; i++) {
        pending.push(moldControl(sess, seq, MOLD_END_OF_SESSION));
        if (outB) pendingB.push(moldControl(sess, seq, MOLD_END_OF_SESSION));
        await flush();
        await sleep(5);
      }
      if (server) await sleep(o.lingerMs ?? 1000);
    } finally {
      server?.close();
      await out.close();
      await outB?.close();
    }
  }

  /** Answers MoldUDP64 re-requests from the history, to the requester's address. */
  async function rerequestServer(): Promise<dgram.Socket> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res, rej) => {
      sock.once('error', (e) => rej(new FeedSimError(`re-request server on ${o.host}:${o.rerequestPort}: ${e.message}`)));
      sock.bind(o.rerequestPort, o.host, () => res());
    });
    sock.setRecvBufferSize(16 << 20);
    sock.on('message', (req, from) => {
      if (req.length < MOLD_HEADER_BYTES || !sess.every((b, i) => req[i] === b)) return;
      const v = new DataView(req.buffer, req.byteOffset, req.length);
      const first = Number(v.getBigUint64(10));
      const end = Math.min(first + v.getUint16(18), Number(seq));
      for (let q = first; q < end; q += perPacket) {
        const k = Math.min(perPacket, end - q);
        const blocks = history!.slice(q - 1, q - 1 + k);
        if (blocks.some((b) => !b)) return; // older than the history keeps
        let size = MOLD_HEADER_BYTES;
        for (const b of blocks) size += 2 + b.length;
        const pkt = new Uint8Array(size);
        const pv = new DataView(pkt.buffer);
        pkt.set(sess, 0);
        pv.setBigUint64(10, BigInt(q));
        pv.setUint16(18, k);
        let at = MOLD_HEADER_BYTES;
        for (const b of blocks) {
          pv.setUint16(at, b.length);
          pkt.set(b, at + 2);
          at += 2 + b.length;
        }
        sock.send(pkt, from.port, from.address);
        r.messages_retransmitted += k;
      }
    });
    return sock;
  }

  async function serveTcp(): Promise<void> {
    const server = net.createServer();
    const clients: net.Socket[] = [];
    let loggedIn!: () => void;
    const login = new Promise<void>((res) => (loggedIn = res));
    server.on('connection', (c) => {
      c.setNoDelay(true);
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 3 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const n = 2 + buf.readUInt16BE(0);
          const type = String.fromCharCode(buf[2]);
          buf = buf.subarray(n);
          if (type === 'L' && !clients.includes(c)) {
            const hello = soupLoginAccepted(session, seq);
            c.write(hello);
            pcap?.tcp(nowNs(), local, { ip: c.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', port: c.remotePort ?? 0 }, hello);
            clients.push(c);
            loggedIn();
          } else if (type === 'O') c.end();
        }
      });
      c.on('close', () => {
        const i = clients.indexOf(c);
        if (i >= 0) clients.splice(i, 1);
      });
    });
    await new Promise<void>((res, rej) => {
      server.once('error', (e) => rej(new FeedSimError(`listen on ${o.host}:${o.port}: ${e.message}`)));
      server.listen(o.port, o.host, () => res());
    });
    const local: Endpoint = { ip: o.host, port: o.port };
    o.onReady?.({ host: o.host, port: o.port });
    const waitMs = o.waitClientMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([login.then(() => false), new Promise<boolean>((res) => (timer = setTimeout(() => res(true), waitMs)))]);
    clearTimeout(timer);
    try {
      if (timedOut) throw new FeedSimError(`no client logged in within ${waitMs / 1000} s on ${o.host}:${o.port} (start \`wirewasm feed --transport tcp\` against it)`);
      const peer = clients[0];
      const remote: Endpoint = { ip: peer.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', port: peer.remotePort ?? 0 };
      const write = async (bytes: Uint8Array) => {
        pcap?.tcp(nowNs(), local, remote, bytes);
        lastSend = performance.now();
        let full = false;
        for (const c of clients) if (!c.write(bytes)) full = true;
        if (full && clients.length) {
          const c = clients[0];
          await new Promise((res) => {
            c.once('drain', res);
            c.once('close', res);
          });
        }
      };
      const heartbeat = () => write(soupPacket('H'));
      for (;;) {
        if (o.signal?.aborted || clients.length === 0) break;
        await pace(r.messages_sent, heartbeat);
        const msgs = nextBatch();
        if (!msgs) break;
        await write(soupSequenced(msgs));
        account(msgs, true);
      }
      await write(soupPacket('Z'));
      // Let the clients read to the end and hang up (or give up after a second).
      let t2: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(clients.map((c) => new Promise((res) => c.once('close', res)))), new Promise((res) => (t2 = setTimeout(res, 1000)))]);
      clearTimeout(t2);
    } finally {
      for (const c of clients) c.destroy();
      await new Promise((res) => server.close(() => res(undefined)));
    }
  }
}
