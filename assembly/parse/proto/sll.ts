// Linux cooked capture (pcap LINKTYPE_LINUX_SLL 113 and LINKTYPE_LINUX_SLL2 276), the pseudo link
// header of captures on "any" or on non-Ethernet devices. https://www.tcpdump.org/linktypes/
//
// SLL (16 bytes):                                SLL2 (20 bytes):
//  0        2        4        6         14  16    0        2        4          8        10  11  12        20
//  +--------+--------+--------+---------+---+     +--------+--------+----------+--------+---+---+---------+
//  |pkttype |ARPHRD  |addrlen | addr(8) |pro|     |protocol|reserved| ifindex  |ARPHRD  |pkt|aln| addr(8) |
//  +--------+--------+--------+---------+---+     +--------+--------+----------+--------+---+---+---------+
//
// The protocol field is an EtherType, or for a few values below 0x0600 a Linux ETH_P_* code:
// 0x0004 means an 802.2 LLC header follows, 0x0001 Novell 802.3.

export const SLL_PKTTYPE: usize = 0;
export const SLL_HATYPE: usize = 2;
export const SLL_ADDRLEN: usize = 4;
export const SLL_ADDR: usize = 6;
export const SLL_PROTOCOL: usize = 14;
export const SLL_HEADER_LEN: u32 = 16;

export const SLL2_PROTOCOL: usize = 0;
export const SLL2_IFINDEX: usize = 4;
export const SLL2_HATYPE: usize = 8;
export const SLL2_PKTTYPE: usize = 10;
export const SLL2_ADDRLEN: usize = 11;
export const SLL2_ADDR: usize = 12;
export const SLL2_HEADER_LEN: u32 = 20;

/** Linux ETH_P_802_2: an LLC header follows the cooked header. */
export const SLL_PROTO_LLC: u32 = 0x0004;
/** ARPHRD_IPGRE: the protocol field is a GRE protocol type (an EtherType as well). */
export const ARPHRD_IPGRE: u32 = 778;
