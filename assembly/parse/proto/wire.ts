// Network-byte-order reads: one load and a byte swap each (WASM is little-endian). Every caller
// has checked that the bytes lie inside the captured length before it reads.

@inline export function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

@inline export function u8at(p: usize): u32 {
  return <u32>load<u8>(p);
}

/** Packs a parse step's outcome: packet-type bits low, error flags high (no allocation, one value). */
@inline export function outcome(ptype: u32, errors: u32): u64 {
  return (<u64>errors << 32) | <u64>ptype;
}
