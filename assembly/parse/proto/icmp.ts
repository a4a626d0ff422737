// ICMP for IPv4, RFC 792. Error messages (types 3, 4, 5, 11, 12) quote the offending IP header:
// that quoted packet is payload, never the frame's own L3/L4.
//
//  0               1               2               4                               8
//  +---------------+---------------+---------------+-------------------------------+
//  | type          | code          | checksum      | rest of header (id/seq, ...)  |
//  +---------------+---------------+---------------+-------------------------------+

export const ICMP_TYPE: usize = 0;
export const ICMP_CODE: usize = 1;
export const ICMP_CSUM: usize = 2;
export const ICMP_REST: usize = 4;
/** Type, code and checksum: what must be captured to call the header present. */
export const ICMP_MIN_LEN: u32 = 4;
export const ICMP_HEADER_LEN: u32 = 8;
