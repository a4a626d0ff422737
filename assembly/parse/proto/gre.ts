// GRE, RFC 2784 with the key and sequence extensions of RFC 2890. Version 1 (PPTP, RFC 2637) is
// recognised as GRE but its payload (PPP) is not followed.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |C|R|K|S|  Reserved0      | Ver |         Protocol Type         |  0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      Checksum (optional)      |       Reserved1 (optional)    |  C or R set
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Key (optional)                        |  K set
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Sequence Number (optional)                    |  S set
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

export const GRE_FLAGS: usize = 0;
export const GRE_PROTO: usize = 2;
export const GRE_MIN_LEN: u32 = 4;
export const GRE_FLAG_CSUM: u32 = 0x8000;
export const GRE_FLAG_ROUTING: u32 = 0x4000;
export const GRE_FLAG_KEY: u32 = 0x2000;
export const GRE_FLAG_SEQ: u32 = 0x1000;
export const GRE_VERSION_MASK: u32 = 0x0007;

/** Header length from the flags word: 4 bytes plus 4 per optional field present. */
@inline export function greHeaderLen(flags: u32): u32 {
  return GRE_MIN_LEN + ((flags & (GRE_FLAG_CSUM | GRE_FLAG_ROUTING)) != 0 ? 4 : 0) + ((flags & GRE_FLAG_KEY) != 0 ? 4 : 0) + ((flags & GRE_FLAG_SEQ) != 0 ? 4 : 0);
}

/** Offset of the key field (only meaningful when GRE_FLAG_KEY is set). */
@inline export function greKeyOffset(flags: u32): u32 {
  return GRE_MIN_LEN + ((flags & (GRE_FLAG_CSUM | GRE_FLAG_ROUTING)) != 0 ? 4 : 0);
}
