// The frame parser: link-type entry points, the L3/L4/tunnel walk and the burst loop.
//
// parseFrame reads data/caplen/linktype from a frame's metadata record (assembly/meta.ts) and fills
// ptype, the layer offsets, VLAN ids, errors and (on request) the RSS hash. Rules that hold for
// every input byte sequence (tests/parser-fuzz.test.ts checks them on millions of frames):
//  - no read at or past data + caplen: each header is checked to be captured before it is read;
//  - no trap, no allocation: truncation and nonsense are error flags (assembly/parse/ptype.ts);
//  - an offset is set only when that header's fixed part was captured; OFFSET_NONE otherwise;
//  - payload is the first byte after the innermost decoded header.
// Each parse step returns outcome(ptype bits, error bits) packed in one u64 and ORs them upward.

import { META_CAPLEN, META_DATA, META_HASH, META_INNER_L3, META_L2, META_L3, META_L4, META_LINKTYPE, META_PAYLOAD, META_PTYPE, META_VLAN0 } from '../meta';
import {
  ERR_BAD_IP_CSUM, ERR_BAD_L3, ERR_BAD_L4, ERR_BAD_L4_CSUM, ERR_CSUM_CHECKED, ERR_DEPTH, ERR_FRAGMENT, ERR_L3_LEN_CAPLEN, ERR_TRUNC_INNER,
  ERR_TRUNC_L2, ERR_TRUNC_L3, ERR_TRUNC_L4, ERR_TRUNC_TUNNEL, ERR_UNKNOWN_L3, ERR_UNKNOWN_L4, ERR_UNKNOWN_LINK, LINKTYPE_DLT_RAW,
  LINKTYPE_DLT_RAW_OPENBSD, LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL,
  LINKTYPE_RAW, PARSE_RSS, PARSE_SIMD, PARSE_VERIFY_CSUM, PTYPE_INNER_L2_ETHER, PTYPE_INNER_L2_ETHER_QINQ, PTYPE_INNER_L2_ETHER_VLAN,
  PTYPE_INNER_L3_IPV4, PTYPE_INNER_L3_IPV4_EXT, PTYPE_INNER_L3_IPV6, PTYPE_INNER_L3_IPV6_EXT, PTYPE_INNER_L4_SHIFT, PTYPE_L2_ETHER,
  PTYPE_L2_ETHER_ARP, PTYPE_L2_ETHER_LLC, PTYPE_L2_ETHER_LLDP, PTYPE_L2_ETHER_MPLS, PTYPE_L2_ETHER_PPPOE, PTYPE_L2_ETHER_QINQ, PTYPE_L2_ETHER_VLAN,
  PTYPE_L2_MASK, PTYPE_L2_NULL, PTYPE_L2_SLL, PTYPE_L2_SLL2, PTYPE_L3_IPV4, PTYPE_L3_IPV4_EXT, PTYPE_L3_IPV6, PTYPE_L3_IPV6_EXT, PTYPE_L3_MASK,
  PTYPE_L4_FRAG, PTYPE_L4_ICMP, PTYPE_L4_IGMP, PTYPE_L4_MASK, PTYPE_L4_SCTP, PTYPE_L4_TCP, PTYPE_L4_UDP, PTYPE_TUNNEL_GENEVE, PTYPE_TUNNEL_GRE,
  PTYPE_TUNNEL_IP, PTYPE_TUNNEL_VXLAN,
} from './ptype';
import { be16, outcome, u8at } from './proto/wire';
import { ETH_HEADER_LEN, ETH_TYPE, ETH_TYPE_MIN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_LLDP, ETHERTYPE_RARP, ETHERTYPE_TEB, LLC_CTRL, LLC_CTRL_UI, LLC_HEADER_LEN, LLC_SAP_SNAP, LLC_SSAP, SNAP_HEADER_LEN, SNAP_TYPE } from './proto/ethernet';
import { isVlanTpid, VLAN_MAX_DEPTH, VLAN_TAG_LEN, VLAN_TYPE, VLAN_VID_MASK } from './proto/vlan';
import { ARP_FIXED_LEN, arpLength } from './proto/arp';
import {
  IPPROTO_AH, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IGMP, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_NONE,
  IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPV4_FRAG, IPV4_FRAG_OFFSET_MASK, IPV4_MIN_LEN, IPV4_PROTO, IPV4_SRC, IPV4_TOTAL_LEN,
} from './proto/ipv4';
import { isIpv6ExtLen8, IPV6_FRAG_LEN, IPV6_FRAG_OFFSET, IPV6_FRAG_OFFSET_MASK, IPV6_HEADER_LEN, IPV6_MAX_EXT, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN, IPV6_SRC } from './proto/ipv6';
import { TCP_MIN_LEN, tcpFindOption, tcpHeaderLen } from './proto/tcp';
import { UDP_CSUM, UDP_DPORT, UDP_HEADER_LEN, UDP_LEN, UDP_PORT_GENEVE, UDP_PORT_VXLAN } from './proto/udp';
import { ICMP_HEADER_LEN, ICMP_MIN_LEN } from './proto/icmp';
import { GENEVE_MIN_LEN, GENEVE_PROTO, geneveHeaderLen } from './proto/geneve';
import { GRE_FLAG_SEQ, GRE_FLAGS, GRE_MIN_LEN, GRE_PROTO, GRE_VERSION_MASK, greHeaderLen } from './proto/gre';
import { ERSPAN_II_LEN, ERSPAN_III_FLAGS, ERSPAN_III_LEN, ERSPAN_III_O, ERSPAN_III_PLATFORM_LEN, GRE_PROTO_ERSPAN_II, GRE_PROTO_ERSPAN_III } from './proto/erspan';
import { VXLAN_HEADER_LEN } from './proto/vxlan';
import { SLL_HEADER_LEN, SLL_PROTO_LLC, SLL_PROTOCOL, SLL2_HEADER_LEN, SLL2_PROTOCOL } from './proto/sll';
import { ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST, MPLS_BOS, MPLS_BOS_BYTE, MPLS_ENTRY_LEN, MPLS_MAX_DEPTH } from './proto/mpls';
import { ETHERTYPE_PPPOE_SESSION, PPP_IPV4, PPP_IPV6, PPPOE_HEADER_LEN, PPPOE_PPP_PROTO } from './proto/pppoe';
import { csumFold, csumPartial, csumPartialSimd, csumWord } from './checksum';
import { rssHashMeta } from './rss';

