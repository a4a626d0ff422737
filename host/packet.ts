// A zero-copy view of one parsed frame: the metadata record and the frame bytes, read in place in
// the shared memory when a getter is called. Nothing is copied or decoded up front, and one
// Packet can be re-pointed at another record (`at`) so walking a burst allocates no views.
import { META, OFFSET_NONE, VLAN_NONE } from './meta.js';
import * as P from './ptype.js';

const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100, 0x9200]);
const IPV6_EXT = new Set([0, 43, 60, 135, 44, 51]);

export interface EthFields { src: string; dst: string; type?: number }
export interface IpFields { v: 4 | 6; src: string; dst: string; proto: number; ttl: number; frag?: { offset: number; more: boolean; id: number } }
/** `TcpFields.flags`: the 9 flag bits of the TCP header (RFC 9293; AE is RFC 3540's NS), e.g. `tcp.flags & TCP_FLAGS.SYN`. */
export const TCP_FLAGS = { FIN: 0x001, SYN: 0x002, RST: 0x004, PSH: 0x008, ACK: 0x010, URG: 0x020, ECE: 0x040, CWR: 0x080, AE: 0x100 } as const;
export type TcpFlag = keyof typeof TCP_FLAGS;

export interface TcpFields { sport: number; dport: number; /** Bits of TCP_FLAGS. */ flags: number; seq: number; ack: number; win: number }
export interface UdpFields { sport: number; dport: number; len: number }
export interface IcmpFields { type: number; code: number }
export interface ArpFields { op: number; spa?: string; tpa?: string }
export interface InnerFields { eth?: EthFields; vlan?: number[]; arp?: ArpFields; ip?: IpFields; tcp?: TcpFields; udp?: UdpFields; icmp?: IcmpFields; icmpv6?: IcmpFields }

const hex2 = (b: number) => (b < 16 ? '0' : '') + b.toString(16);

export function formatMac(b: Uint8Array, off: number): string {
  return `${hex2(b[off])}:${hex2(b[off + 1])}:${hex2(b[off + 2])}:${hex2(b[off + 3])}:${hex2(b[off + 4])}:${hex2(b[off + 5])}`;
}

export function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (first if tied) of 2+ zero groups as "::". */
export function formatIpv6(b: Uint8Array, off: number): string {
  const group = (i: number) => (b[off + 2 * i] << 8) | b[off + 2 * i + 1];
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (group(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group(j) === 0) j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j;
  }
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail, as RFC 5952 section 5 recommends.
  if (best === 0 && bestLen === 5 && group(5) === 0xffff) return `::ffff:${formatIpv4(b, off + 12)}`;
  // Built by concatenation, no arrays: addresses are formatted once per frame.
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += group(i).toString(16);
  }
  return s;
}

export class Packet {
  private u8: Uint8Array;
  private dv: DataView;

  /** A view over `buffer` (the shared memory's buffer) of the record at `meta`. */
  constructor(
    buffer: ArrayBufferLike,
    public meta = 0,
  ) {
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
  }

  /** Re-points this view at another record; returns this. */
  at(meta: number): this {
    this.meta = meta;
    return this;
  }

  private m16(off: number): number {
    return this.dv.getUint16(this.meta + off, true);
  }
  private m32(off: number): number {
    return this.dv.getUint32(this.meta + off, true);
  }
  private offset(field: number): number | undefined {
    const v = this.m16(field);
    return v === OFFSET_NONE ? undefined : v;
  }
  /** Frame byte at `off` (from the first captured byte). */
  private b(off: number): number {
    return this.u8[this.data + off];
  }
  private be16(off: number): number {
    return this.dv.getUint16(this.data + off, false);
  }
  private be32(off: number): number {
    return this.dv.getUint32(this.data + off, false);
  }

  get data(): number { return this.m32(META.DATA); }
  get caplen(): number { return this.m32(META.CAPLEN); }
  get wireLength(): number { return this.m32(META.WIRELEN); }
  get linktype(): number { return this.m16(META.LINKTYPE); }
  get timestampNs(): bigint { return this.dv.getBigUint64(this.meta + META.TIMESTAMP, true); }
  get ptype(): number { return this.m32(META.PTYPE); }
  get errors(): number { return this.m32(META.ERRORS); }
  get hash(): number { return this.m32(META.HASH); }
  get l2(): number | undefined { return this.offset(META.L2); }
  get l3(): number | undefined { return this.offset(META.L3); }
  get l4(): number | undefined { return this.offset(META.L4); }
  get payload(): number | undefined { return this.offset(META.PAYLOAD); }
  get innerL3(): number | undefined { return this.offset(META.INNER_L3); }
  get innerL4(): number | undefined { return this.offset(META.INNER_L4); }
  get vlan0(): number | undefined { const v = this.m16(META.VLAN0); return v === VLAN_NONE ? undefined : v; }
  get vlan1(): number | undefined { const v = this.m16(META.VLAN1); return v === VLAN_NONE ? undefined : v; }
  /** The captured bytes: a view into the shared memory, not a copy. */
  get bytes(): Uint8Array { return this.u8.subarray(this.data, this.data + this.caplen); }

