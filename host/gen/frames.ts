// Synthetic frames for the memory backend, the bench and `npm start`: Ethernet / IPv4 / UDP (or
// TCP) with valid header checksums, one flow per (src, sport) pair, so RSS has flows to spread.

export interface FlowSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: 'udp' | 'tcp';
  vlan?: number;
  /** Frame length including the Ethernet header (>= 60 for UDP, >= 74 for TCP... padded). */
  length?: number;
}

const ip4 = (s: string) => s.split('.').map(Number);

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i] << 8) | b[off + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet/IPv4/UDP-or-TCP frame for `f`. */
export function buildFrame(f: FlowSpec): Uint8Array {
  const proto = f.proto ?? 'udp';
  const l2 = f.vlan === undefined ? 14 : 18;
  const l4len = proto === 'udp' ? 8 : 20;
  const len = Math.max(f.length ?? 64, l2 + 20 + l4len);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  b.set([0x02, 0, 0, 0, 0, 2], 0);
  b.set([0x02, 0, 0, 0, 0, 1], 6);
  let o = 12;
  if (f.vlan !== undefined) {
    v.setUint16(12, 0x8100);
    v.setUint16(14, f.vlan & 0xfff);
    o = 16;
  }
  v.setUint16(o, 0x0800);
  const ip = l2;
  const ipLen = len - l2;
  b[ip] = 0x45;
  v.setUint16(ip + 2, ipLen);
  b[ip + 8] = 64;
  b[ip + 9] = proto === 'udp' ? 17 : 6;
  b.set(ip4(f.src), ip + 12);
  b.set(ip4(f.dst), ip + 16);
  v.setUint16(ip + 10, ipChecksum(b, ip, 20));
  const l4 = ip + 20;
  v.setUint16(l4, f.sport);
  v.setUint16(l4 + 2, f.dport);
  if (proto === 'udp') v.setUint16(l4 + 4, ipLen - 20);
  else {
    b[l4 + 12] = 0x50;
    b[l4 + 13] = 0x10;
    v.setUint16(l4 + 14, 65535);
  }
  return b;
}

/** `n` frames over `flows` distinct UDP flows (10.0.x.y:port -> 10.1.0.1:5000), round-robin. */
export function syntheticFrames(n: number, flows = 64, length = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % flows;
    out.push(buildFrame({ src: `10.0.${(k >> 8) & 255}.${k & 255}`, dst: '10.1.0.1', sport: 1024 + k, dport: 5000, length }));
  }
  return out;
}
