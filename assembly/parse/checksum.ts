// The Internet checksum, RFC 1071: the ones'-complement sum of 16-bit words. The sum does not
// depend on byte order (RFC 1071 section 2(B)), so words are summed as they load (little-endian)
// and the folded result is swapped once at the end. Two paths compute it, scalar (u32 words into a
// u64) and SIMD (i16x8 pairs widened into i32x4 lanes); they give identical results because both
// fold the same sum modulo 0xffff (tests/fuzz.test.ts and checksum.spec.ts compare them).

/** Ones'-complement partial sum of `len` bytes at `p`, added to `sum` (not folded). Scalar. */
export function csumPartial(p: usize, len: u32, sum: u64): u64 {
  let n = len;
  while (n >= 8) {
    const w = load<u64>(p);
    sum += (w & 0xffffffff) + (w >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    sum += <u64>load<u32>(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    sum += <u64>load<u16>(p);
    p += 2;
    n -= 2;
  }
  // A trailing odd byte is the high byte of a network-order word: the low byte as loaded here.
  if (n != 0) sum += <u64>load<u8>(p);
  return sum;
}

/** The same sum with 128-bit lanes; worth it from a few hundred bytes on. */
export function csumPartialSimd(p: usize, len: u32, sum: u64): u64 {
  let n = len;
  // Each i32 lane gains at most 2 * 0xffff per 16 bytes: no overflow below 512 KiB.
  let acc = i32x4.splat(0);
  while (n >= 64) {
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p)));
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 16)));
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 32)));
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 48)));
    p += 64;
    n -= 64;
  }
  while (n >= 16) {
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(v128.load(p)));
    p += 16;
    n -= 16;
  }
  sum +=
    <u64>i32x4.extract_lane(acc, 0) + <u64>i32x4.extract_lane(acc, 1) + <u64>i32x4.extract_lane(acc, 2) + <u64>i32x4.extract_lane(acc, 3);
  return csumPartial(p, n, sum);
}

/** Folds a partial sum to 16 bits, in network byte order, not complemented. */
@inline export function csumFold(sum: u64): u32 {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  let s = <u32>sum;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return <u32>bswap<u16>(<u16>s);
}

/** The checksum field value for `len` bytes at `p` (complemented fold); 0 over a valid header. */
export function internetChecksum(p: usize, len: u32, simd: bool): u32 {
  const sum = simd ? csumPartialSimd(p, len, 0) : csumPartial(p, len, 0);
  return ~csumFold(sum) & 0xffff;
}

/** A network-order 16-bit value as the little-endian summation above would have loaded it. */
@inline export function csumWord(v: u32): u64 {
  return <u64>bswap<u16>(<u16>v);
}
