// The flow director: rules matched in WASM against parsed frames, like a NIC's n-tuple filters
// (ethtool -N ... flow-type) but with prefixes, port ranges, VLAN ids and ethertypes, and actions
// steer | drop | priority class | mark.
//
// A rule table is `count` rules of 64 bytes; the first rule that matches wins (the host orders
// them by priority). Rules are added and removed while workers run: the host keeps two tables,
// writes the one no worker reads, then flips `active` (host/engine/flow.ts waits until every
// worker has seen the new generation before it writes the old table again: read-copy-update).
//
//   rule (64 B)
//   0               4       5       6       7       8               12              16
//   +---------------+-------+-------+-------+-------+-------+-------+-------+-------+
//   | match bits    | family| srcLen| dstLen| proto | sport lo/hi   | dport lo/hi   |
//   +---------------+-------+-------+-------+-------+-------+-------+-------+-------+
//   16      18      20              24      26      28              32
//   +-------+-------+---------------+-------+---+---+---------------+
//   | vlan  | ethtyp| action bits   | queue |cls|   | mark          |
//   +-------+-------+---------------+-------+---+---+---------------+
//   32: source address (16 B, network order; IPv4 in the first 4)
//   48: destination address (16 B)
//
// match bits say which fields take part; a rule with no bits matches everything. Addresses match
// only frames of the rule's family (4 or 6). Ports match TCP, UDP and SCTP only.

import { META_DATA, META_CAPLEN, META_L3, META_L4, META_LINKTYPE, META_PTYPE, META_VLAN0, OFFSET_NONE } from '../meta';
import { LINKTYPE_ETHERNET } from '../parse/ptype';
import { be16, be32 } from '../parse/proto/wire';

export const FLOW_RULE_BYTES: usize = 64;

export const FLOW_M_SRC: u32 = 1;
export const FLOW_M_DST: u32 = 2;
export const FLOW_M_PROTO: u32 = 4;
export const FLOW_M_SPORT: u32 = 8;
export const FLOW_M_DPORT: u32 = 16;
export const FLOW_M_VLAN: u32 = 32;
export const FLOW_M_ETHERTYPE: u32 = 64;

export const FLOW_A_QUEUE: u32 = 1;
export const FLOW_A_DROP: u32 = 2;
export const FLOW_A_CLASS: u32 = 4;
export const FLOW_A_MARK: u32 = 8;

export const FR_MATCH: usize = 0;
export const FR_FAMILY: usize = 4;
export const FR_SRC_LEN: usize = 5;
export const FR_DST_LEN: usize = 6;
export const FR_PROTO: usize = 7;
export const FR_SPORT_LO: usize = 8;
export const FR_SPORT_HI: usize = 10;
export const FR_DPORT_LO: usize = 12;
export const FR_DPORT_HI: usize = 14;
export const FR_VLAN: usize = 16;
export const FR_ETHERTYPE: usize = 18;
export const FR_ACTION: usize = 20;
export const FR_QUEUE: usize = 24;
export const FR_CLASS: usize = 26;
export const FR_MARK: usize = 28;
export const FR_SRC: usize = 32;
export const FR_DST: usize = 48;

/** Does the address at `pkt` lie in the `bits`-long prefix at `net`? (`words` 1 for IPv4, 4 for IPv6) */
@inline function inPrefix(pkt: usize, net: usize, bits: u32, words: u32): bool {
  for (let i: u32 = 0; i < words && bits > 0; i++) {
    const a = be32(pkt + (<usize>i << 2));
    const b = be32(net + (<usize>i << 2));
    const mask: u32 = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits);
    if (((a ^ b) & mask) != 0) return false;
    bits = bits >= 32 ? bits - 32 : 0;
  }
  return true;
}

/** The ethertype of the frame's network layer (after VLAN tags), 0 when it has none we can tell. */
function frameEthertype(meta: usize, data: usize, caplen: u32, ipVersion: u32): u32 {
  if (<u32>load<u16>(meta, META_LINKTYPE) == LINKTYPE_ETHERNET) {
    let off: u32 = 12;
    if (off + 2 > caplen) return 0;
    let type = be16(data + off);
    for (let tags: u32 = 0; tags < 4 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); tags++) {
      off += 4;
      if (off + 2 > caplen) return 0;
      type = be16(data + off);
    }
    return type;
  }
  return ipVersion == 4 ? 0x0800 : ipVersion == 6 ? 0x86dd : 0;
}

