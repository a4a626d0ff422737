// Packet type and error flags of the frame metadata (META_PTYPE, META_ERRORS).
//
// The packet type is DPDK's RTE_PTYPE layout with the same values (rte_mbuf_ptype.h), so tools
// that know DPDK read it as they expect: one 4-bit field per layer, 0 when the layer is absent.
//
//  31     28 27    24 23    20 19    16 15    12 11     8 7      4 3      0
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//  | unused |inner L4|inner L3|inner L2| tunnel |   L4   |   L3   |   L2   |
//  +--------+--------+--------+--------+--------+--------+--------+--------+
//
// host/ptype.ts mirrors every constant here (tests/parse.test.ts checks the two agree).

export const PTYPE_L2_MASK: u32 = 0x0000000f;
export const PTYPE_L2_ETHER: u32 = 0x00000001;
export const PTYPE_L2_ETHER_ARP: u32 = 0x00000003;
export const PTYPE_L2_ETHER_LLDP: u32 = 0x00000004;
export const PTYPE_L2_ETHER_VLAN: u32 = 0x00000006;
export const PTYPE_L2_ETHER_QINQ: u32 = 0x00000007;
export const PTYPE_L2_ETHER_PPPOE: u32 = 0x00000008;
export const PTYPE_L2_ETHER_MPLS: u32 = 0x0000000a;
/** Not in DPDK: 802.3 length field with an LLC (and maybe SNAP) header. */
export const PTYPE_L2_ETHER_LLC: u32 = 0x0000000b;
/** Not in DPDK: Linux cooked capture v1 / v2 pseudo-headers. */
export const PTYPE_L2_SLL: u32 = 0x0000000c;
export const PTYPE_L2_SLL2: u32 = 0x0000000d;
/** Not in DPDK: BSD loopback (LINKTYPE_NULL / LINKTYPE_LOOP) 4-byte address family. */
export const PTYPE_L2_NULL: u32 = 0x0000000e;

export const PTYPE_L3_MASK: u32 = 0x000000f0;
export const PTYPE_L3_IPV4: u32 = 0x00000010;
/** IPv4 with options (IHL > 5). */
export const PTYPE_L3_IPV4_EXT: u32 = 0x00000030;
export const PTYPE_L3_IPV6: u32 = 0x00000040;
/** IPv6 with at least one extension header. */
export const PTYPE_L3_IPV6_EXT: u32 = 0x000000c0;

export const PTYPE_L4_MASK: u32 = 0x00000f00;
export const PTYPE_L4_TCP: u32 = 0x00000100;
export const PTYPE_L4_UDP: u32 = 0x00000200;
/** A fragment: the first one still has its L4 header parsed, later ones have none. */
export const PTYPE_L4_FRAG: u32 = 0x00000300;
export const PTYPE_L4_SCTP: u32 = 0x00000400;
/** ICMP or ICMPv6 (the L3 field says which). */
export const PTYPE_L4_ICMP: u32 = 0x00000500;
export const PTYPE_L4_NONFRAG: u32 = 0x00000600;
export const PTYPE_L4_IGMP: u32 = 0x00000700;

export const PTYPE_TUNNEL_MASK: u32 = 0x0000f000;
export const PTYPE_TUNNEL_IP: u32 = 0x00001000;
export const PTYPE_TUNNEL_GRE: u32 = 0x00002000;
export const PTYPE_TUNNEL_VXLAN: u32 = 0x00003000;
export const PTYPE_TUNNEL_GENEVE: u32 = 0x00009000;

export const PTYPE_INNER_L2_MASK: u32 = 0x000f0000;
export const PTYPE_INNER_L2_ETHER: u32 = 0x00010000;
export const PTYPE_INNER_L2_ETHER_VLAN: u32 = 0x00020000;
export const PTYPE_INNER_L2_ETHER_QINQ: u32 = 0x00030000;

export const PTYPE_INNER_L3_MASK: u32 = 0x00f00000;
export const PTYPE_INNER_L3_IPV4: u32 = 0x00100000;
export const PTYPE_INNER_L3_IPV4_EXT: u32 = 0x00200000;
export const PTYPE_INNER_L3_IPV6: u32 = 0x00300000;
export const PTYPE_INNER_L3_IPV6_EXT: u32 = 0x00500000;

export const PTYPE_INNER_L4_MASK: u32 = 0x0f000000;
export const PTYPE_INNER_L4_TCP: u32 = 0x01000000;
export const PTYPE_INNER_L4_UDP: u32 = 0x02000000;
export const PTYPE_INNER_L4_FRAG: u32 = 0x03000000;
export const PTYPE_INNER_L4_SCTP: u32 = 0x04000000;
export const PTYPE_INNER_L4_ICMP: u32 = 0x05000000;
export const PTYPE_INNER_L4_NONFRAG: u32 = 0x06000000;

