// Frame metadata: one 64-byte record (one cache line) per frame, like DPDK's rte_mbuf. Backends
// fill the capture fields, the parsers the layer fields, the engine the dispatch fields.
// host/meta.ts mirrors these offsets for the Packet view; tests/meta-layout.test.ts checks both agree.
//
//  0               4               8               12              16
//  +---------------+---------------+---------------+---------------+
//  | data (abs u32)| caplen        | wirelen       | ptype         |   backend / parser
//  +---------------+---------------+---------------+---------------+
//  | timestamp ns (u64)            | l2 u16 | l3   | l4     | paylod|   16..31
//  +-------+-------+-------+-------+---------------+---------------+
//  |inner3 |inner4 | vlan0 | vlan1 | flow hash     | errors        |   32..47
//  +-------+-------+-------+-------+---------------+---------------+
//  | queue |linktype| mark (u32)   | refcnt        | next frame    |   48..63 engine
//  +-------+-------+-------+-------+---------------+---------------+
//
// data      absolute address in the shared memory of the first captured byte: a frame of the pool,
//           or a packet inside a kernel ring (TPACKET block) that was never copied.
// caplen    bytes readable at data; parsers never read past it.
// wirelen   length of the packet on the wire (>= caplen).
// offsets   from data; OFFSET_NONE (0xFFFF) when the layer is absent.
// vlan0/1   outermost / next VLAN id (12 bits), VLAN_NONE (0xFFFF) when untagged.
// linktype  u16 pcap LINKTYPE_* of the bytes at data (1 Ethernet, 101 raw IP, 113 SLL, 276 SLL2).
// mark      u32 set by a flow-director rule.
// refcnt    u32, changed only atomically; the frame returns to the pool when it drops to 0.
// next      frame index of the next segment of a scatter-gather chain, NEXT_NONE when last.

import { LINKTYPE_ETHERNET } from './parse/ptype';

export const META_BYTES: usize = 64;

export const META_DATA: usize = 0;
export const META_CAPLEN: usize = 4;
export const META_WIRELEN: usize = 8;
export const META_PTYPE: usize = 12;
export const META_TIMESTAMP: usize = 16;
export const META_L2: usize = 24;
export const META_L3: usize = 26;
export const META_L4: usize = 28;
export const META_PAYLOAD: usize = 30;
export const META_INNER_L3: usize = 32;
export const META_INNER_L4: usize = 34;
export const META_VLAN0: usize = 36;
export const META_VLAN1: usize = 38;
export const META_HASH: usize = 40;
export const META_ERRORS: usize = 44;
export const META_QUEUE: usize = 48;
export const META_LINKTYPE: usize = 50;
export const META_MARK: usize = 52;
export const META_REFCNT: usize = 56;
export const META_NEXT: usize = 60;

export const OFFSET_NONE: u16 = 0xffff;
export const VLAN_NONE: u16 = 0xffff;
export const NEXT_NONE: u32 = 0xffffffff;

// A kernel ring hands over a frame: fill the receive part of its record and reset the parser and
// engine fields. Records are reused frame after frame, and a stale layer offset from an earlier
// packet must never survive. Every kernel ring here carries whole Ethernet frames.

// @ts-ignore: decorator
@inline
export function fillRxMeta(m: usize, data: usize, caplen: u32, wirelen: u32, ts: u64, queue: u32, vlan: u32): void {
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
