// Burst gather for parser plugins (host/plugins/): lays a burst out as ABI v1 metadata blocks
// (host/plugins/abi.ts has the diagram), so the host crosses into the plugin once per burst.
//
// Isolated mode: each routed packet becomes [64-byte block][its bytes, padded to 8] in `dst`, a
// scratch area of the engine memory whose contents the host then copies into the plugin's memory
// at `base` with one memory copy; every address written is already one in the plugin's memory.
// Trusted mode: only the 64-byte blocks are written (back to back), `ptr` points into the frame.
//
// Routing: `mark` != 0 takes packets whose flow-director mark equals it; else `port` != 0 takes
// TCP/UDP/SCTP packets with that source or destination port; else every packet.
//
// The list holds `count` metadata-record addresses, or, when `metaBase` is not 0, frame indexes
// whose records are at metaBase + 64 × index (an engine burst list).
//
// Out (three u32 at `out`): [0] packets of the burst consumed (routed or not), [1] blocks written,
// [2] bytes written. A burst larger than `dstCap` is gathered in several rounds from `start`.
// `sel[k]` receives the burst index of block k and `pos[k]` its offset from `dst`.

import {
  META_CAPLEN, META_DATA, META_ERRORS, META_HASH, META_L3, META_L4, META_MARK, META_PAYLOAD, META_PTYPE,
  META_QUEUE, META_VLAN0, META_WIRELEN, OFFSET_NONE,
} from './meta';

// DPDK RTE_PTYPE_L4_* (the parsers' ptype values): the layers whose first 4 bytes are two ports.
const PTYPE_L4_MASK: u32 = 0x00000f00;
const PTYPE_L4_TCP: u32 = 0x00000100;
const PTYPE_L4_UDP: u32 = 0x00000200;
const PTYPE_L4_SCTP: u32 = 0x00000400;

const ABI_META_BYTES: u32 = 64;
const COPY_FRAME: u32 = 0;
const COPY_L3: u32 = 1;
const COPY_L4: u32 = 2;

@inline function routed(m: usize, port: u32, mark: u32): bool {
  if (mark != 0) return load<u32>(m + META_MARK) == mark;
  if (port == 0) return true;
  const l4kind = load<u32>(m + META_PTYPE) & PTYPE_L4_MASK;
  if (l4kind != PTYPE_L4_TCP && l4kind != PTYPE_L4_UDP && l4kind != PTYPE_L4_SCTP) return false;
  const l4 = <u32>load<u16>(m + META_L4);
  if (l4 == <u32>OFFSET_NONE || l4 + 4 > load<u32>(m + META_CAPLEN)) return false;
  const ports = load<u32>(<usize>load<u32>(m + META_DATA) + l4);
  const src = bswap<u16>(<u16>ports);
  const dst = bswap<u16>(<u16>(ports >> 16));
  return <u32>src == port || <u32>dst == port;
}

export function pluginGather(
  metaList: usize, count: u32, start: u32, mode: u32, trusted: u32, port: u32, mark: u32,
  dst: usize, dstCap: u32, base: u32, sel: usize, pos: usize, out: usize, metaBase: usize,
): u32 {
  let used: u32 = 0;
  let k: u32 = 0;
  let prev: usize = 0;
  let i = start;
  for (; i < count; i++) {
    const entry = <usize>load<u32>(metaList + (<usize>i << 2));
    const m = metaBase ? metaBase + (entry << 6) : entry;
    if (!routed(m, port, mark)) continue;
    const caplen = load<u32>(m + META_CAPLEN);
    let s: u32 = 0;
    if (mode != COPY_FRAME) {
      const off = <u32>load<u16>(m + (mode == COPY_L3 ? META_L3 : mode == COPY_L4 ? META_L4 : META_PAYLOAD));
      s = off == <u32>OFFSET_NONE || off > caplen ? caplen : off;
    }
    let len = caplen - s;
    let need = ABI_META_BYTES;
    if (!trusted) {
      need += (len + 7) & ~7;
      if (used + need > dstCap) {
        if (k > 0) break;
        // A single packet larger than the plugin's input region: give it what fits.
        len = dstCap - ABI_META_BYTES;
        need = dstCap;
      }
    } else if (used + need > dstCap) break;
    const b = dst + used;
    const data = <usize>load<u32>(m + META_DATA);
    const ptr: u32 = trusted ? <u32>(data + s) : base + used + ABI_META_BYTES;
    // The block is built from the record's four 16-byte lines with SIMD shuffles: the layer
    // offsets (four u16 at 24..31) are rebased on the copied bytes all at once.
    const v0 = v128.load(m);
    const v1 = v128.load(m, 16);
    const o = v1;
    const d = i16x8.sub(o, i16x8.splat(<i16>s));
    const valid = v128.and(
      v128.and(i16x8.ne(o, i16x8.splat(-1)), i16x8.ge_u(o, i16x8.splat(<i16>s))),
      i16x8.le_u(d, i16x8.splat(<i16>min(len, 0xfffe))),
    );
    const relv = v128.bitselect(d, i16x8.splat(-1), valid);
    // 0..15: ptype | l2 l3 l4 payload | flow hash
    v128.store(b, i32x4.replace_lane(v128.shuffle<u8>(v0, relv, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31, 0, 0, 0, 0), 3, load<u32>(m + META_HASH)));
    // 16..31: timestamp | queue | vlan | wire length
    let l1 = i16x8.replace_lane(i16x8.replace_lane(v1, 4, load<u16>(m + META_QUEUE)), 5, load<u16>(m + META_VLAN0));
    v128.store(b, i32x4.replace_lane(l1, 3, load<u32>(m + META_WIRELEN)), 16);
    // 32..47: error flags | len | ptr | next (0 until the next block links itself)
    v128.store(b, i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(load<u32>(m + META_ERRORS)), 1, len), 2, ptr), 3, 0), 32);
    // 48..63: verdict 0 (pass) | mark | reserved
    v128.store(b, i32x4.replace_lane(i32x4.splat(0), 1, load<u32>(m + META_MARK)), 48);
    if (!trusted) memory.copy(b + ABI_META_BYTES, data + s, len);
    if (prev) store<u32>(prev, base + used, 44);
    prev = b;
    store<u32>(sel + (<usize>k << 2), i);
    store<u32>(pos + (<usize>k << 2), used);
    k++;
    used += need;
  }
  store<u32>(out, i);
  store<u32>(out, k, 4);
  store<u32>(out, used, 8);
  return k;
}
