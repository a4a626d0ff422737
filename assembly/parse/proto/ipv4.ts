// IPv4, RFC 791 (header checksum RFC 1071).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |    DSCP/ECN   |          Total Length         |  0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |  4
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |  8
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |  12
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |  16
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options (IHL > 5)                          |  20
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

export const IPV4_VER_IHL: usize = 0;
export const IPV4_TOS: usize = 1;
export const IPV4_TOTAL_LEN: usize = 2;
export const IPV4_ID: usize = 4;
export const IPV4_FRAG: usize = 6;
export const IPV4_TTL: usize = 8;
export const IPV4_PROTO: usize = 9;
export const IPV4_CSUM: usize = 10;
export const IPV4_SRC: usize = 12;
export const IPV4_DST: usize = 16;
export const IPV4_MIN_LEN: u32 = 20;

/** Fragment field: more-fragments flag and the 13-bit offset in 8-byte units. */
export const IPV4_FRAG_MF: u32 = 0x2000;
export const IPV4_FRAG_DF: u32 = 0x4000;
export const IPV4_FRAG_OFFSET_MASK: u32 = 0x1fff;

export const IPPROTO_HOPOPTS: u32 = 0;
export const IPPROTO_ICMP: u32 = 1;
export const IPPROTO_IGMP: u32 = 2;
export const IPPROTO_IPIP: u32 = 4;
export const IPPROTO_TCP: u32 = 6;
export const IPPROTO_UDP: u32 = 17;
export const IPPROTO_IPV6: u32 = 41;
export const IPPROTO_ROUTING: u32 = 43;
export const IPPROTO_FRAGMENT: u32 = 44;
export const IPPROTO_GRE: u32 = 47;
export const IPPROTO_ESP: u32 = 50;
export const IPPROTO_AH: u32 = 51;
export const IPPROTO_ICMPV6: u32 = 58;
export const IPPROTO_NONE: u32 = 59;
export const IPPROTO_DSTOPTS: u32 = 60;
export const IPPROTO_SCTP: u32 = 132;
export const IPPROTO_MOBILITY: u32 = 135;

/** Header length in bytes from the IHL nibble (4-byte units). */
@inline export function ipv4HeaderLen(p: usize): u32 {
  return (<u32>load<u8>(p) & 0x0f) << 2;
}
