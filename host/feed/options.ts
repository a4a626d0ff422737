/**
 * What `wirewasm feed` is asked for and what it answers: the backend and plugin names, the client's
 * options, its report and its error type. Kept apart from client.ts (which runs the client) so the
 * CLI and tests that only name these types need not read the receive loop.
 */
import type { PluginStats } from '../plugins/index.js';
import type { BookConfig, BookCounters, BookRecord, BookView, OrderBook } from './book.js';
import type { LINE_COUNTERS } from './itch.js';
import type { MessageView } from './messages.js';
import type { FeedTransport } from './sim.js';

export type FeedBackendName = 'socket' | 'io_uring' | 'afpacket' | 'afxdp' | 'pcap' | 'dpdk';
export const FEED_BACKENDS: readonly FeedBackendName[] = ['socket', 'io_uring', 'afpacket', 'afxdp', 'pcap', 'dpdk'];
/** Backends that deliver whole frames: the engine's parser finds the UDP/TCP payload before the plugin. */
export const FRAME_BACKENDS = new Set<FeedBackendName>(['afpacket', 'afxdp', 'pcap', 'dpdk']);
export type FeedPluginName = 'itch' | 'soupbintcp-itch';

/** The largest UDP payload (65,535 − 20 IPv4 − 8 UDP): how long a MoldUDP64 datagram can be. */
export const MAX_DATAGRAM = 65_507;

/** The kernel's XDP headroom ahead of a packet in an AF_XDP frame (copy mode). */
const XDP_HEADROOM = 256;
/** Ethernet header and one VLAN tag: what a frame holds beyond the MTU. */
const L2_BYTES = 18;

/**
 * Bytes per frame: a whole datagram must fit one, so UDP on the payload backends (socket,
 * io_uring: datagrams arrive reassembled) and pcap replay get 64 KiB frames; a TCP stream is
 * handed over in frame-sized pieces (the plugin reassembles), so 2 KiB is enough. afpacket
 * (TPACKET_V3) hands over each packet where the kernel wrote it in its block, whatever the frame
 * size, so an interface MTU up to 64 KiB brings datagrams up to 64 KiB whole. afxdp puts a packet
 * in one UMEM frame: 2 KiB, or 4 KiB when the interface `mtu` needs it; a larger MTU is refused
 * (feedFrameCheck), since the kernel would drop the packets that do not fit, uncounted by us.
 */
export function feedFrameSize(backend: FeedBackendName, transport: FeedTransport, mtu = 1500): number {
  if (backend === 'afxdp') return mtu + L2_BYTES + XDP_HEADROOM <= 2048 ? 2048 : 4096;
  return transport !== 'tcp' && (!FRAME_BACKENDS.has(backend) || backend === 'pcap') ? 65_536 : 2048;
}

/** Throws a FeedError when an interface of MTU `mtu` brings packets a `frameSize` frame cannot hold. */
export function feedFrameCheck(backend: FeedBackendName, iface: string, mtu: number, frameSize: number): void {
  if (backend !== 'afxdp' || mtu + L2_BYTES + XDP_HEADROOM <= frameSize) return;
  const most = frameSize - L2_BYTES - XDP_HEADROOM;
  throw new FeedError(
    `--backend afxdp on ${iface}: its MTU ${mtu} lets through packets larger than an AF_XDP frame holds (${frameSize} bytes, ${most} of them for the IP packet); ` +
      `lower the MTU to ${most} or less (ip link set dev ${iface} mtu ${most}), or use --backend afpacket, which takes packets up to 64 KiB`,
  );
}

