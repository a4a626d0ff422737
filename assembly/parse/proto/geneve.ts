// Geneve, RFC 8926: UDP destination port 6081, an 8-byte header, variable options, then the
// payload named by the protocol type (0x6558 Ethernet, or an IP EtherType).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |  0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Virtual Network Identifier (VNI)       |    Reserved   |  4
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Variable-Length Options                    |  8

export const GENEVE_VER_OPTLEN: usize = 0;
export const GENEVE_PROTO: usize = 2;
export const GENEVE_VNI: usize = 4;
export const GENEVE_MIN_LEN: u32 = 8;

/** Header length: 8 bytes plus the options (Opt Len in 4-byte units). */
@inline export function geneveHeaderLen(p: usize): u32 {
  return GENEVE_MIN_LEN + ((<u32>load<u8>(p) & 0x3f) << 2);
}
