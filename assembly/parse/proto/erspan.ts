// ERSPAN (Cisco Encapsulated Remote SPAN, draft-foschiano-erspan-03), carried in GRE: a mirrored
// Ethernet frame after a small header. Type I: GRE protocol 0x88be without a sequence number and
// no ERSPAN header. Type II: 0x88be with a sequence number and an 8-byte header. Type III: 0x22eb,
// a 12-byte header and, when the O flag is set, an 8-byte platform-specific subheader.
//
// Type II (8 bytes):                              Type III (12 bytes):
//  0       2       4       6       8               0       2       4               8       10    12
//  +-------+-------+-------+-------+               +-------+-------+---------------+-------+-----+
//  |Ver|VLAN|COS.. session | index |               |Ver|VLAN|COS.. session| timestamp     |SGT  |..O|
//  +-------+-------+-------+-------+               +-------+-------+---------------+-------+-----+

export const GRE_PROTO_ERSPAN_II: u32 = 0x88be;
export const GRE_PROTO_ERSPAN_III: u32 = 0x22eb;
export const ERSPAN_II_LEN: u32 = 8;
export const ERSPAN_III_LEN: u32 = 12;
/** O flag (platform subheader present): lowest bit of the type III header's last byte. */
export const ERSPAN_III_FLAGS: usize = 11;
export const ERSPAN_III_O: u32 = 0x01;
export const ERSPAN_III_PLATFORM_LEN: u32 = 8;