/** Distance from an outer offset field to its inner twin: META_INNER_L3 - META_L3 = META_INNER_L4 - META_L4. */
const INNER: usize = META_INNER_L3 - META_L3;

/** Parses one frame described by the metadata record at `meta`; returns its packet type. */
export function parseFrame(meta: usize, flags: u32, rssTable: usize): u32 {
  parseOne(meta, flags, rssTable);
  return load<u32>(meta, META_PTYPE);
}

// The whole common path (Ethernet, VLAN, IPv4/IPv6, TCP/UDP/ICMP) is inlined into the burst loops:
// V8 does not inline WASM calls, and a call per layer costs as much as the parsing itself.
@inline
function parseOne(meta: usize, flags: u32, rssTable: usize): u32 {
  const data = <usize>load<u32>(meta, META_DATA);
  const caplen = load<u32>(meta, META_CAPLEN);
  const linktype = <u32>load<u16>(meta, META_LINKTYPE);
  store<u64>(meta, -1, META_L2); // l2, l3, l4, payload = OFFSET_NONE
  store<u64>(meta, -1, META_INNER_L3); // inner l3, inner l4, vlan0, vlan1 = NONE
  const r = linktype == LINKTYPE_ETHERNET ? parseEthernet(meta, data, caplen) : parseOtherLink(meta, data, caplen, linktype);
  const ptype = <u32>r;
  let errors = <u32>(r >> 32);
  store<u32>(meta, ptype, META_PTYPE);
  let hash: u32 = 0;
  if ((flags & (PARSE_VERIFY_CSUM | PARSE_RSS)) != 0) {
    if ((flags & PARSE_VERIFY_CSUM) != 0) errors |= verifyChecksums(meta, data, ptype, errors, (flags & PARSE_SIMD) != 0);
    if ((flags & PARSE_RSS) != 0) hash = rssHashMeta(meta, rssTable, flags);
  }
  store<u64>(meta, (<u64>errors << 32) | <u64>hash, META_HASH); // hash, errors
  return errors;
}

/** Parses `count` contiguous metadata records from `metaBase`: one call per burst. Returns the count of frames with errors. */
export function parseBurst(metaBase: usize, count: u32, flags: u32, rssTable: usize): u32 {
  let bad: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const meta = metaBase + (<usize>i << 6);
    bad += <u32>(parseOne(meta, flags, rssTable) != 0);
  }
  return bad;
}

/** Parses the frames whose metadata addresses are the `count` u32 at `list` (e.g. a ring burst). */
export function parseList(list: usize, count: u32, flags: u32, rssTable: usize): u32 {
  let bad: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const meta = <usize>load<u32>(list + (<usize>i << 2));
    bad += <u32>(parseOne(meta, flags, rssTable) != 0);
  }
  return bad;
}

// ---- link layers ----------------------------------------------------------------------------

