// VXLAN, RFC 7348: UDP destination port 4789, then an 8-byte header and an inner Ethernet frame.
//
//  0               1                               4                               8
//  +-+-+-+-+-+-+-+-+-------------------------------+-----------------------+-------+
//  |R|R|R|R|I|R|R|R|          Reserved             |    VNI (24 bits)      | Rsvd  |
//  +-+-+-+-+-+-+-+-+-------------------------------+-----------------------+-------+

export const VXLAN_FLAGS: usize = 0;
export const VXLAN_VNI: usize = 4;
export const VXLAN_HEADER_LEN: u32 = 8;
/** The I flag: the VNI is valid. */
export const VXLAN_FLAG_VNI: u32 = 0x08;
