// The kernel's side of a TPACKET_V3 receive ring, played by a spec against blocks it built in
// memory: af_packet.c writes a block's packets, then hands the block over with TP_STATUS_USER.
import { BLK_FIRST, BLK_NUM_PKTS, BLK_STATUS, H3_LEN, H3_MAC, H3_NEXT, H3_NSEC, H3_SEC, H3_SNAPLEN, TP_STATUS_USER } from '../kernel/uapi';

/** Where the first packet header of a block starts (after the block descriptor). */
const FIRST: u32 = 48;
/** Bytes from one packet header to the next; the packet's bytes start FIRST bytes into it. */
const STRIDE: u32 = 128;

/**
 * The kernel fills block `b` of the V3 ring at `ring` (blocks of `blockBytes`) with `pkts` packets,
 * each `snaplen` bytes captured of `len` on the wire and stamped 1 s + 5 ns, whose first payload
 * word is `seq` + its index, and hands the block over.
 */
export function kernelFillV3(ring: usize, blockBytes: u32, b: u32, pkts: u32, seq: u32, snaplen: u32 = 64, len: u32 = 64): void {
  const blk = ring + <usize>b * blockBytes;
  store<u32>(blk, pkts, BLK_NUM_PKTS);
  store<u32>(blk, FIRST, BLK_FIRST);
  for (let i: u32 = 0; i < pkts; i++) {
    const h = blk + FIRST + <usize>i * STRIDE;
    store<u32>(h, i + 1 < pkts ? STRIDE : 0, H3_NEXT);
    store<u32>(h, 1, H3_SEC);
    store<u32>(h, 5, H3_NSEC);
    store<u32>(h, snaplen, H3_SNAPLEN);
    store<u32>(h, len, H3_LEN);
    store<u16>(h, <u16>FIRST, H3_MAC);
    store<u32>(h + FIRST, seq + i);
  }
  store<u32>(blk, TP_STATUS_USER, BLK_STATUS); // published last
}