@inline
function parseEthernet(meta: usize, data: usize, caplen: u32): u64 {
  if (caplen < ETH_HEADER_LEN) return outcome(0, ERR_TRUNC_L2);
  store<u16>(meta, 0, META_L2);
  let type = be16(data + ETH_TYPE);
  let off: u32 = ETH_HEADER_LEN;
  let l2: u32 = PTYPE_L2_ETHER;
  if (isVlanTpid(type)) {
    let depth: u32 = 0;
    do {
      if (depth == VLAN_MAX_DEPTH) return outcome(PTYPE_L2_ETHER_QINQ, ERR_DEPTH);
      if (off + VLAN_TAG_LEN > caplen) return outcome(l2, ERR_TRUNC_L2);
      const vid = be16(data + off) & VLAN_VID_MASK;
      if (depth < 2) store<u16>(meta + (<usize>depth << 1), <u16>vid, META_VLAN0);
      type = be16(data + off + VLAN_TYPE);
      off += VLAN_TAG_LEN;
      depth++;
      l2 = depth == 1 ? PTYPE_L2_ETHER_VLAN : PTYPE_L2_ETHER_QINQ;
    } while (isVlanTpid(type));
  }
  if (type < ETH_TYPE_MIN) return parseLlc(meta, data, off, caplen, l2 == PTYPE_L2_ETHER ? PTYPE_L2_ETHER_LLC : l2);
  if (type == ETHERTYPE_ARP && l2 == PTYPE_L2_ETHER) l2 = PTYPE_L2_ETHER_ARP;
  else if (type == ETHERTYPE_LLDP && l2 == PTYPE_L2_ETHER) {
    store<u16>(meta, <u16>off, META_PAYLOAD);
    return outcome(PTYPE_L2_ETHER_LLDP, 0);
  }
  return parseL3(meta, data, off, caplen, type, l2);
}

/** 802.2 LLC after an 802.3 length: SNAP with a zero OUI carries an EtherType; others end here. */
function parseLlc(meta: usize, data: usize, off: u32, caplen: u32, l2: u32): u64 {
  if (off + LLC_HEADER_LEN > caplen) return outcome(l2, ERR_TRUNC_L2);
  const p = data + off;
  if (u8at(p) == LLC_SAP_SNAP && u8at(p + LLC_SSAP) == LLC_SAP_SNAP && u8at(p + LLC_CTRL) == LLC_CTRL_UI) {
    if (off + SNAP_HEADER_LEN > caplen) return outcome(l2, ERR_TRUNC_L2);
    if ((load<u32>(p) & 0xffffff00) == 0) return parseL3(meta, data, off + SNAP_HEADER_LEN, caplen, be16(p + SNAP_TYPE), l2);
    store<u16>(meta, <u16>(off + SNAP_HEADER_LEN), META_PAYLOAD);
    return outcome(l2, ERR_UNKNOWN_L3);
  }
  store<u16>(meta, <u16>(off + LLC_HEADER_LEN), META_PAYLOAD);
  return outcome(l2, ERR_UNKNOWN_L3);
}

/** Linux cooked capture, v1 or v2: the two differ only in header length and where the protocol sits. */
function parseSll(meta: usize, data: usize, caplen: u32, headerLen: u32, protocolAt: usize, l2: u32): u64 {
  if (caplen < headerLen) return outcome(0, ERR_TRUNC_L2);
  store<u16>(meta, 0, META_L2);
  const proto = be16(data + protocolAt);
  if (proto == SLL_PROTO_LLC) return parseLlc(meta, data, headerLen, caplen, l2);
  return parseL3(meta, data, headerLen, caplen, proto, l2);
}

function parseOtherLink(meta: usize, data: usize, caplen: u32, linktype: u32): u64 {
  if (linktype == LINKTYPE_LINUX_SLL) return parseSll(meta, data, caplen, SLL_HEADER_LEN, SLL_PROTOCOL, PTYPE_L2_SLL);
  if (linktype == LINKTYPE_LINUX_SLL2) return parseSll(meta, data, caplen, SLL2_HEADER_LEN, SLL2_PROTOCOL, PTYPE_L2_SLL2);
  if (linktype == LINKTYPE_RAW || linktype == LINKTYPE_DLT_RAW || linktype == LINKTYPE_DLT_RAW_OPENBSD || linktype == LINKTYPE_IPV4 || linktype == LINKTYPE_IPV6) {
    if (caplen < 1) return outcome(0, ERR_TRUNC_L3);
    // The version nibble decides, also for LINKTYPE_IPV4/IPV6: writers mislabel, readers (tshark) cope.
    const v = u8at(data) >> 4;
    if (v == 4) return parseL3(meta, data, 0, caplen, ETHERTYPE_IPV4, 0);
    if (v == 6) return parseL3(meta, data, 0, caplen, ETHERTYPE_IPV6, 0);
    return outcome(0, ERR_BAD_L3);
  }
  if (linktype == LINKTYPE_NULL || linktype == LINKTYPE_LOOP) {
    // A 4-byte address family: host order for NULL (either order in practice), network order for LOOP.
    if (caplen < 4) return outcome(0, ERR_TRUNC_L2);
    store<u16>(meta, 0, META_L2);
    let af = load<u32>(data);
    if (linktype == LINKTYPE_LOOP || (af & 0xffff) == 0) af = bswap<u32>(af);
    if (af == 2) return parseL3(meta, data, 4, caplen, ETHERTYPE_IPV4, PTYPE_L2_NULL);
    if (af == 10 || af == 24 || af == 28 || af == 30) return parseL3(meta, data, 4, caplen, ETHERTYPE_IPV6, PTYPE_L2_NULL);
    return outcome(PTYPE_L2_NULL, ERR_UNKNOWN_L3);
  }
  return outcome(0, ERR_UNKNOWN_LINK);
}

