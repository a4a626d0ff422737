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

import { META_CAPLEN, META_DATA, META_L3 } from '../../meta';
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_MOBILITY, IPPROTO_ROUTING } from './ipv4';
import { be16, u8at } from './wire';

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

@inline export function isIpv6ExtLen8(nh: u32): bool {
  return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS || nh == IPPROTO_MOBILITY;
}

/**
 * The upper-layer protocol of a parsed IPv6 frame (the next header after the extension headers),
 * or 256 when the walk cannot reach it in the captured bytes. Walks the same bounded chain.
 */
export function ipv6UpperProtocol(meta: usize): u32 {
  const l3 = load<u16>(meta, META_L3);
  if (l3 == 0xffff) return 256;
  const data = <usize>load<u32>(meta, META_DATA);
  const caplen = load<u32>(meta, META_CAPLEN);
  let q = <u32>l3 + IPV6_HEADER_LEN;
  let nh = u8at(data + l3 + IPV6_NEXT_HEADER);
  for (let depth: u32 = 0; depth <= IPV6_MAX_EXT; depth++) {
    if (!isIpv6ExtLen8(nh) && nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH) return nh;
    if (q + 8 > caplen) return 256;
    const len = nh == IPPROTO_FRAGMENT ? 8 : nh == IPPROTO_AH ? (u8at(data + q + 1) + 2) << 2 : (u8at(data + q + 1) + 1) << 3;
    const next = u8at(data + q);
    if (nh == IPPROTO_FRAGMENT && (be16(data + q + IPV6_FRAG_OFFSET) & IPV6_FRAG_OFFSET_MASK) != 0) return next;
    nh = next;
    q += len;
  }
  return 256;
}
