// Toeplitz RSS hash (Microsoft "RSS hashing", Intel 82599 datasheet 7.1.2.8) over the 5-tuple,
// with a configurable key, asymmetric or symmetric.
//
// The hash of input bits b0..bn-1 (network order, most significant bit first) is the XOR of the
// 32-bit key windows K[i..i+31] for every set bit i. Because XOR is linear, the contribution of
// each input byte depends only on its position and value, so rssPrepare turns the key into a
// table of RSS_TABLE_POSITIONS x 256 words and the hash becomes one load and XOR per input byte
// (12 for IPv4 + ports, 36 for IPv6 + ports) instead of a loop over bits.
//
// Table layout (at an address the host gives, RSS_TABLE_BYTES long, 4-byte aligned):
//   table[(pos << 8) | byte] : u32, pos = 0..35 the byte's position in the hash input.
//
// Input order (RSS standard): source address, destination address, source port, destination
// port. Symmetric mode orders the two endpoints first (lower address, then lower port, first) so
// both directions of a flow hash alike with any key; this equals the asymmetric hash of the
// ordered tuple, which is how it is tested.

import { META_DATA, META_L3, META_L4, META_PTYPE } from '../meta';
import { PTYPE_L3_MASK, PTYPE_L3_IPV4, PTYPE_L3_IPV4_EXT, PTYPE_L3_IPV6, PTYPE_L3_IPV6_EXT, PTYPE_L4_MASK, PTYPE_L4_TCP, PTYPE_L4_UDP, PTYPE_L4_SCTP, PARSE_RSS_SYMMETRIC, PARSE_RSS_L3_ONLY } from './ptype';
import { IPV4_SRC, IPV4_PROTO } from './proto/ipv4';
import { ipv6UpperProtocol, IPV6_SRC } from './proto/ipv6';
import { be16, be32 } from './proto/wire';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './proto/ipv4';

export const RSS_TABLE_POSITIONS: u32 = 36;
export const RSS_TABLE_BYTES: u32 = RSS_TABLE_POSITIONS * 256 * 4;
/** A key must cover the longest input plus the 32-bit window: 36 + 4 bytes (the standard 40). */
export const RSS_KEY_MIN_BYTES: u32 = RSS_TABLE_POSITIONS + 4;

/** The 32 key bits starting at bit `bit` (MSB first); key bits past keyLen read as 0. */
function keyWindow(key: usize, keyLen: u32, bit: u32): u32 {
  const byte = bit >> 3;
  let w: u64 = 0;
  for (let i: u32 = 0; i < 5; i++) w = (w << 8) | (byte + i < keyLen ? <u64>load<u8>(key + byte + i) : 0);
  return <u32>(w >> (8 - (bit & 7)));
}

/** Builds the lookup table of `key` at `table`. Returns 0, or -1 if the key is shorter than 40 bytes. */
export function rssPrepare(key: usize, keyLen: u32, table: usize): i32 {
  if (keyLen < RSS_KEY_MIN_BYTES) return -1;
  for (let pos: u32 = 0; pos < RSS_TABLE_POSITIONS; pos++) {
    const row = table + (<usize>pos << 10);
    for (let v: u32 = 0; v < 256; v++) {
      let h: u32 = 0;
      for (let b: u32 = 0; b < 8; b++) if ((v & (0x80 >> b)) != 0) h ^= keyWindow(key, keyLen, (pos << 3) + b);
      store<u32>(row + (<usize>v << 2), h);
    }
  }
  return 0;
}

/** Toeplitz hash of `len` bytes at `input` (len <= 36) with a prepared table. */
export function toeplitz(table: usize, input: usize, len: u32): u32 {
  let h: u32 = 0;
  for (let i: u32 = 0; i < len; i++) h ^= load<u32>(table + (<usize>i << 10) + (<usize>load<u8>(input + i) << 2));
  return h;
}

/** The hash bit by bit from the key, for tests and for checking a table: same result as toeplitz. */
export function toeplitzBitwise(key: usize, keyLen: u32, input: usize, len: u32): u32 {
  let h: u32 = 0;
  for (let i: u32 = 0; i < len << 3; i++) if ((<u32>load<u8>(input + (i >> 3)) & (0x80 >> (i & 7))) != 0) h ^= keyWindow(key, keyLen, i);
  return h;
}

@inline function addrBytes(table: usize, p: usize, pos: u32, n: u32, h: u32): u32 {
  for (let i: u32 = 0; i < n; i++) h ^= load<u32>(table + (<usize>(pos + i) << 10) + (<usize>load<u8>(p + i) << 2));
  return h;
}

@inline function portBytes(table: usize, port: u32, pos: u32, h: u32): u32 {
  h ^= load<u32>(table + (<usize>pos << 10) + (<usize>(port >> 8) << 2));
  return h ^ load<u32>(table + (<usize>(pos + 1) << 10) + (<usize>(port & 0xff) << 2));
}