export interface FeedClientOptions {
  backend: FeedBackendName;
  transport: FeedTransport;
  /** udp: local address to bind (default 0.0.0.0); udp-multicast: interface address to join on; tcp: the server. */
  host: string;
  port: number;
  group?: string;
  iface?: string;
  netns?: string;
  /** pcap: the capture to replay (e.g. feed-sim -w). */
  file?: string;
  /** dpdk: the DPDK port ("net_af_packet0,iface=eth0", "net_af_xdp0,iface=eth0" or a PCI address; docs/dpdk.md). */
  dpdkPort?: string;
  /** Default: itch for udp transports, soupbintcp-itch for tcp. */
  plugin?: FeedPluginName;
  /**
   * A filter expression as tcpdump takes it (pcap-filter(7)), on the frame backends only
   * (feed/filter.ts): afpacket runs it in the kernel, afxdp, dpdk and pcap before the decode.
   */
  filter?: string;
  /** Seconds to run at most (default: until the session ends). */
  duration?: number;
  /** Stop when every session seen has ended (default true). */
  untilEnd?: boolean;
  /** Compute the stream digest (host/feed/itch.ts StreamDigest). */
  digest?: boolean;
  /** Frames in the pool (default 4096) and bytes per frame (default feedFrameSize). */
  frames?: number;
  frameSize?: number;
  burst?: number;
  signal?: AbortSignal;
  /**
   * MoldUDP64 re-request server (e.g. feed-sim --rerequest-port): each gap is asked for again and
   * the answers go through the same plugin (they count as late). socket and io_uring backends.
   */
  rerequest?: { host: string; port: number };
  /** tcp: SoupBinTCP login (default "wwfeed", no password). */
  user?: string;
  password?: string;
  /** tcp: keep retrying a refused connection this long (ms, default 0: fail at once). */
  connectRetryMs?: number;
  /**
   * Where a MoldUDP64 session starts for this client: 'first' (default) takes the first sequence
   * seen as the baseline (reported); 1 expects the start of day, so a client joining later has a
   * gap from 1 up to the first seen (re-requested with `rerequest`).
   */
  startSeq?: 'first' | 1;
  /**
   * Each batch of decoded messages (feed/itch/itch50.ts record layout; read it with
   * MessageView), with the session names by slot. Called once per burst. The batch is a copy of
   * its own, made only for this callback: a reader on the hot path takes onMessageView instead.
   */
  onMessages?: (batch: Uint8Array, sessions: readonly string[]) => void;
  /**
   * The same batches as a zero-copy cursor over the plugin's output (one MessageView, reset for
   * each batch, valid during the call): nothing is allocated per batch. Called before the book
   * applies the batch (onBookView / onBook follow for the same batch); `rewind()` reads it again.
   */
  onMessageView?: (view: MessageView) => void;
  /**
   * A/B arbitration: the same session also arrives here (line B; this client's host/port/group is
   * line A). Same backend (socket or io_uring). First arrival wins; a gap only when both miss.
   */
  lineB?: { host: string; port: number; group?: string; iface?: string };
  /**
   * A/B: a line silent this long (ms) is dead: what only it could still bring becomes a gap (and is
   * re-requested) instead of waiting for the end of the session. Default 500.
   */
  lineTimeoutMs?: number;
  /** Keep an order book (in the shared memory) with these limits. */
  book?: BookConfig;
  /** The book's BBO changes and trades of each batch (when `book` is given and there are any). */
  onBook?: (records: BookRecord[], book: OrderBook) => void;
  /**
   * The same BBO changes and trades as a zero-allocation cursor (OrderBook.view(), valid during the
   * call): for a reader on the hot path, which then makes no garbage per record.
   */
  onBookView?: (view: BookView, book: OrderBook) => void;
  /** Called about once a second with the statistics so far. */
  onProgress?: (s: FeedReport) => void;
  /** Called once the backend is receiving (the simulator can start). */
  onReady?: () => void;
}

export interface FeedReport {
  backend: string;
  /** pcap: the damage that ended the capture (file, record, byte offset); the packets before it were read. */
  input_problem?: string;
  transport: FeedTransport;
  plugin: string;
  seconds: number;
  messages: number;
  messages_per_s: number;
  gaps: number;
  gap_events: number;
  duplicates: number;
  late: number;
  malformed: number;
  /** The filter expression, when one was given. */
  filter?: string;
  /**
   * Frames the filter expression rejected before the decode (afxdp, dpdk, pcap): received
   * (backend_stats.rx) = packets decoded + filtered + the other drops counted. On afpacket the
   * kernel rejects them before the ring: neither received nor counted here.
   */
  filtered: number;
  /** Messages of a known type longer than its spec size, decoded by their known part. */
  extended: number;
  packets: number;
  bad_packets: number;
  /**
   * Frame backends: IP fragments received. The feed does not reassemble IP: the first fragment of
   * a datagram reaches the plugin cut short (a bad packet whose missing messages open a gap a
   * re-request fills), the other fragments are dropped here, counted.
   */
  ip_fragments: number;
  heartbeats: number;
  end_of_session: number;
  sessions: string[];
  /** The first sequence number seen of each session (its baseline), by session name. */
  baseline: Record<string, number>;
  latency_ns: { p50: number; p99: number; p999: number; max: number; negative: number };
  by_type: Record<string, number>;
  /** Gap ranges [first, count], in the order found (the first 1000). */
  gap_list: [number, number][];
  /** Re-request packets sent, and gap messages still missing (asked for, not yet received). */
  rerequests: number;
  outstanding: number;
  digest?: string;
  /** With lineB: per line, messages received, first arrivals, late copies (the other line was first), lost. */
  lines?: Record<'a' | 'b', Record<(typeof LINE_COUNTERS)[number], number>>;
  /** With lineB: how many times a line was found silent past lineTimeoutMs (its pending ranges became gaps). */
  dead_lines?: number;
  /** The order book's counters (with `book`). */
  book?: BookCounters & { orders: number; symbols: number };
  backend_stats: unknown;
  plugins: PluginStats[];
}

export class FeedError extends Error {}