// ---- network layer --------------------------------------------------------------------------

// The parse steps are @inline so that the common walk (link -> L3 -> L4) is one straight
// function. Some steps nest (MPLS and PPPoE carry L3, tunnels carry inner IP): there asc keeps a
// call where the walk re-enters a step it is already inlining, which is what we want, and says
// so with AS217 ("cannot be inlined into itself"). asconfig.json disables that one note, and only
// it: every other warning fails the build (scripts/asc.mjs). Dropping @inline instead costs about
// a third of the hot parse rate (bench parse, wirewasm-parse-hot).
@inline
function parseL3(meta: usize, data: usize, off: u32, caplen: u32, type: u32, l2: u32): u64 {
  let r: u64;
  if (type == ETHERTYPE_IPV4) r = parseIpv4(meta, data, off, caplen, 0);
  else if (type == ETHERTYPE_IPV6) r = parseIpv6(meta, data, off, caplen, 0);
  else if (type == ETHERTYPE_ARP || type == ETHERTYPE_RARP) r = parseArp(meta, data, off, caplen);
  else if (type == ETHERTYPE_MPLS || type == ETHERTYPE_MPLS_MULTICAST) return parseMpls(meta, data, off, caplen, l2);
  else if (type == ETHERTYPE_PPPOE_SESSION) return parsePppoe(meta, data, off, caplen, l2);
  else {
    store<u16>(meta, <u16>off, META_PAYLOAD);
    r = outcome(0, ERR_UNKNOWN_L3);
  }
  return r | <u64>l2;
}

function parseMpls(meta: usize, data: usize, off: u32, caplen: u32, l2: u32): u64 {
  const l2m = (l2 & PTYPE_L2_MASK) == PTYPE_L2_ETHER ? PTYPE_L2_ETHER_MPLS : l2;
  for (let depth: u32 = 0; depth < MPLS_MAX_DEPTH; depth++) {
    if (off + MPLS_ENTRY_LEN > caplen) return outcome(l2m, ERR_TRUNC_L2);
    const bos = u8at(data + off + MPLS_BOS_BYTE) & MPLS_BOS;
    off += MPLS_ENTRY_LEN;
    if (bos != 0) {
      if (off >= caplen) return outcome(l2m, ERR_TRUNC_L3);
      const v = u8at(data + off) >> 4;
      if (v == 4) return parseL3(meta, data, off, caplen, ETHERTYPE_IPV4, l2m);
      if (v == 6) return parseL3(meta, data, off, caplen, ETHERTYPE_IPV6, l2m);
      store<u16>(meta, <u16>off, META_PAYLOAD);
      return outcome(l2m, ERR_UNKNOWN_L3);
    }
  }
  return outcome(l2m, ERR_DEPTH);
}

function parsePppoe(meta: usize, data: usize, off: u32, caplen: u32, l2: u32): u64 {
  const l2p = (l2 & PTYPE_L2_MASK) == PTYPE_L2_ETHER ? PTYPE_L2_ETHER_PPPOE : l2;
  if (off + PPPOE_HEADER_LEN > caplen) return outcome(l2p, ERR_TRUNC_L2);
  const proto = be16(data + off + PPPOE_PPP_PROTO);
  off += PPPOE_HEADER_LEN;
  if (proto == PPP_IPV4) return parseL3(meta, data, off, caplen, ETHERTYPE_IPV4, l2p);
  if (proto == PPP_IPV6) return parseL3(meta, data, off, caplen, ETHERTYPE_IPV6, l2p);
  store<u16>(meta, <u16>off, META_PAYLOAD);
  return outcome(l2p, ERR_UNKNOWN_L3);
}

@inline
function parseArp(meta: usize, data: usize, off: u32, caplen: u32): u64 {
  if (off + ARP_FIXED_LEN > caplen) return outcome(0, ERR_TRUNC_L3);
  store<u16>(meta, <u16>off, META_L3);
  const len = arpLength(data + off);
  if (off + len > caplen) return outcome(0, ERR_TRUNC_L3);
  store<u16>(meta, <u16>(off + len), META_PAYLOAD);
  return 0;
}

