// MPLS label stack, RFC 3032. Each entry is 4 bytes; the bottom-of-stack bit ends the stack and
// the first nibble of what follows tells IPv4 (4) from IPv6 (6) (RFC 4928 relies on the same).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                Label                  | TC  |S|       TTL     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

export const MPLS_ENTRY_LEN: u32 = 4;
/** Bottom-of-stack bit, in the third byte of an entry. */
export const MPLS_BOS_BYTE: usize = 2;
export const MPLS_BOS: u32 = 0x01;
export const MPLS_MAX_DEPTH: u32 = 8;
export const ETHERTYPE_MPLS: u32 = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST: u32 = 0x8848;
