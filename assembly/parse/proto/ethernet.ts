// Ethernet II and IEEE 802.3 (length + 802.2 LLC, optionally SNAP). IEEE 802.3-2018 clause 3,
// RFC 1042 (SNAP encapsulation).
//
//  0                   6                  12      14
//  +-------------------+-------------------+-------+----------------
//  | destination MAC   | source MAC        | type  | payload
//  +-------------------+-------------------+-------+----------------
//                                          type >= 0x0600: an EtherType (Ethernet II)
//                                          type <= 0x05dc: a length; an LLC header follows:
//
//  14     15     16      17                20        22
//  +------+------+-------+-----------------+---------+
//  | DSAP | SSAP | ctrl  | OUI (SNAP only) | type    |   SNAP: DSAP = SSAP = 0xaa, ctrl = 0x03
//  +------+------+-------+-----------------+---------+

export const ETH_DST: usize = 0;
export const ETH_SRC: usize = 6;
export const ETH_TYPE: usize = 12;
export const ETH_HEADER_LEN: u32 = 14;
/** Type values below this are 802.3 lengths, not EtherTypes. */
export const ETH_TYPE_MIN: u32 = 0x0600;

export const LLC_DSAP: usize = 0;
export const LLC_SSAP: usize = 1;
export const LLC_CTRL: usize = 2;
export const LLC_HEADER_LEN: u32 = 3;
export const SNAP_TYPE: usize = 6;
export const SNAP_HEADER_LEN: u32 = 8;
export const LLC_SAP_SNAP: u32 = 0xaa;
export const LLC_CTRL_UI: u32 = 0x03;

export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_ARP: u32 = 0x0806;
export const ETHERTYPE_RARP: u32 = 0x8035;
export const ETHERTYPE_VLAN: u32 = 0x8100;
export const ETHERTYPE_QINQ: u32 = 0x88a8;
/** Pre-standard QinQ tag protocol identifiers still seen on the wire. */
export const ETHERTYPE_QINQ_9100: u32 = 0x9100;
export const ETHERTYPE_QINQ_9200: u32 = 0x9200;
export const ETHERTYPE_IPV6: u32 = 0x86dd;
export const ETHERTYPE_LLDP: u32 = 0x88cc;
/** Transparent Ethernet bridging: the EtherType GRE and Geneve use for an inner Ethernet frame. */
export const ETHERTYPE_TEB: u32 = 0x6558;