/** IPv4 at `off`, bounded by `end`; `inner` is 0 for the outer header or INNER for a tunnelled one. */
@inline
function parseIpv4(meta: usize, data: usize, off: u32, end: u32, inner: usize): u64 {
  if (off + IPV4_MIN_LEN > end) return outcome(0, ERR_TRUNC_L3);
  const p = data + off;
  const vihl = u8at(p);
  const hlen = (vihl & 0x0f) << 2;
  if ((vihl >> 4) != 4 || hlen < IPV4_MIN_LEN) return outcome(0, ERR_BAD_L3);
  store<u16>(meta + inner, <u16>off, META_L3);
  // The fixed header was captured: its fields stand even when the options were cut.
  if (off + hlen > end) return outcome(PTYPE_L3_IPV4_EXT, ERR_TRUNC_L3);
  const ptype = hlen == IPV4_MIN_LEN ? PTYPE_L3_IPV4 : PTYPE_L3_IPV4_EXT;
  let errors: u32 = 0;
  // The payload ends at the total length, not at caplen: Ethernet pads short frames.
  const total = be16(p + IPV4_TOTAL_LEN);
  let stop = off + total;
  if (total < hlen) {
    errors = ERR_BAD_L3;
    stop = end;
  } else if (stop > end) {
    errors = ERR_L3_LEN_CAPLEN;
    stop = end;
  }
  const l4 = off + hlen;
  const frag = be16(p + IPV4_FRAG);
  if ((frag & 0x3fff) != 0) {
    errors |= ERR_FRAGMENT;
    if ((frag & IPV4_FRAG_OFFSET_MASK) != 0) {
      store<u16>(meta, <u16>l4, META_PAYLOAD);
      return outcome(ptype | PTYPE_L4_FRAG, errors);
    }
  }
  return parseL4(meta, data, l4, stop, u8at(p + IPV4_PROTO), inner) | outcome(ptype, errors);
}

@inline
function parseIpv6(meta: usize, data: usize, off: u32, end: u32, inner: usize): u64 {
  if (off + IPV6_HEADER_LEN > end) return outcome(0, ERR_TRUNC_L3);
  const p = data + off;
  if ((u8at(p) >> 4) != 6) return outcome(0, ERR_BAD_L3);
  store<u16>(meta + inner, <u16>off, META_L3);
  let errors: u32 = 0;
  const plen = be16(p + IPV6_PAYLOAD_LEN);
  let stop = off + IPV6_HEADER_LEN + plen;
  let nh = u8at(p + IPV6_NEXT_HEADER);
  // Payload length 0 with a hop-by-hop header: a jumbogram (RFC 2675) or a BIG TCP / segmentation
  // offload capture; the capture bounds it. Without one, the payload is empty, as the header says.
  if (plen == 0 && nh == IPPROTO_HOPOPTS) stop = end;
  else if (stop > end) {
    errors = ERR_L3_LEN_CAPLEN;
    stop = end;
  }
  let q = off + IPV6_HEADER_LEN;
  let ptype = PTYPE_L3_IPV6;
  for (let depth: u32 = 0; ; depth++) {
    let len: u32 = 0;
    if (isIpv6ExtLen8(nh)) {
      if (q + 8 > stop) return outcome(ptype, errors | ERR_TRUNC_L3);
      len = (u8at(data + q + 1) + 1) << 3;
    } else if (nh == IPPROTO_FRAGMENT) {
      if (q + IPV6_FRAG_LEN > stop) return outcome(ptype, errors | ERR_TRUNC_L3);
      errors |= ERR_FRAGMENT;
      if ((be16(data + q + IPV6_FRAG_OFFSET) & IPV6_FRAG_OFFSET_MASK) != 0) {
        store<u16>(meta, <u16>(q + IPV6_FRAG_LEN), META_PAYLOAD);
        return outcome(PTYPE_L3_IPV6_EXT | PTYPE_L4_FRAG, errors);
      }
      len = IPV6_FRAG_LEN;
    } else if (nh == IPPROTO_AH) {
      if (q + 8 > stop) return outcome(ptype, errors | ERR_TRUNC_L3);
      len = (u8at(data + q + 1) + 2) << 2;
    } else break;
    if (depth == IPV6_MAX_EXT) return outcome(ptype, errors | ERR_DEPTH);
    if (q + len > stop) return outcome(PTYPE_L3_IPV6_EXT, errors | ERR_TRUNC_L3);
    nh = u8at(data + q);
    q += len;
    ptype = PTYPE_L3_IPV6_EXT;
  }
  return parseL4(meta, data, q, stop, nh, inner) | outcome(ptype, errors);
}

// ---- transport layer and tunnels ------------------------------------------------------------

