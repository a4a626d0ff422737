// Packet type and error flags: mirrors assembly/parse/ptype.ts (the diagram and meaning of every bit are
// there); tests/abi.test.ts checks that each constant has the same value on both sides.

export const PTYPE_L2_MASK = 0x0000000f;
export const PTYPE_L2_ETHER = 0x00000001;
export const PTYPE_L2_ETHER_ARP = 0x00000003;
export const PTYPE_L2_ETHER_LLDP = 0x00000004;
export const PTYPE_L2_ETHER_VLAN = 0x00000006;
export const PTYPE_L2_ETHER_QINQ = 0x00000007;
export const PTYPE_L2_ETHER_PPPOE = 0x00000008;
export const PTYPE_L2_ETHER_MPLS = 0x0000000a;
export const PTYPE_L2_ETHER_LLC = 0x0000000b;
export const PTYPE_L2_SLL = 0x0000000c;
export const PTYPE_L2_SLL2 = 0x0000000d;
export const PTYPE_L2_NULL = 0x0000000e;
export const PTYPE_L3_MASK = 0x000000f0;
export const PTYPE_L3_IPV4 = 0x00000010;
export const PTYPE_L3_IPV4_EXT = 0x00000030;
export const PTYPE_L3_IPV6 = 0x00000040;
export const PTYPE_L3_IPV6_EXT = 0x000000c0;
export const PTYPE_L4_MASK = 0x00000f00;
export const PTYPE_L4_TCP = 0x00000100;
export const PTYPE_L4_UDP = 0x00000200;
export const PTYPE_L4_FRAG = 0x00000300;
export const PTYPE_L4_SCTP = 0x00000400;
export const PTYPE_L4_ICMP = 0x00000500;
export const PTYPE_L4_NONFRAG = 0x00000600;
export const PTYPE_L4_IGMP = 0x00000700;
export const PTYPE_TUNNEL_MASK = 0x0000f000;
export const PTYPE_TUNNEL_IP = 0x00001000;
export const PTYPE_TUNNEL_GRE = 0x00002000;
export const PTYPE_TUNNEL_VXLAN = 0x00003000;
export const PTYPE_TUNNEL_GENEVE = 0x00009000;
export const PTYPE_INNER_L2_MASK = 0x000f0000;
export const PTYPE_INNER_L2_ETHER = 0x00010000;
export const PTYPE_INNER_L2_ETHER_VLAN = 0x00020000;
export const PTYPE_INNER_L2_ETHER_QINQ = 0x00030000;
export const PTYPE_INNER_L3_MASK = 0x00f00000;
export const PTYPE_INNER_L3_IPV4 = 0x00100000;
export const PTYPE_INNER_L3_IPV4_EXT = 0x00200000;
export const PTYPE_INNER_L3_IPV6 = 0x00300000;
export const PTYPE_INNER_L3_IPV6_EXT = 0x00500000;
export const PTYPE_INNER_L4_MASK = 0x0f000000;
export const PTYPE_INNER_L4_TCP = 0x01000000;
export const PTYPE_INNER_L4_UDP = 0x02000000;
export const PTYPE_INNER_L4_FRAG = 0x03000000;
export const PTYPE_INNER_L4_SCTP = 0x04000000;
export const PTYPE_INNER_L4_ICMP = 0x05000000;
export const PTYPE_INNER_L4_NONFRAG = 0x06000000;
export const PTYPE_INNER_L4_SHIFT = 16;
export const ERR_TRUNC_L2 = 1 << 0;
export const ERR_TRUNC_L3 = 1 << 1;
export const ERR_TRUNC_L4 = 1 << 2;
export const ERR_TRUNC_TUNNEL = 1 << 3;
export const ERR_TRUNC_INNER = 1 << 4;
export const ERR_BAD_IP_CSUM = 1 << 5;
export const ERR_BAD_L4_CSUM = 1 << 6;
export const ERR_FRAGMENT = 1 << 7;
export const ERR_UNKNOWN_L3 = 1 << 8;
export const ERR_UNKNOWN_L4 = 1 << 9;
export const ERR_BAD_L3 = 1 << 10;
export const ERR_BAD_L4 = 1 << 11;
export const ERR_DEPTH = 1 << 12;
export const ERR_UNKNOWN_LINK = 1 << 13;
export const ERR_CSUM_CHECKED = 1 << 14;
export const ERR_L3_LEN_CAPLEN = 1 << 15;
export const PARSE_VERIFY_CSUM = 1 << 0;
export const PARSE_SIMD = 1 << 1;
export const PARSE_RSS = 1 << 2;
export const PARSE_RSS_SYMMETRIC = 1 << 3;
export const PARSE_RSS_L3_ONLY = 1 << 4;
export const PARSE_NO_TUNNELS = 1 << 5;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_DLT_RAW = 12;
export const LINKTYPE_DLT_RAW_OPENBSD = 14;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_NULL = 0;
export const LINKTYPE_LOOP = 108;