/** Compares `n` bytes at a and b as big-endian numbers: <0, 0, >0. */
function compareBytes(a: usize, b: usize, n: u32): i32 {
  for (let i: u32 = 0; i < n; i += 4) {
    const x = be32(a + i);
    const y = be32(b + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * RSS hash of a parsed frame's outer 5-tuple from its metadata: IP addresses, plus ports for TCP,
 * UDP and SCTP (not for fragments). 0 when the frame has no IP layer.
 */
export function rssHashMeta(meta: usize, table: usize, flags: u32): u32 {
  const ptype = load<u32>(meta, META_PTYPE);
  const l3t = ptype & PTYPE_L3_MASK;
  const data = <usize>load<u32>(meta, META_DATA);
  const l4t = ptype & PTYPE_L4_MASK;
  const withPorts = (flags & PARSE_RSS_L3_ONLY) == 0 && (l4t == PTYPE_L4_TCP || l4t == PTYPE_L4_UDP || l4t == PTYPE_L4_SCTP);
  let sport: u32 = 0;
  let dport: u32 = 0;
  if (withPorts) {
    const l4 = data + <usize>load<u16>(meta, META_L4);
    sport = be16(l4);
    dport = be16(l4 + 2);
  }
  let alen: u32;
  let src: usize;
  if (l3t == PTYPE_L3_IPV4 || l3t == PTYPE_L3_IPV4_EXT) {
    alen = 4;
    src = data + <usize>load<u16>(meta, META_L3) + IPV4_SRC;
  } else if (l3t == PTYPE_L3_IPV6 || l3t == PTYPE_L3_IPV6_EXT) {
    alen = 16;
    src = data + <usize>load<u16>(meta, META_L3) + IPV6_SRC;
  } else return 0;
  let dst = src + alen;
  if ((flags & PARSE_RSS_SYMMETRIC) != 0) {
    const c = compareBytes(src, dst, alen);
    if (c > 0 || (c == 0 && sport > dport)) {
      const t = src;
      src = dst;
      dst = t;
      const tp = sport;
      sport = dport;
      dport = tp;
    }
  }
  let h = addrBytes(table, src, 0, alen, 0);
  h = addrBytes(table, dst, alen, alen, h);
  if (withPorts) {
    h = portBytes(table, sport, alen << 1, h);
    h = portBytes(table, dport, (alen << 1) + 2, h);
  }
  return h;
}

// The flow key: a fixed 40-byte record of the outer 5-tuple, for hash tables and flow directors.
//
// | off | size | field                                          |
// |-----|------|------------------------------------------------|
// | 0   | 16   | source address (IPv4 in bytes 0..3, rest zero) |
// | 16  | 16   | destination address                            |
// | 32  | 2    | source port (network order; 0 without ports)   |
// | 34  | 2    | destination port                               |
// | 36  | 1    | IP protocol (after IPv6 extension headers)     |
// | 37  | 1    | IP version (4 or 6)                            |
// | 38  | 2    | zero                                           |
export const FLOW_KEY_BYTES: u32 = 40;
export const FLOW_SRC: usize = 0;
export const FLOW_DST: usize = 16;
export const FLOW_SPORT: usize = 32;
export const FLOW_DPORT: usize = 34;
export const FLOW_PROTO: usize = 36;
export const FLOW_VERSION: usize = 37;

/** Writes the flow key of a parsed frame at `out`; returns 1, or 0 (key zeroed) without IP. */
export function flowKey(meta: usize, out: usize): u32 {
  memory.fill(out, 0, FLOW_KEY_BYTES);
  const ptype = load<u32>(meta, META_PTYPE);
  const l3t = ptype & PTYPE_L3_MASK;
  const data = <usize>load<u32>(meta, META_DATA);
  const l3 = data + <usize>load<u16>(meta, META_L3);
  const l4off = load<u16>(meta, META_L4);
  let proto: u32 = 0;
  if (l3t == PTYPE_L3_IPV4 || l3t == PTYPE_L3_IPV4_EXT) {
    store<u32>(out + FLOW_SRC, load<u32>(l3 + IPV4_SRC));
    store<u32>(out + FLOW_DST, load<u32>(l3 + IPV4_SRC + 4));
    proto = <u32>load<u8>(l3 + IPV4_PROTO);
    store<u8>(out + FLOW_VERSION, 4);
  } else if (l3t == PTYPE_L3_IPV6 || l3t == PTYPE_L3_IPV6_EXT) {
    memory.copy(out + FLOW_SRC, l3 + IPV6_SRC, 32);
    proto = ipv6UpperProto(meta, ptype);
    store<u8>(out + FLOW_VERSION, 6);
  } else return 0;
  store<u8>(out + FLOW_PROTO, <u8>proto);
  const l4t = ptype & PTYPE_L4_MASK;
  if (l4t == PTYPE_L4_TCP || l4t == PTYPE_L4_UDP || l4t == PTYPE_L4_SCTP) {
    store<u32>(out + FLOW_SPORT, load<u32>(data + <usize>l4off));
  }
  return 1;
}

function ipv6UpperProto(meta: usize, ptype: u32): u32 {
  const l4t = ptype & PTYPE_L4_MASK;
  if (l4t == PTYPE_L4_TCP) return IPPROTO_TCP;
  if (l4t == PTYPE_L4_UDP) return IPPROTO_UDP;
  if (l4t == PTYPE_L4_SCTP) return IPPROTO_SCTP;
  return ipv6UpperProtocol(meta);
}
