// ICMPv6, RFC 4443 (checksum over the IPv6 pseudo-header, RFC 8200 section 8.1).
//
//  0               1               2               4                               8
//  +---------------+---------------+---------------+-------------------------------+
//  | type          | code          | checksum      | message body                  |
//  +---------------+---------------+---------------+-------------------------------+

export const ICMPV6_TYPE: usize = 0;
export const ICMPV6_CODE: usize = 1;
export const ICMPV6_CSUM: usize = 2;
export const ICMPV6_MIN_LEN: u32 = 4;
export const ICMPV6_HEADER_LEN: u32 = 8;
