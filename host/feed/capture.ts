/**
 * What the feed simulator writes with -w: a pcapng file (one Ethernet interface, nanosecond
 * timestamps) of the packets it sent, as they would appear on the wire: Ethernet + IPv4 + UDP for
 * MoldUDP64 datagrams, Ethernet + IPv4 + TCP for the SoupBinTCP stream. Addresses are those of the
 * run (the sockets' own); MAC addresses are locally administered placeholders. The file is written
 * as the packets go (host/pcap/writer.ts), so a long run holds none of them.
 *
 *   pcapng: SHB | IDB (LINKTYPE_ETHERNET, snaplen 65535, if_tsresol 9) | EPB | EPB | …
 */
import { PcapngWriter } from '../pcap/index.js';

const SRC_MAC = [0x02, 0x77, 0x77, 0x00, 0x00, 0x01];
const DST_MAC = [0x02, 0x77, 0x77, 0x00, 0x00, 0x02];

function ipv4(s: string): number[] {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`not an IPv4 address: ${s}`);
  return p;
}

function checksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export class FeedCapture {
  private out: PcapngWriter;
  private ipId = 0;
  private tcpSeq = 1;

  constructor(readonly file: string) {
    this.out = PcapngWriter.open(file, [{ linktype: 1, snaplen: 65535, resolution: 'ns' }]);
  }

  private frame(tsNs: bigint, src: Endpoint, dst: Endpoint, proto: 17 | 6, payload: Uint8Array): void {
    const l4 = proto === 17 ? 8 : 20;
    const ipLen = 20 + l4 + payload.length;
    const f = new Uint8Array(14 + ipLen);
    const v = new DataView(f.buffer);
    const dstIp = ipv4(dst.ip);
    const multicast = dstIp[0] >= 224 && dstIp[0] <= 239;
    f.set(multicast ? [0x01, 0x00, 0x5e, dstIp[1] & 0x7f, dstIp[2], dstIp[3]] : DST_MAC, 0);
    f.set(SRC_MAC, 6);
    v.setUint16(12, 0x0800);
    f[14] = 0x45;
    v.setUint16(16, ipLen);
    v.setUint16(18, this.ipId++ & 0xffff);
    v.setUint16(20, 0x4000);
    f[22] = multicast ? 1 : 64;
    f[23] = proto;
    f.set(ipv4(src.ip), 26);
    f.set(dstIp, 30);
    v.setUint16(24, checksum(f, 14, 20));
    v.setUint16(34, src.port);
    v.setUint16(36, dst.port);
    if (proto === 17) v.setUint16(38, 8 + payload.length);
    else {
      v.setUint32(38, this.tcpSeq);
      this.tcpSeq = (this.tcpSeq + payload.length) >>> 0;
      v.setUint32(42, 1);
      f[46] = 5 << 4;
      f[47] = 0x18; // PSH ACK
      v.setUint16(48, 65535);
    }
    f.set(payload, 14 + 20 + l4);
    this.out.write({ linktype: 1, timestampNs: tsNs, data: f, wireLength: f.length });
  }

  udp(tsNs: bigint, src: Endpoint, dst: Endpoint, payload: Uint8Array): void {
    this.frame(tsNs, src, dst, 17, payload);
  }

  /** One TCP segment of the stream src → dst (sequence numbers continue from the last). */
  tcp(tsNs: bigint, src: Endpoint, dst: Endpoint, payload: Uint8Array): void {
    for (let o = 0; o < payload.length; o += 65000) this.frame(tsNs, src, dst, 6, payload.subarray(o, Math.min(payload.length, o + 65000)));
  }

  close(): void {
    this.out.close();
  }
}