  private get isEthernet(): boolean {
    const l2 = this.ptype & P.PTYPE_L2_MASK;
    return l2 !== 0 && l2 !== P.PTYPE_L2_SLL && l2 !== P.PTYPE_L2_SLL2 && l2 !== P.PTYPE_L2_NULL;
  }

  /** Ethernet addresses and the final EtherType (after VLAN tags and SNAP); undefined if not Ethernet. */
  get eth(): EthFields | undefined {
    if (!this.isEthernet) return undefined;
    return this.ethAt(0);
  }

  private ethAt(o: number): EthFields {
    const base = this.data + o;
    let type: number | undefined = this.be16(o + 12);
    let off = o + 14;
    for (let i = 0; i < 8 && VLAN_TPIDS.has(type) && off + 4 <= this.caplen; i++) (type = this.be16(off + 2)), (off += 4);
    // 802.3 length: an EtherType only in SNAP with a zero OUI (RFC 1042), as the parser decides.
    if (type < 0x0600)
      type = off + 8 <= this.caplen && this.be32(off) === 0xaaaa0300 && this.be16(off + 4) === 0 ? this.be16(off + 6) : undefined;
    return { dst: formatMac(this.u8, base), src: formatMac(this.u8, base + 6), ...(type === undefined ? {} : { type }) };
  }

  /** All VLAN ids, outermost first (the metadata keeps the first two; the rest are read here). */
  get vlans(): number[] {
    if (!this.isEthernet || this.vlan0 === undefined) return [];
    return this.vlansAt(0);
  }

  /** VLAN ids of the Ethernet header at `o`, outermost first. */
  private vlansAt(o: number): number[] {
    const ids: number[] = [];
    for (let off = o + 14; ids.length < 8 && off + 4 <= this.caplen && VLAN_TPIDS.has(this.be16(off - 2)); off += 4) ids.push(this.be16(off) & 0x0fff);
    return ids;
  }

  /** ARP operation, and the protocol addresses when the whole message was captured. */
  get arp(): ArpFields | undefined {
    if ((this.ptype & P.PTYPE_L3_MASK) !== 0 || this.l3 === undefined) return undefined;
    return this.arpAt(this.l3);
  }

  private arpAt(o: number): ArpFields {
    const hlen = this.b(o + 4);
    const plen = this.b(o + 5);
    const op = this.be16(o + 6);
    if (o + 8 + 2 * (hlen + plen) > this.caplen) return { op };
    const pro = this.be16(o + 2);
    // Dotted quads for IPv4 (and AX.25's IP, 0xcc) as tshark decides; hex for anything else.
    const addr = (at: number) => (plen === 4 && (pro === 0x0800 || pro === 0xcc) ? formatIpv4(this.u8, this.data + at) : [...this.u8.subarray(this.data + at, this.data + at + plen)].map(hex2).join(':'));
    return { op, spa: addr(o + 8 + hlen), tpa: addr(o + 8 + 2 * hlen + plen) };
  }

  /** Outer IP header fields; undefined when there is no (captured) IP header. */
  get ip(): IpFields | undefined {
    return this.ipAt(this.l3, this.ptype & P.PTYPE_L3_MASK);
  }

  private ipAt(o: number | undefined, l3type: number): IpFields | undefined {
    if (o === undefined || l3type === 0) return undefined;
    const v = this.b(o) >> 4;
    if (v === 4) {
      const frag = this.be16(o + 6);
      const ip: IpFields = { v: 4, src: formatIpv4(this.u8, this.data + o + 12), dst: formatIpv4(this.u8, this.data + o + 16), proto: this.b(o + 9), ttl: this.b(o + 8) };
      if (frag & 0x3fff) ip.frag = { offset: (frag & 0x1fff) * 8, more: (frag & 0x2000) !== 0, id: this.be16(o + 4) };
      return ip;
    }
    const ip: IpFields = { v: 6, src: formatIpv6(this.u8, this.data + o + 8), dst: formatIpv6(this.u8, this.data + o + 24), proto: 0, ttl: this.b(o + 7) };
    // The upper-layer protocol: the next header after the extension headers (bounded walk).
    let nh = this.b(o + 6);
    let q = o + 40;
    for (let depth = 0; depth <= 8 && IPV6_EXT.has(nh) && q + 8 <= this.caplen; depth++) {
      const next = this.b(q);
      if (nh === 44) {
        const fo = this.be16(q + 2);
        ip.frag = { offset: fo & 0xfff8, more: (fo & 1) !== 0, id: this.be32(q + 4) };
        q += 8;
      } else q += nh === 51 ? (this.b(q + 1) + 2) * 4 : (this.b(q + 1) + 1) * 8;
      nh = next;
    }
    ip.proto = nh;
    return ip;
  }

