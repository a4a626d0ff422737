// The kernel's side of an AF_XDP socket, played by a spec against rings it built in memory:
// each ring has its producer at +0, consumer at +64, flags at +128 and descriptors at +192.
import { XSK_FILL, XSK_RX } from '../kernel/xsk';

/** The ring whose address the xsk state holds at `line` (XSK_RX, XSK_FILL, XSK_TX, XSK_COMP). */
export function ringOf(st: usize, line: usize): usize {
  return <usize>load<u32>(st + line);
}

/** The kernel's RX: takes `n` addresses off the fill ring and posts them as packets of `len`
 * after 256 bytes of XDP headroom. `entries` is both rings' size (a power of two). */
export function kernelDeliver(st: usize, n: u32, len: u32, entries: u32): void {
  const fill = ringOf(st, XSK_FILL);
  const rx = ringOf(st, XSK_RX);
  let fc = load<u32>(fill, 64);
  let rp = load<u32>(rx);
  for (let i: u32 = 0; i < n; i++) {
    const addr = load<u64>(fill + 192 + (<usize>(fc & (entries - 1)) << 3));
    const d = rx + 192 + (<usize>(rp & (entries - 1)) << 4);
    store<u64>(d, addr + 256);
    store<u32>(d, len, 8);
    fc++;
    rp++;
  }
  store<u32>(fill, fc, 64);
  store<u32>(rx, rp);
}