/** The IP protocol number of a parsed frame, 256 when it has no IP layer. */
function frameProtocol(meta: usize, data: usize, ipVersion: u32): u32 {
  const l3 = <usize>load<u16>(meta, META_L3);
  const l4type = load<u32>(meta, META_PTYPE) & 0xf00;
  if (l4type == 0x100) return 6; // TCP
  if (l4type == 0x200) return 17; // UDP
  if (l4type == 0x400) return 132; // SCTP
  if (l4type == 0x500) return ipVersion == 6 ? 58 : 1; // ICMP / ICMPv6
  if (l4type == 0x700) return 2; // IGMP
  if (ipVersion == 4) return <u32>load<u8>(data + l3 + 9);
  if (ipVersion == 6) return <u32>load<u8>(data + l3 + 6);
  return 256;
}

/**
 * Index of the first of `count` rules at `table` that matches the parsed frame at `meta`, or -1.
 * Reads only what the parser marked as captured.
 */
export function flowMatch(table: usize, count: u32, meta: usize): i32 {
  if (count == 0) return -1;
  const data = <usize>load<u32>(meta, META_DATA);
  const caplen = load<u32>(meta, META_CAPLEN);
  const l3off = load<u16>(meta, META_L3);
  const l4off = load<u16>(meta, META_L4);
  const ipVersion: u32 = l3off != OFFSET_NONE && <u32>l3off < caplen ? <u32>load<u8>(data + <usize>l3off) >> 4 : 0;
  const l3 = data + <usize>l3off;
  const ip = ipVersion == 4 || ipVersion == 6;
  const srcAddr = ipVersion == 4 ? l3 + 12 : l3 + 8;
  const dstAddr = ipVersion == 4 ? l3 + 16 : l3 + 24;
  const words: u32 = ipVersion == 4 ? 1 : 4;
  const proto = frameProtocol(meta, data, ipVersion);
  const hasPorts = l4off != OFFSET_NONE && (proto == 6 || proto == 17 || proto == 132);
  const sport = hasPorts ? be16(data + <usize>l4off) : 0;
  const dport = hasPorts ? be16(data + <usize>l4off + 2) : 0;
  const vlan = <u32>load<u16>(meta, META_VLAN0);
  let ethertype: u32 = 0x10000; // computed on first use: most rules never ask
  for (let i: u32 = 0; i < count; i++) {
    const r = table + (<usize>i << 6);
    const m = load<u32>(r, FR_MATCH);
    if (m & (FLOW_M_SRC | FLOW_M_DST)) {
      if (!ip || <u32>load<u8>(r, FR_FAMILY) != ipVersion) continue;
      if ((m & FLOW_M_SRC) && !inPrefix(srcAddr, r + FR_SRC, <u32>load<u8>(r, FR_SRC_LEN), words)) continue;
      if ((m & FLOW_M_DST) && !inPrefix(dstAddr, r + FR_DST, <u32>load<u8>(r, FR_DST_LEN), words)) continue;
    }
    if ((m & FLOW_M_PROTO) && proto != <u32>load<u8>(r, FR_PROTO)) continue;
    if (m & FLOW_M_SPORT) {
      if (!hasPorts || sport < <u32>load<u16>(r, FR_SPORT_LO) || sport > <u32>load<u16>(r, FR_SPORT_HI)) continue;
    }
    if (m & FLOW_M_DPORT) {
      if (!hasPorts || dport < <u32>load<u16>(r, FR_DPORT_LO) || dport > <u32>load<u16>(r, FR_DPORT_HI)) continue;
    }
    if ((m & FLOW_M_VLAN) && vlan != <u32>load<u16>(r, FR_VLAN)) continue;
    if (m & FLOW_M_ETHERTYPE) {
      if (ethertype == 0x10000) ethertype = frameEthertype(meta, data, caplen, ipVersion);
      if (ethertype != <u32>load<u16>(r, FR_ETHERTYPE)) continue;
    }
    return <i32>i;
  }
  return -1;
}
