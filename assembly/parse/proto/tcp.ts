// TCP, RFC 9293. Options: MSS and window scale (RFC 7323 timestamps), SACK (RFC 2018), MPTCP (RFC 8684).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |  0
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |  4
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |  8
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |  12
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |  16
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options (data offset > 5)                  |  20

export const TCP_SPORT: usize = 0;
export const TCP_DPORT: usize = 2;
export const TCP_SEQ: usize = 4;
export const TCP_ACK: usize = 8;
export const TCP_DATA_OFF: usize = 12;
export const TCP_FLAGS: usize = 13;
export const TCP_WINDOW: usize = 14;
export const TCP_CSUM: usize = 16;
export const TCP_URGENT: usize = 18;
export const TCP_MIN_LEN: u32 = 20;

export const TCP_OPT_EOL: u32 = 0;
export const TCP_OPT_NOP: u32 = 1;
export const TCP_OPT_MSS: u32 = 2;
export const TCP_OPT_WSCALE: u32 = 3;
export const TCP_OPT_SACK_PERMITTED: u32 = 4;
export const TCP_OPT_SACK: u32 = 5;
export const TCP_OPT_TIMESTAMP: u32 = 8;
export const TCP_OPT_MPTCP: u32 = 30;

/** Header length in bytes from the data-offset nibble (4-byte units). */
@inline export function tcpHeaderLen(p: usize): u32 {
  return (<u32>load<u8>(p, TCP_DATA_OFF) >> 4) << 2;
}

/**
 * Finds TCP option `kind` in the header at `p` (header length `hlen`, already checked to be
 * captured). Returns its offset from `p`, or 0 when absent or when a length byte is malformed.
 * A bounded walk: each step advances at least one byte and never reads past `hlen`.
 */
export function tcpFindOption(p: usize, hlen: u32, kind: u32): u32 {
  let o: u32 = TCP_MIN_LEN;
  while (o < hlen) {
    const k = <u32>load<u8>(p + o);
    if (k == TCP_OPT_EOL) return 0;
    if (k == TCP_OPT_NOP) {
      o++;
      continue;
    }
    if (o + 2 > hlen) return 0;
    const len = <u32>load<u8>(p + o, 1);
    if (len < 2 || o + len > hlen) return 0;
    if (k == kind) return o;
    o += len;
  }
  return 0;
}