@inline
function parseL4(meta: usize, data: usize, off: u32, end: u32, proto: u32, inner: usize): u64 {
  const p = data + off;
  if (proto == IPPROTO_TCP) {
    if (off + TCP_MIN_LEN > end) return outcome(0, ERR_TRUNC_L4);
    store<u16>(meta + inner, <u16>off, META_L4);
    const hlen = tcpHeaderLen(p);
    if (hlen < TCP_MIN_LEN) return outcome(PTYPE_L4_TCP, ERR_BAD_L4);
    if (off + hlen > end) return outcome(PTYPE_L4_TCP, ERR_TRUNC_L4);
    store<u16>(meta, <u16>(off + hlen), META_PAYLOAD);
    return PTYPE_L4_TCP;
  }
  if (proto == IPPROTO_UDP) {
    if (off + UDP_HEADER_LEN > end) return outcome(0, ERR_TRUNC_L4);
    store<u16>(meta + inner, <u16>off, META_L4);
    const payload = off + UDP_HEADER_LEN;
    store<u16>(meta, <u16>payload, META_PAYLOAD);
    // A UDP length below the header's own 8 bytes is nonsense (0 only in a jumbogram, RFC 2675).
    const ulen = be16(p + UDP_LEN);
    if (ulen < UDP_HEADER_LEN && (ulen != 0 || end - off <= 0xffff)) return outcome(PTYPE_L4_UDP, ERR_BAD_L4);
    if (inner == 0) {
      const dport = be16(p + UDP_DPORT);
      if (dport == UDP_PORT_VXLAN) return PTYPE_L4_UDP | parseVxlan(meta, data, payload, end);
      if (dport == UDP_PORT_GENEVE) return PTYPE_L4_UDP | parseGeneve(meta, data, payload, end);
    }
    return PTYPE_L4_UDP;
  }
  if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
    if (off + ICMP_MIN_LEN > end) return outcome(0, ERR_TRUNC_L4);
    store<u16>(meta + inner, <u16>off, META_L4);
    if (off + ICMP_HEADER_LEN <= end) store<u16>(meta, <u16>(off + ICMP_HEADER_LEN), META_PAYLOAD);
    return PTYPE_L4_ICMP;
  }
  if (proto == IPPROTO_SCTP || proto == IPPROTO_IGMP) {
    const hlen: u32 = proto == IPPROTO_SCTP ? 12 : 8;
    if (off + hlen > end) return outcome(0, ERR_TRUNC_L4);
    store<u16>(meta + inner, <u16>off, META_L4);
    store<u16>(meta, <u16>(off + hlen), META_PAYLOAD);
    return proto == IPPROTO_SCTP ? PTYPE_L4_SCTP : PTYPE_L4_IGMP;
  }
  store<u16>(meta, <u16>off, META_PAYLOAD);
  if (inner == 0) {
    if (proto == IPPROTO_GRE) return parseGre(meta, data, off, end);
    if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) {
      store<u16>(meta, <u16>off, META_L4);
      return PTYPE_TUNNEL_IP | parseInnerIp(meta, data, off, end, proto == IPPROTO_IPIP ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
    }
  } else if (proto == IPPROTO_GRE || proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) return 0; // nested tunnels end the walk
  if (proto == IPPROTO_NONE) return 0;
  return outcome(0, ERR_UNKNOWN_L4);
}

function parseGre(meta: usize, data: usize, off: u32, end: u32): u64 {
  if (off + GRE_MIN_LEN > end) return outcome(0, ERR_TRUNC_TUNNEL);
  store<u16>(meta, <u16>off, META_L4);
  const p = data + off;
  const flags = be16(p + GRE_FLAGS);
  const hlen = greHeaderLen(flags);
  if (off + hlen > end) return outcome(PTYPE_TUNNEL_GRE, ERR_TRUNC_TUNNEL);
  store<u16>(meta, <u16>(off + hlen), META_PAYLOAD);
  if ((flags & GRE_VERSION_MASK) != 0) return PTYPE_TUNNEL_GRE;
  const proto = be16(p + GRE_PROTO);
  if (proto == ETHERTYPE_TEB) return PTYPE_TUNNEL_GRE | parseInnerEthernet(meta, data, off + hlen, end);
  if (proto == GRE_PROTO_ERSPAN_II || proto == GRE_PROTO_ERSPAN_III) return PTYPE_TUNNEL_GRE | parseErspan(meta, data, off + hlen, end, proto, flags);
  return PTYPE_TUNNEL_GRE | parseInnerIp(meta, data, off + hlen, end, proto);
}

function parseErspan(meta: usize, data: usize, off: u32, end: u32, proto: u32, greFlags: u32): u64 {
  let hlen: u32 = 0;
  if (proto == GRE_PROTO_ERSPAN_III) {
    if (off + ERSPAN_III_LEN > end) return outcome(0, ERR_TRUNC_TUNNEL);
    hlen = ERSPAN_III_LEN + ((u8at(data + off + ERSPAN_III_FLAGS) & ERSPAN_III_O) != 0 ? ERSPAN_III_PLATFORM_LEN : 0);
  } else if ((greFlags & GRE_FLAG_SEQ) != 0) hlen = ERSPAN_II_LEN;
  if (off + hlen > end) return outcome(0, ERR_TRUNC_TUNNEL);
  store<u16>(meta, <u16>(off + hlen), META_PAYLOAD);
  return parseInnerEthernet(meta, data, off + hlen, end);
}

function parseVxlan(meta: usize, data: usize, off: u32, end: u32): u64 {
  if (off + VXLAN_HEADER_LEN > end) return outcome(0, ERR_TRUNC_TUNNEL);
  store<u16>(meta, <u16>(off + VXLAN_HEADER_LEN), META_PAYLOAD);
  return PTYPE_TUNNEL_VXLAN | parseInnerEthernet(meta, data, off + VXLAN_HEADER_LEN, end);
}

