/**
 * Ethernet + IPv4 + UDP frames written in place (into a TX buffer of the shared memory), for the
 * generator and the transmit tests. Checksums are computed (IPv4 header always, UDP too), so the
 * receiving kernel accepts them as any other host's.
 *
 *  0      6      12   14                 34         42
 *  | dst  | src  |0800| IPv4 (20 B, no   | UDP 8 B  | payload ...
 *  | MAC  | MAC  |    | options, DF, TTL 64)        |
 */
export interface UdpEndpoints {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
}

export const UDP_HEADERS = 42;

const mac = (s: string) => s.split(':').map((h) => parseInt(h, 16));
const ip4 = (s: string) => s.split('.').map(Number);

function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  for (let i = from; i + 1 < to; i += 2) acc += (b[i] << 8) | b[i + 1];
  if ((to - from) & 1) acc += b[to - 1] << 8;
  return acc;
}
const fold = (acc: number) => {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
};

/** Writes the 42 header bytes for a payload of `payloadLen` bytes (already at b[42..]); returns the frame length. */
export function writeUdpHeaders(b: Uint8Array, e: UdpEndpoints, payloadLen: number, ipId = 0): number {
  b.set(mac(e.dstMac), 0);
  b.set(mac(e.srcMac), 6);
  b[12] = 0x08;
  b[13] = 0x00;
  const ipLen = 20 + 8 + payloadLen;
  const h = 14;
  b[h] = 0x45;
  b[h + 1] = 0;
  b[h + 2] = ipLen >> 8;
  b[h + 3] = ipLen & 0xff;
  b[h + 4] = (ipId >> 8) & 0xff;
  b[h + 5] = ipId & 0xff;
  b[h + 6] = 0x40; // DF
  b[h + 7] = 0;
  b[h + 8] = 64;
  b[h + 9] = 17;
  b[h + 10] = 0;
  b[h + 11] = 0;
  b.set(ip4(e.srcIp), h + 12);
  b.set(ip4(e.dstIp), h + 16);
  const ipc = ~fold(sum16(b, h, h + 20)) & 0xffff;
  b[h + 10] = ipc >> 8;
  b[h + 11] = ipc & 0xff;
  const u = 34;
  const udpLen = 8 + payloadLen;
  b[u] = e.srcPort >> 8;
  b[u + 1] = e.srcPort & 0xff;
  b[u + 2] = e.dstPort >> 8;
  b[u + 3] = e.dstPort & 0xff;
  b[u + 4] = udpLen >> 8;
  b[u + 5] = udpLen & 0xff;
  b[u + 6] = 0;
  b[u + 7] = 0;
  // Pseudo-header: source, destination, protocol, UDP length.
  let acc = sum16(b, h + 12, h + 20) + 17 + udpLen;
  acc = sum16(b, u, u + udpLen, acc);
  const uc = ~fold(acc) & 0xffff || 0xffff;
  b[u + 6] = uc >> 8;
  b[u + 7] = uc & 0xff;
  return 14 + ipLen;
}
