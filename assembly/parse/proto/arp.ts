// ARP, RFC 826 (and RARP, RFC 903, same layout).
//
//  0       2       4   5   6       8
//  +-------+-------+---+---+-------+---------------------------------------------+
//  | htype | ptype |hln|pln| oper  | sha (hln) | spa (pln) | tha (hln) | tpa (pln) |
//  +-------+-------+---+---+-------+---------------------------------------------+

export const ARP_HTYPE: usize = 0;
export const ARP_PTYPE: usize = 2;
export const ARP_HLEN: usize = 4;
export const ARP_PLEN: usize = 5;
export const ARP_OPER: usize = 6;
export const ARP_ADDRS: usize = 8;
export const ARP_FIXED_LEN: u32 = 8;

/** Bytes of the whole ARP message: the fixed part and two (hardware, protocol) address pairs. */
@inline export function arpLength(p: usize): u32 {
  return ARP_FIXED_LEN + ((<u32>load<u8>(p, ARP_HLEN) + <u32>load<u8>(p, ARP_PLEN)) << 1);
}