function parseGeneve(meta: usize, data: usize, off: u32, end: u32): u64 {
  if (off + GENEVE_MIN_LEN > end) return outcome(0, ERR_TRUNC_TUNNEL);
  const hlen = geneveHeaderLen(data + off);
  if (off + hlen > end) return outcome(PTYPE_TUNNEL_GENEVE, ERR_TRUNC_TUNNEL);
  store<u16>(meta, <u16>(off + hlen), META_PAYLOAD);
  const proto = be16(data + off + GENEVE_PROTO);
  if (proto == ETHERTYPE_TEB) return PTYPE_TUNNEL_GENEVE | parseInnerEthernet(meta, data, off + hlen, end);
  return PTYPE_TUNNEL_GENEVE | parseInnerIp(meta, data, off + hlen, end, proto);
}

function parseInnerEthernet(meta: usize, data: usize, off: u32, end: u32): u64 {
  if (off + ETH_HEADER_LEN > end) return outcome(0, ERR_TRUNC_INNER);
  let type = be16(data + off + ETH_TYPE);
  off += ETH_HEADER_LEN;
  let l2 = PTYPE_INNER_L2_ETHER;
  for (let depth: u32 = 0; isVlanTpid(type); depth++) {
    if (depth == VLAN_MAX_DEPTH) return outcome(l2, ERR_DEPTH);
    if (off + VLAN_TAG_LEN > end) return outcome(l2, ERR_TRUNC_INNER);
    type = be16(data + off + VLAN_TYPE);
    off += VLAN_TAG_LEN;
    l2 = depth == 0 ? PTYPE_INNER_L2_ETHER_VLAN : PTYPE_INNER_L2_ETHER_QINQ;
  }
  store<u16>(meta, <u16>off, META_PAYLOAD);
  return parseInnerIp(meta, data, off, end, type) | <u64>l2;
}

/** Inner IPv4/IPv6 and L4; moves their packet-type bits to the inner fields and truncation to TRUNC_INNER. */
function parseInnerIp(meta: usize, data: usize, off: u32, end: u32, type: u32): u64 {
  let r: u64;
  if (type == ETHERTYPE_IPV4) r = parseIpv4(meta, data, off, end, INNER);
  else if (type == ETHERTYPE_IPV6) r = parseIpv6(meta, data, off, end, INNER);
  else return 0;
  const pt = <u32>r;
  let errors = <u32>(r >> 32);
  const l3 = pt & PTYPE_L3_MASK;
  const innerL3 =
    l3 == PTYPE_L3_IPV4 ? PTYPE_INNER_L3_IPV4 : l3 == PTYPE_L3_IPV4_EXT ? PTYPE_INNER_L3_IPV4_EXT : l3 == PTYPE_L3_IPV6 ? PTYPE_INNER_L3_IPV6 : l3 == PTYPE_L3_IPV6_EXT ? PTYPE_INNER_L3_IPV6_EXT : 0;
  if ((errors & (ERR_TRUNC_L3 | ERR_TRUNC_L4)) != 0) errors = (errors & ~(ERR_TRUNC_L3 | ERR_TRUNC_L4)) | ERR_TRUNC_INNER;
  return outcome(innerL3 | ((pt & PTYPE_L4_MASK) << PTYPE_INNER_L4_SHIFT), errors);
}

// ---- checksum verification ------------------------------------------------------------------

/**
 * The destination the upper layer's pseudo-header uses (RFC 8200 8.1): with a routing header that
 * still has segments left, the final one (type 0: the last address; type 2: the home address;
 * type 4, SRH: segment list [0]); otherwise the header's destination. Walks only headers the
 * parser already found captured (they end before l4off).
 */
function ipv6FinalDestination(data: usize, l3off: u32, l4off: u32): usize {
  const l3 = data + <usize>l3off;
  let nh = u8at(l3 + IPV6_NEXT_HEADER);
  let q = l3off + IPV6_HEADER_LEN;
  for (let depth: u32 = 0; depth < IPV6_MAX_EXT && q + 8 <= l4off; depth++) {
    if (!isIpv6ExtLen8(nh) && nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH) break;
    const len = nh == IPPROTO_FRAGMENT ? 8 : nh == IPPROTO_AH ? (u8at(data + q + 1) + 2) << 2 : (u8at(data + q + 1) + 1) << 3;
    if (nh == IPPROTO_ROUTING && u8at(data + q + 3) != 0 && q + len <= l4off && len >= 24) {
      const type = u8at(data + q + 2);
      if (type == 0) return data + q + len - 16;
      if (type == 2 || type == 4) return data + q + 8;
    }
    nh = u8at(data + q);
    q += len;
  }
  return l3 + IPV6_SRC + 16;
}

/**
 * Verifies the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of the outer headers.
 * L4 checksums are checked only over a complete, unfragmented datagram (otherwise unknowable).
 */
