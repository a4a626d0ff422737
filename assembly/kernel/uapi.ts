// Kernel ABI facts the ring walkers rely on: linux/if_packet.h (TPACKET status words and frame
// headers) and linux/if_xdp.h (ring flags). Values and offsets are the kernel's, not ours.

// linux/if_packet.h
export const TP_STATUS_KERNEL: u32 = 0;
export const TP_STATUS_USER: u32 = 1 << 0;
export const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
export const TP_STATUS_AVAILABLE: u32 = 0;
export const TP_STATUS_SEND_REQUEST: u32 = 1 << 0;
export const TP_STATUS_WRONG_FORMAT: u32 = 1 << 2;

// struct tpacket_block_desc (V3): version u32, offset_to_priv u32, then tpacket_hdr_v1:
export const BLK_STATUS: usize = 8;
export const BLK_NUM_PKTS: usize = 12;
export const BLK_FIRST: usize = 16;
// struct tpacket3_hdr
export const H3_NEXT: usize = 0;
export const H3_SEC: usize = 4;
export const H3_NSEC: usize = 8;
export const H3_SNAPLEN: usize = 12;
export const H3_LEN: usize = 16;
export const H3_STATUS: usize = 20;
export const H3_MAC: usize = 24;
export const H3_VLAN_TCI: usize = 32;
// struct tpacket2_hdr
export const H2_STATUS: usize = 0;
export const H2_LEN: usize = 4;
export const H2_SNAPLEN: usize = 8;
export const H2_MAC: usize = 12;
export const H2_SEC: usize = 16;
export const H2_NSEC: usize = 20;
export const H2_VLAN_TCI: usize = 24;

// linux/if_xdp.h
/** The kernel wants a syscall (recvfrom / sendto) to make progress. */
export const XDP_RING_NEED_WAKEUP: u32 = 1;
