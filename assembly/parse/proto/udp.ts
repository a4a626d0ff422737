// UDP, RFC 768.
//
//  0               2               4               6               8
//  +---------------+---------------+---------------+---------------+
//  | source port   | dest port     | length        | checksum      |
//  +---------------+---------------+---------------+---------------+

export const UDP_SPORT: usize = 0;
export const UDP_DPORT: usize = 2;
export const UDP_LEN: usize = 4;
export const UDP_CSUM: usize = 6;
export const UDP_HEADER_LEN: u32 = 8;

export const UDP_PORT_VXLAN: u32 = 4789;
export const UDP_PORT_GENEVE: u32 = 6081;