/** Outer L4 values shifted by this land on the inner L4 values (DPDK's layout; not so for L3). */
export const PTYPE_INNER_L4_SHIFT: u32 = 16;

// Error flags (META_ERRORS). A set bit never means the parser trapped or read past caplen: it
// means it stopped, and says where and why.
//
// | bit | name            | meaning                                                          |
// |-----|-----------------|------------------------------------------------------------------|
// | 0   | TRUNC_L2        | caplen ends inside the link header or VLAN/LLC tags               |
// | 1   | TRUNC_L3        | caplen ends inside the IP/ARP header or its extension headers     |
// | 2   | TRUNC_L4        | caplen ends inside the TCP/UDP/ICMP/... header                    |
// | 3   | TRUNC_TUNNEL    | caplen ends inside a GRE/VXLAN/Geneve header                      |
// | 4   | TRUNC_INNER     | caplen ends inside the inner Ethernet/IP/L4 headers               |
// | 5   | BAD_IP_CSUM     | IPv4 header checksum wrong (only when verification is on)         |
// | 6   | BAD_L4_CSUM     | TCP/UDP/ICMP checksum wrong (only when verification is on)        |
// | 7   | FRAGMENT        | an IP fragment (first or later); the L4 is absent unless first    |
// | 8   | UNKNOWN_L3      | ethertype / link protocol not decoded                             |
// | 9   | UNKNOWN_L4      | IP protocol not decoded                                           |
// | 10  | BAD_L3          | IP version/IHL/length fields inconsistent                         |
// | 11  | BAD_L4          | TCP data offset < 5, UDP length < 8                               |
// | 12  | DEPTH           | more VLAN tags or IPv6 extension headers than the bounded walk    |
// | 13  | UNKNOWN_LINK    | link type not decoded (meta linktype)                             |
// | 14  | CSUM_CHECKED    | checksums were verified (bits 5 and 6 are meaningful)             |
// | 15  | L3_LEN_CAPLEN   | IP total length says more than was captured (snaplen cut)         |
export const ERR_TRUNC_L2: u32 = 1 << 0;
export const ERR_TRUNC_L3: u32 = 1 << 1;
export const ERR_TRUNC_L4: u32 = 1 << 2;
export const ERR_TRUNC_TUNNEL: u32 = 1 << 3;
export const ERR_TRUNC_INNER: u32 = 1 << 4;
export const ERR_BAD_IP_CSUM: u32 = 1 << 5;
export const ERR_BAD_L4_CSUM: u32 = 1 << 6;
export const ERR_FRAGMENT: u32 = 1 << 7;
export const ERR_UNKNOWN_L3: u32 = 1 << 8;
export const ERR_UNKNOWN_L4: u32 = 1 << 9;
export const ERR_BAD_L3: u32 = 1 << 10;
export const ERR_BAD_L4: u32 = 1 << 11;
export const ERR_DEPTH: u32 = 1 << 12;
export const ERR_UNKNOWN_LINK: u32 = 1 << 13;
export const ERR_CSUM_CHECKED: u32 = 1 << 14;
export const ERR_L3_LEN_CAPLEN: u32 = 1 << 15;

// Parse flags (the `flags` argument of parseFrame / parseBurst).
/** Verify IPv4 header and TCP/UDP/ICMP/ICMPv6 checksums (scalar). */
export const PARSE_VERIFY_CSUM: u32 = 1 << 0;
/** Use the SIMD checksum (identical results to the scalar one). */
export const PARSE_SIMD: u32 = 1 << 1;
/** Compute the Toeplitz RSS hash of the 5-tuple into META_HASH (needs the table of rssPrepare). */
export const PARSE_RSS: u32 = 1 << 2;
/** RSS over (src, dst) ordered so both directions of a flow hash alike. */
export const PARSE_RSS_SYMMETRIC: u32 = 1 << 3;
/** RSS over the addresses only, not the ports. */
export const PARSE_RSS_L3_ONLY: u32 = 1 << 4;
/** Do not locate inner headers of GRE/VXLAN/Geneve/IP-in-IP. */
export const PARSE_NO_TUNNELS: u32 = 1 << 5;

// pcap LINKTYPE_* values of the link layers parseFrame decodes.
export const LINKTYPE_ETHERNET: u32 = 1;
export const LINKTYPE_RAW: u32 = 101;
export const LINKTYPE_DLT_RAW: u32 = 12;
export const LINKTYPE_DLT_RAW_OPENBSD: u32 = 14;
export const LINKTYPE_LINUX_SLL: u32 = 113;
export const LINKTYPE_LINUX_SLL2: u32 = 276;
export const LINKTYPE_IPV4: u32 = 228;
export const LINKTYPE_IPV6: u32 = 229;
export const LINKTYPE_NULL: u32 = 0;
export const LINKTYPE_LOOP: u32 = 108;
