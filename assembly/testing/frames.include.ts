// Test frames written from hex (spaces ignored), placed so that the last byte is the last one of
// a heap block: a read past caplen lands outside the frame.
import { META_BYTES, META_CAPLEN, META_DATA, META_LINKTYPE, META_WIRELEN } from '../meta';

export function hexFrame(hex: string): usize {
  const clean = hex.replaceAll(' ', '');
  const n = clean.length >> 1;
  const p = heap.alloc(<usize>max(n, 1));
  for (let i = 0; i < n; i++) store<u8>(p + i, <u8>I32.parseInt(clean.substr(i * 2, 2), 16));
  return p;
}

export function hexLen(hex: string): u32 {
  return <u32>(hex.replaceAll(' ', '').length >> 1);
}

export function metaFor(hex: string, linktype: u32): usize {
  const m = heap.alloc(META_BYTES);
  memory.fill(m, 0xa5, META_BYTES);
  store<u32>(m, <u32>hexFrame(hex), META_DATA);
  store<u32>(m, hexLen(hex), META_CAPLEN);
  store<u32>(m, hexLen(hex), META_WIRELEN);
  store<u16>(m, <u16>linktype, META_LINKTYPE);
  return m;
}

export function metaForPrefix(hex: string, caplen: u32, linktype: u32): usize {
  const m = metaFor(hex, linktype);
  store<u32>(m, caplen, META_CAPLEN);
  return m;
}
