/**
 * A filter expression on the feed (`wirewasm feed ... EXPRESSION`), compiled by libpcap
 * (host/filter). Where it runs depends on the backend:
 *   afpacket          the BPF is attached to the socket (SO_ATTACH_FILTER): the kernel keeps
 *                     rejected packets off the ring, so the feed never sees (nor counts) them;
 *   afxdp, dpdk, pcap the translated WASM filter judges each burst before the ITCH decode, in one
 *                     filterBurst call; the frames it rejects are released with the burst and
 *                     counted `filtered`;
 *   socket, io_uring  the kernel hands over UDP payloads, no frames: an expression is refused.
 *
 * Scratch (`area`, FEED_FILTER_BYTES): | verdicts: 256 u32 | accepted: 256 u32 meta addresses |
 * The accepted list is a copy: the backend's own rx list stays as it was for its release.
 */
import { statSync } from 'node:fs';
import { Filter, compileExpression, encodeBpf, type FilterInstance } from '../filter/index.js';
import { META } from '../meta.js';
import { CaptureReader } from '../pcap/index.js';
import { FeedError, type FeedBackendName } from './options.js';

/** The backends that take an expression: those that receive whole frames. */
export const FILTER_BACKENDS: readonly FeedBackendName[] = ['afpacket', 'afxdp', 'dpdk', 'pcap'];
/** Frames a burst holds at most (the plugin host's maxBurst). */
export const FEED_FILTER_MAX_BURST = 256;
export const FEED_FILTER_BYTES = 2 * 4 * FEED_FILTER_MAX_BURST;

/** Throws when `backend` cannot take a filter expression, naming the backends that can. */
export function feedFilterCheck(backend: FeedBackendName, expression: string): void {
  if (FILTER_BACKENDS.includes(backend)) return;
  throw new FeedError(
    `filter "${expression}": --backend ${backend} receives UDP datagrams from a socket, with no frames to filter; ` +
      `a filter expression takes --backend ${FILTER_BACKENDS.join(', ')} (e.g. --backend afpacket --iface IF), or give no expression`,
  );
}

/** The BPF for the kernel (afpacket), as the afpacket backend's `filter` option takes it. */
export function kernelFilter(expression: string): Uint8Array {
  return encodeBpf(compileExpression(expression, { linktype: 1 }));
}

/**
 * The link type of the first record of a capture file, so the expression is compiled for it (and a
 * bad one refused) before the feed starts; undefined for a pipe (read once, by the backend) or a
 * file that cannot be read (the backend names the problem).
 */
export function captureLinktype(file: string): number | undefined {
  let reader: CaptureReader | undefined;
  try {
    if (file === '-' || !statSync(file).isFile()) return undefined;
    reader = CaptureReader.open(file);
    return reader.next()?.linktype;
  } catch {
    return undefined;
  } finally {
    reader?.close();
  }
}

export class FeedFilter {
  /** Frames rejected here (afxdp, dpdk, pcap). */
  filtered = 0;
  /** Address of the accepted frames' meta list that apply() fills. */
  readonly list: number;
  private readonly verdicts: number;
  private readonly byLinktype = new Map<number, FilterInstance>();
  private u32: Uint32Array;
  private u16: Uint16Array;

  /**
   * `linktype`: the frames' link type when the backend knows it (afxdp, dpdk: Ethernet); undefined
   * reads it from each frame's metadata (pcap: the capture's interfaces), compiling the expression
   * for a link type when it first appears, as libpcap would for that interface.
   */
  constructor(
    readonly expression: string,
    private readonly memory: WebAssembly.Memory,
    area: number,
    private readonly linktype?: number,
  ) {
    this.verdicts = area;
    this.list = area + 4 * FEED_FILTER_MAX_BURST;
    this.u32 = new Uint32Array(memory.buffer);
    this.u16 = new Uint16Array(memory.buffer);
    if (linktype !== undefined) this.instance(linktype);
  }

  private instance(linktype: number): FilterInstance {
    let f = this.byLinktype.get(linktype);
    if (!f) {
      f = Filter.compile(this.expression, { linktype }).instantiate(this.memory);
      this.byLinktype.set(linktype, f);
    }
    return f;
  }

  /** Compiles the expression for `linktype` now (libpcap's FilterError when it does not compile for it). */
  prepare(linktype: number): void {
    this.instance(linktype);
  }

  /** Judges the `n` frames whose meta addresses are at `src`; returns how many of them `list` holds. */
  apply(src: number, n: number): number {
    if (n > FEED_FILTER_MAX_BURST) throw new RangeError(`feed filter: a burst of ${n} frames; ${FEED_FILTER_MAX_BURST} at most`);
    if (this.u32.buffer !== this.memory.buffer) {
      this.u32 = new Uint32Array(this.memory.buffer);
      this.u16 = new Uint16Array(this.memory.buffer);
    }
    const { u32, u16 } = this;
    const s = src >> 2;
    const v = this.verdicts >> 2;
    const first = this.linktype ?? u16[(u32[s] + META.LINKTYPE) >> 1];
    let mixed = false;
    if (this.linktype === undefined) for (let i = 1; i < n && !mixed; i++) mixed = u16[(u32[s + i] + META.LINKTYPE) >> 1] !== first;
    if (!mixed) this.instance(first).filterBurst(src, n, 0, this.verdicts);
    else
      // Frames of several interfaces in one burst (a pcapng file): each judged by its own link type's filter.
      for (let i = 0; i < n; i++) {
        const m = u32[s + i];
        u32[v + i] = this.instance(u16[(m + META.LINKTYPE) >> 1]).filter(u32[(m + META.DATA) >> 2], u32[(m + META.CAPLEN) >> 2], u32[(m + META.WIRELEN) >> 2]);
      }
    const l = this.list >> 2;
    let k = 0;
    for (let i = 0; i < n; i++) if (u32[v + i] !== 0) u32[l + k++] = u32[s + i];
    this.filtered += n - k;
    return k;
  }
}
