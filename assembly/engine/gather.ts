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
  META_CAPLEN, META_DATA, META_ERRORS, META_HASH, META_L2, META_L3, META_L4, META_MARK, META_PAYLOAD, META_PTYPE,
  META_QUEUE, META_TIMESTAMP, META_VLAN0, META_WIRELEN, OFFSET_NONE,
} from '../meta';
import { PTYPE_L4_MASK, PTYPE_L4_SCTP, PTYPE_L4_TCP, PTYPE_L4_UDP } from '../parse/ptype';
import { copyBytes } from '../copy';

const ABI_META_BYTES: u32 = 64;
const COPY_FRAME: u32 = 0;
const COPY_L3: u32 = 1;
const COPY_L4: u32 = 2;

@inline function routed(m: usize, port: u32, mark: u32): bool {
  if (mark != 0) return load<u32>(m + META_MARK) == mark;
  if (port == 0) return true;
  // The layers whose first 4 bytes are two ports.
  const l4kind = load<u32>(m + META_PTYPE) & PTYPE_L4_MASK;
  if (l4kind != PTYPE_L4_TCP && l4kind != PTYPE_L4_UDP && l4kind != PTYPE_L4_SCTP) return false;
  const l4 = <u32>load<u16>(m + META_L4);
  if (l4 == <u32>OFFSET_NONE || l4 + 4 > load<u32>(m + META_CAPLEN)) return false;
  const ports = load<u32>(<usize>load<u32>(m + META_DATA) + l4);
  const src = bswap<u16>(<u16>ports);
  const dst = bswap<u16>(<u16>(ports >> 16));
  return <u32>src == port || <u32>dst == port;
}

// Writes one ABI block at `b` from the engine record `m`: eight u64 stores, each field taken
// straight from the record (the two layouts differ, so lines cannot be copied whole). `s` is where
// the copied bytes start in the frame: the layer offsets are rebased on it (four u16 at once with
// SIMD; 0xFFFF when absent, before `s`, or past the copied bytes).
@inline function writeBlock(b: usize, m: usize, s: u32, len: u32, ptr: u32, next: u32, mark: u32): void {
  const o = v128.load64_splat(m + META_L2);
  const d = i16x8.sub(o, i16x8.splat(<i16>s));
  const valid = v128.and(
    v128.and(i16x8.ne(o, i16x8.splat(-1)), i16x8.ge_u(o, i16x8.splat(<i16>s))),
    i16x8.le_u(d, i16x8.splat(<i16>min(len, 0xfffe))),
  );
  const rel = i64x2.extract_lane(v128.bitselect(d, i16x8.splat(-1), valid), 0);
  store<u64>(b, <u64>load<u32>(m + META_PTYPE) | (rel << 32)); // ptype | l2 l3
  store<u64>(b, (rel >> 32) | (<u64>load<u32>(m + META_HASH) << 32), 8); // l4 payload | hash
  store<u64>(b, load<u64>(m + META_TIMESTAMP), 16);
  store<u64>(b, <u64>load<u16>(m + META_QUEUE) | (<u64>load<u16>(m + META_VLAN0) << 16) | (<u64>load<u32>(m + META_WIRELEN) << 32), 24);
  store<u64>(b, <u64>load<u32>(m + META_ERRORS) | (<u64>len << 32), 32);
  store<u64>(b, <u64>ptr | (<u64>next << 32), 40);
  store<u64>(b, <u64>mark << 32, 48); // verdict 0 (pass) | the routing rule's mark (0: port/all)
  store<u64>(b, 0, 56);
}

// The record field the copy starts at: the copy mode is fixed for the whole call.
@inline function startField(mode: u32): usize {
  return mode == COPY_L3 ? META_L3 : mode == COPY_L4 ? META_L4 : META_PAYLOAD;
}

// Where the copy of record `m` starts: its layer offset, or caplen (nothing) when it has no such layer.
@inline function copyStart(m: usize, mode: u32, field: usize, caplen: u32): u32 {
  if (mode == COPY_FRAME) return 0;
  const off = <u32>load<u16>(m + field);
  return off == <u32>OFFSET_NONE || off > caplen ? caplen : off;
}

