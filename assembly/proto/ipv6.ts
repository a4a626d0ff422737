// IPv6, RFC 8200, and its extension headers (RFC 8200 section 4; AH RFC 4302).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |  0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Payload Length        |  Next Header  |   Hop Limit   |  4
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Source Address (128 bits)                  |  8
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Destination Address (128 bits)                |  24
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension headers chain through their first byte (next header). Hop-by-hop (0), routing (43),
// destination options (60), mobility (135): length byte in 8-byte units, not counting the first 8.
// AH (51): length byte in 4-byte units, not counting the first 2 words. Fragment (44): 8 bytes:
//
// +---------------+---------------+-------------------------+-+-+-+
// |  Next Header  |   Reserved    |     Fragment Offset     |Res|M|
// +---------------+---------------+-------------------------+-+-+-+
// |                         Identification                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

export const IPV6_VER_TC_FLOW: usize = 0;
export const IPV6_PAYLOAD_LEN: usize = 4;
export const IPV6_NEXT_HEADER: usize = 6;
export const IPV6_HOP_LIMIT: usize = 7;
export const IPV6_SRC: usize = 8;
export const IPV6_DST: usize = 24;
export const IPV6_HEADER_LEN: u32 = 40;

export const IPV6_EXT_NEXT: usize = 0;
export const IPV6_EXT_LEN: usize = 1;
export const IPV6_FRAG_OFFSET: usize = 2;
export const IPV6_FRAG_ID: usize = 4;
export const IPV6_FRAG_LEN: u32 = 8;
/** Fragment offset field: offset in 8-byte units in the top 13 bits, M flag in bit 0. */
export const IPV6_FRAG_OFFSET_MASK: u32 = 0xfff8;
export const IPV6_FRAG_MF: u32 = 0x0001;
/** The extension-header walk is bounded: a longer chain sets ERR_DEPTH. */
export const IPV6_MAX_EXT: u32 = 8;