const L2_NAMES: Record<number, string> = {
  [PTYPE_L2_ETHER]: 'ether', [PTYPE_L2_ETHER_ARP]: 'ether-arp', [PTYPE_L2_ETHER_LLDP]: 'ether-lldp', [PTYPE_L2_ETHER_VLAN]: 'ether-vlan',
  [PTYPE_L2_ETHER_QINQ]: 'ether-qinq', [PTYPE_L2_ETHER_PPPOE]: 'ether-pppoe', [PTYPE_L2_ETHER_MPLS]: 'ether-mpls', [PTYPE_L2_ETHER_LLC]: 'ether-llc',
  [PTYPE_L2_SLL]: 'sll', [PTYPE_L2_SLL2]: 'sll2', [PTYPE_L2_NULL]: 'null',
};
const L3_NAMES: Record<number, string> = { [PTYPE_L3_IPV4]: 'ipv4', [PTYPE_L3_IPV4_EXT]: 'ipv4-ext', [PTYPE_L3_IPV6]: 'ipv6', [PTYPE_L3_IPV6_EXT]: 'ipv6-ext' };
const L4_NAMES: Record<number, string> = {
  [PTYPE_L4_TCP]: 'tcp', [PTYPE_L4_UDP]: 'udp', [PTYPE_L4_FRAG]: 'frag', [PTYPE_L4_SCTP]: 'sctp', [PTYPE_L4_ICMP]: 'icmp', [PTYPE_L4_NONFRAG]: 'nonfrag', [PTYPE_L4_IGMP]: 'igmp',
};
const TUNNEL_NAMES: Record<number, string> = { [PTYPE_TUNNEL_IP]: 'ip', [PTYPE_TUNNEL_GRE]: 'gre', [PTYPE_TUNNEL_VXLAN]: 'vxlan', [PTYPE_TUNNEL_GENEVE]: 'geneve' };
const INNER_L2_NAMES: Record<number, string> = { [PTYPE_INNER_L2_ETHER]: 'inner-ether', [PTYPE_INNER_L2_ETHER_VLAN]: 'inner-ether-vlan', [PTYPE_INNER_L2_ETHER_QINQ]: 'inner-ether-qinq' };
const INNER_L3_NAMES: Record<number, string> = {
  [PTYPE_INNER_L3_IPV4]: 'inner-ipv4', [PTYPE_INNER_L3_IPV4_EXT]: 'inner-ipv4-ext', [PTYPE_INNER_L3_IPV6]: 'inner-ipv6', [PTYPE_INNER_L3_IPV6_EXT]: 'inner-ipv6-ext',
};
const INNER_L4_NAMES: Record<number, string> = Object.fromEntries(Object.entries(L4_NAMES).map(([k, v]) => [Number(k) << PTYPE_INNER_L4_SHIFT, `inner-${v}`]));

/** The packet type as words, outer to inner, e.g. "ether-vlan ipv4 udp vxlan inner-ether inner-ipv4 inner-tcp". */
export function ptypeName(ptype: number): string {
  const parts = [
    L2_NAMES[ptype & PTYPE_L2_MASK], L3_NAMES[ptype & PTYPE_L3_MASK], L4_NAMES[ptype & PTYPE_L4_MASK], TUNNEL_NAMES[ptype & PTYPE_TUNNEL_MASK],
    INNER_L2_NAMES[ptype & PTYPE_INNER_L2_MASK], INNER_L3_NAMES[ptype & PTYPE_INNER_L3_MASK], INNER_L4_NAMES[ptype & PTYPE_INNER_L4_MASK],
  ];
  return parts.filter((p) => p !== undefined).join(' ') || 'unknown';
}

/** Error bits and their names in the jsonl "errors" list, in bit order. */
export const ERROR_NAMES: readonly [bit: number, name: string][] = [
  [ERR_TRUNC_L2, 'truncated-l2'], [ERR_TRUNC_L3, 'truncated-l3'], [ERR_TRUNC_L4, 'truncated-l4'], [ERR_TRUNC_TUNNEL, 'truncated-tunnel'],
  [ERR_TRUNC_INNER, 'truncated-inner'], [ERR_BAD_IP_CSUM, 'bad-ip-checksum'], [ERR_BAD_L4_CSUM, 'bad-l4-checksum'], [ERR_FRAGMENT, 'fragment'],
  [ERR_UNKNOWN_L3, 'unknown-l3'], [ERR_UNKNOWN_L4, 'unknown-l4'], [ERR_BAD_L3, 'bad-l3'], [ERR_BAD_L4, 'bad-l4'], [ERR_DEPTH, 'too-deep'],
  [ERR_UNKNOWN_LINK, 'unknown-linktype'], [ERR_CSUM_CHECKED, 'checksums-checked'], [ERR_L3_LEN_CAPLEN, 'snapped'],
];

export function errorNames(errors: number): string[] {
  return ERROR_NAMES.filter(([bit]) => (errors & bit) !== 0).map(([, name]) => name);
}