  private tcpAt(o: number): TcpFields {
    return { sport: this.be16(o), dport: this.be16(o + 2), flags: ((this.b(o + 12) & 0x0f) << 8) | this.b(o + 13), seq: this.be32(o + 4), ack: this.be32(o + 8), win: this.be16(o + 14) };
  }
  private udpAt(o: number): UdpFields {
    return { sport: this.be16(o), dport: this.be16(o + 2), len: this.be16(o + 4) };
  }

  get tcp(): TcpFields | undefined {
    const o = this.l4;
    return o !== undefined && (this.ptype & P.PTYPE_L4_MASK) === P.PTYPE_L4_TCP ? this.tcpAt(o) : undefined;
  }
  get udp(): UdpFields | undefined {
    const o = this.l4;
    return o !== undefined && (this.ptype & P.PTYPE_L4_MASK) === P.PTYPE_L4_UDP ? this.udpAt(o) : undefined;
  }
  /** ICMP (IPv4, protocol 1) or ICMPv6 (protocol 58) type and code, by the IP protocol carrying it. */
  get icmp(): { kind: 'icmp' | 'icmpv6'; type: number; code: number } | undefined {
    const o = this.l4;
    if (o === undefined || (this.ptype & P.PTYPE_L4_MASK) !== P.PTYPE_L4_ICMP) return undefined;
    const proto = this.ip!.proto;
    return { kind: proto === 58 ? 'icmpv6' : 'icmp', type: this.b(o), code: this.b(o + 1) };
  }

  /** The tunnel and, when it carries a key or VNI, that value. */
  get tunnel(): { type: 'gre' | 'vxlan' | 'geneve' | 'ipip'; vni?: number; innerEth?: number } | undefined {
    const t = this.ptype & P.PTYPE_TUNNEL_MASK;
    const o = this.l4;
    if (t === 0 || o === undefined) return undefined;
    const hasInnerEth = (this.ptype & P.PTYPE_INNER_L2_MASK) !== 0;
    if (t === P.PTYPE_TUNNEL_IP) return { type: 'ipip' };
    if (t === P.PTYPE_TUNNEL_VXLAN) return { type: 'vxlan', vni: this.be32(o + 12) >>> 8, ...(hasInnerEth ? { innerEth: o + 16 } : {}) };
    if (t === P.PTYPE_TUNNEL_GENEVE) {
      const h = 8 + (this.b(o + 8) & 0x3f) * 4;
      return { type: 'geneve', vni: this.be32(o + 12) >>> 8, ...(hasInnerEth ? { innerEth: o + 8 + h } : {}) };
    }
    const flags = this.be16(o);
    const cr = flags & 0xc000 ? 4 : 0;
    let h = 4 + cr + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    // ERSPAN II (0x88be with a sequence number) and III (0x22eb) put a header before the frame.
    const proto = this.be16(o + 2);
    if (proto === 0x88be && flags & 0x1000) h += 8;
    else if (proto === 0x22eb) h += 12 + (this.b(o + h + 11) & 1 ? 8 : 0);
    return { type: 'gre', ...(flags & 0x2000 && o + 4 + cr + 4 <= this.caplen ? { vni: this.be32(o + 4 + cr) } : {}), ...(hasInnerEth ? { innerEth: o + h } : {}) };
  }

  /** Headers inside the tunnel, as located by the parser. */
  get inner(): InnerFields | undefined {
    const tun = this.tunnel;
    if (!tun) return undefined;
    const innerL3 = this.ptype & P.PTYPE_INNER_L3_MASK;
    const l3type = innerL3 === P.PTYPE_INNER_L3_IPV4 || innerL3 === P.PTYPE_INNER_L3_IPV4_EXT ? P.PTYPE_L3_IPV4 : innerL3 ? P.PTYPE_L3_IPV6 : 0;
    const l4 = (this.ptype & P.PTYPE_INNER_L4_MASK) >>> P.PTYPE_INNER_L4_SHIFT;
    const out: InnerFields = {};
    if (tun.innerEth !== undefined) {
      const eth = (out.eth = this.ethAt(tun.innerEth));
      const vlans = this.vlansAt(tun.innerEth);
      if (vlans.length) out.vlan = vlans;
      // ARP has no inner L3 type of its own: the parser leaves it at none, the EtherType says ARP.
      const arpAt = tun.innerEth + 14 + 4 * vlans.length;
      if (l3type === 0 && eth.type === 0x0806 && arpAt + 8 <= this.caplen) out.arp = this.arpAt(arpAt);
    }
    const ip = this.ipAt(this.innerL3, l3type);
    if (ip) out.ip = ip;
    const o = this.innerL4;
    if (o !== undefined && l4 === P.PTYPE_L4_TCP) out.tcp = this.tcpAt(o);
    if (o !== undefined && l4 === P.PTYPE_L4_UDP) out.udp = this.udpAt(o);
    if (o !== undefined && l4 === P.PTYPE_L4_ICMP && ip) out[ip.proto === 58 ? 'icmpv6' : 'icmp'] = { type: this.b(o), code: this.b(o + 1) };
    return Object.keys(out).length ? out : undefined;
  }
}