function verifyChecksums(meta: usize, data: usize, ptype: u32, errors: u32, simd: bool): u32 {
  let out = ERR_CSUM_CHECKED;
  const l3t = ptype & PTYPE_L3_MASK;
  const l3off = <u32>load<u16>(meta, META_L3);
  const l4off = <u32>load<u16>(meta, META_L4);
  // A header cut short has no checksum to verify.
  if (l3off == 0xffff || (errors & ERR_TRUNC_L3) != 0) return out;
  const l3 = data + <usize>l3off;
  const v6 = l3t == PTYPE_L3_IPV6 || l3t == PTYPE_L3_IPV6_EXT;
  let addrs: u64 = 0; // pseudo-header addresses (and IPv4 protocol); the length is added last
  let l4len: u32 = 0;
  if (l3t == PTYPE_L3_IPV4 || l3t == PTYPE_L3_IPV4_EXT) {
    const hlen = (u8at(l3) & 0x0f) << 2;
    const s = simd ? csumPartialSimd(l3, hlen, 0) : csumPartial(l3, hlen, 0);
    if (csumFold(s) != 0xffff) out |= ERR_BAD_IP_CSUM;
    const total = be16(l3 + IPV4_TOTAL_LEN);
    if (total < hlen) return out;
    l4len = total - hlen;
    addrs = csumPartial(l3 + IPV4_SRC, 8, 0) + csumWord(u8at(l3 + IPV4_PROTO));
  } else if (v6) {
    const plen = be16(l3 + IPV6_PAYLOAD_LEN);
    // A jumbogram's length is in its hop-by-hop option: not verified.
    if (l4off == 0xffff || plen == 0) return out;
    // Extension headers count in the payload length; the L4 length is what remains after them.
    const stop = l3off + IPV6_HEADER_LEN + plen;
    if (stop < l4off) return out;
    l4len = stop - l4off;
    addrs = csumPartial(l3 + IPV6_SRC, 16, 0) + csumPartial(ipv6FinalDestination(data, l3off, l4off), 16, 0);
  } else return out;
  const l4t = ptype & PTYPE_L4_MASK;
  if (l4off == 0xffff || (errors & (ERR_FRAGMENT | ERR_L3_LEN_CAPLEN | ERR_TRUNC_L4 | ERR_BAD_L3 | ERR_BAD_L4)) != 0) return out;
  // u64: a hostile length must not wrap around and pass the check.
  if (<u64>l4off + <u64>l4len > <u64>load<u32>(meta, META_CAPLEN)) return out;
  const l4 = data + <usize>l4off;
  let proto: u32;
  if (l4t == PTYPE_L4_TCP) proto = IPPROTO_TCP;
  else if (l4t == PTYPE_L4_UDP) {
    // IPv4 UDP may carry no checksum (0); IPv6 UDP must (RFC 8200 8.1).
    if (load<u16>(l4 + UDP_CSUM) == 0 && !v6) return out;
    // The UDP length, not the IP one, says what the checksum covers (RFC 768); a length past
    // the IP payload cannot be verified.
    const ulen = be16(l4 + UDP_LEN);
    if (ulen < UDP_HEADER_LEN || ulen > l4len) return out;
    l4len = ulen;
    proto = IPPROTO_UDP;
  } else if (l4t == PTYPE_L4_ICMP) {
    if (!v6) {
      // ICMP for IPv4 has no pseudo-header.
      const s = simd ? csumPartialSimd(l4, l4len, 0) : csumPartial(l4, l4len, 0);
      if (csumFold(s) != 0xffff) out |= ERR_BAD_L4_CSUM;
      return out;
    }
    proto = IPPROTO_ICMPV6;
  } else return out;
  const pseudo = addrs + csumWord(l4len) + (v6 ? csumWord(proto) : 0);
  const s = simd ? csumPartialSimd(l4, l4len, pseudo) : csumPartial(l4, l4len, pseudo);
  if (csumFold(s) != 0xffff) out |= ERR_BAD_L4_CSUM;
  return out;
}

/**
 * Offset from the frame start of TCP option `kind` (MSS 2, window scale 3, SACK-permitted 4,
 * SACK 5, timestamps 8, MPTCP 30) in a parsed frame's outer TCP header; 0 when absent.
 */
export function tcpOption(meta: usize, kind: u32): u32 {
  if ((load<u32>(meta, META_PTYPE) & PTYPE_L4_MASK) != PTYPE_L4_TCP) return 0;
  const l4 = <u32>load<u16>(meta, META_L4);
  const payload = <u32>load<u16>(meta, META_PAYLOAD);
  // PAYLOAD is set only once the whole TCP header (options included) was captured.
  if (payload == 0xffff || payload < l4 + TCP_MIN_LEN) return 0;
  const at = tcpFindOption(<usize>load<u32>(meta, META_DATA) + l4, payload - l4, kind);
  return at == 0 ? 0 : l4 + at;
}