export function pluginGather(
  metaList: usize, count: u32, start: u32, mode: u32, trusted: u32, port: u32, mark: u32,
  dst: usize, dstCap: u32, base: u32, sel: usize, pos: usize, out: usize, metaBase: usize,
): u32 {
  if (trusted) return gatherTrusted(metaList, count, start, mode, port, mark, dst, dstCap, base, sel, pos, out, metaBase);
  // Loop invariants are hoisted by hand: V8 keeps few values in registers across this loop, and
  // every one it spills costs a load per packet. A record address is metaBase + (entry << shift).
  const field = startField(mode);
  const shift: usize = metaBase ? 6 : 0;
  let used: u32 = 0;
  let k: u32 = 0;
  let last: usize = 0;
  let i = start;
  for (; i < count; i++) {
    const m = metaBase + (<usize>load<u32>(metaList + (<usize>i << 2)) << shift);
    if (!routed(m, port, mark)) continue;
    const caplen = load<u32>(m + META_CAPLEN);
    const s = copyStart(m, mode, field, caplen);
    let len = caplen - s;
    let need = ABI_META_BYTES + ((len + 7) & ~7);
    const b = dst + used;
    if (used + need > dstCap) {
      if (k > 0) break;
      // A single packet larger than the plugin's input region: give it what fits.
      len = dstCap - ABI_META_BYTES;
      need = dstCap;
    } else if (len & 7) {
      // The padding to 8 is zeroed: the area last held other packets, maybe other plugins'.
      store<u64>(b + ABI_META_BYTES + (len & ~7), 0);
    }
    // `next` assumes a following block; the last one is set to 0 after the loop.
    writeBlock(b, m, s, len, base + used + ABI_META_BYTES, base + used + need, mark);
    copyBytes(b + ABI_META_BYTES, <usize>load<u32>(m + META_DATA) + s, len);
    last = b;
    store<u32>(sel + (<usize>k << 2), i);
    store<u32>(pos + (<usize>k << 2), used);
    k++;
    used += need;
  }
  if (last) store<u32>(last, 0, 44);
  store<u32>(out, i);
  store<u32>(out, k, 4);
  store<u32>(out, used, 8);
  return k;
}

// Trusted mode: blocks only, 64 bytes each, so block k is at dst + 64k and the loop carries just k
// (a separate function: the isolated loop's variable-size bookkeeping cost ~1 ns per packet here).
// With no rule every packet is routed: that loop is compiled apart, without the per-packet
// routing test and with one bound (saves ~0.5 ns per packet).
function gatherTrusted(
  metaList: usize, count: u32, start: u32, mode: u32, port: u32, mark: u32,
  dst: usize, dstCap: u32, base: u32, sel: usize, pos: usize, out: usize, metaBase: usize,
): u32 {
  return port == 0 && mark == 0
    ? trustedLoop(false, metaList, count, start, mode, 0, 0, dst, dstCap, base, sel, pos, out, metaBase)
    : trustedLoop(true, metaList, count, start, mode, port, mark, dst, dstCap, base, sel, pos, out, metaBase);
}

@inline function trustedLoop(
  filter: bool, metaList: usize, count: u32, start: u32, mode: u32, port: u32, mark: u32,
  dst: usize, dstCap: u32, base: u32, sel: usize, pos: usize, out: usize, metaBase: usize,
): u32 {
  const field = startField(mode);
  const shift: usize = metaBase ? 6 : 0;
  const cap = dstCap / ABI_META_BYTES;
  // Unfiltered, block k is packet start + k: the area's capacity bounds i directly.
  const end = filter ? count : min(count, start + cap);
  let k: u32 = 0;
  let i = start;
  for (; i < end && (!filter || k < cap); i++) {
    const m = metaBase + (<usize>load<u32>(metaList + (<usize>i << 2)) << shift);
    if (filter && !routed(m, port, mark)) continue;
    const caplen = load<u32>(m + META_CAPLEN);
    const s = copyStart(m, mode, field, caplen);
    const at = k * ABI_META_BYTES;
    writeBlock(dst + at, m, s, caplen - s, load<u32>(m + META_DATA) + s, base + at + ABI_META_BYTES, mark);
    store<u32>(sel + (<usize>k << 2), i);
    store<u32>(pos + (<usize>k << 2), at);
    k++;
  }
  if (k) store<u32>(dst + (k - 1) * ABI_META_BYTES, 0, 44);
  store<u32>(out, i);
  store<u32>(out, k, 4);
  store<u32>(out, k * ABI_META_BYTES, 8);
  return k;
}
