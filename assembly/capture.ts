// Fills the capture part of a frame metadata record (assembly/meta.ts) for a frame a kernel ring
// handed over, and resets the parser and engine fields: records are reused frame after frame,
// and a stale layer offset from an earlier packet must never survive.
import {
  META_CAPLEN, META_DATA, META_HASH, META_INNER_L3, META_L2, META_MARK, META_NEXT, META_PTYPE,
  META_QUEUE, META_REFCNT, META_TIMESTAMP, META_WIRELEN, NEXT_NONE,
} from './meta';

/** pcap LINKTYPE_ETHERNET: every kernel ring here carries whole Ethernet frames. */
export const LINKTYPE_ETHERNET: u32 = 1;

// @ts-ignore: decorator
@inline
export function writeCapture(m: usize, data: usize, caplen: u32, wirelen: u32, ts: u64, queue: u32, vlan: u32): void {
  store<u32>(m, <u32>data, META_DATA);
  store<u32>(m, caplen, META_CAPLEN);
  store<u32>(m, wirelen, META_WIRELEN);
  store<u32>(m, 0, META_PTYPE);
  store<u64>(m, ts, META_TIMESTAMP);
  // l2, l3, l4, payload (four u16 from META_L2): OFFSET_NONE until a parser runs.
  store<u64>(m, 0xffff_ffff_ffff_ffff, META_L2);
  // inner l3, inner l4 (u16 each) none; vlan0 = a tag the kernel took off (or none); vlan1 none.
  store<u64>(m, 0xffff_0000_ffff_ffff | (<u64>(vlan & 0xffff) << 32), META_INNER_L3);
  store<u64>(m, 0, META_HASH); // hash and errors
  store<u32>(m, (queue & 0xffff) | (LINKTYPE_ETHERNET << 16), META_QUEUE);
  store<u32>(m, 0, META_MARK);
  store<u32>(m, 1, META_REFCNT); // held by the burst that received it
  store<u32>(m, NEXT_NONE, META_NEXT);
}
