// PPPoE session stage, RFC 2516, carrying PPP (RFC 1661) with a 2-byte protocol field.
//
//  0       1       2               4               6               8
//  +-------+-------+---------------+---------------+---------------+
//  |ver|typ| code  | session id    | length        | PPP protocol  |
//  +-------+-------+---------------+---------------+---------------+

export const ETHERTYPE_PPPOE_SESSION: u32 = 0x8864;
export const PPPOE_LENGTH: usize = 4;
export const PPPOE_PPP_PROTO: usize = 6;
export const PPPOE_HEADER_LEN: u32 = 8;
export const PPP_IPV4: u32 = 0x0021;
export const PPP_IPV6: u32 = 0x0057;
