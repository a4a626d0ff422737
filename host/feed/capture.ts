/**
 * What the feed simulator writes with -w: a pcapng file (one Ethernet interface, nanosecond
 * timestamps) of the packets it sent, as they would appear on the wire: Ethernet + IPv4 + UDP for
 * MoldUDP64 datagrams, Ethernet + IPv4 + TCP for the SoupBinTCP stream. Addresses are those of the
 * run (the sockets' own); MAC addresses are locally administered placeholders.
 *
 *   pcapng: SHB | IDB (LINKTYPE_ETHERNET, if_tsresol 9) | EPB | EPB | …
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;
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

export class PcapngWriter {
  private fd: number;
  private ipId = 0;
  private tcpSeq = 1;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
    const shb = Buffer.alloc(28);
    shb.writeUInt32LE(SHB, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    shb.writeUInt16LE(1, 12);
    shb.writeUInt16LE(0, 14);
    shb.writeBigInt64LE(-1n, 16);
    shb.writeUInt32LE(28, 24);
    writeSync(this.fd, shb);
    // IDB with if_tsresol = 9 (nanoseconds).
    const idb = Buffer.alloc(32);
    idb.writeUInt32LE(IDB, 0);
    idb.writeUInt32LE(32, 4);
    idb.writeUInt16LE(1, 8); // LINKTYPE_ETHERNET
    idb.writeUInt32LE(65535, 12);
    idb.writeUInt16LE(9, 16); // if_tsresol
    idb.writeUInt16LE(1, 18);
    idb[20] = 9;
    idb.writeUInt32LE(0, 24); // opt_endofopt
    idb.writeUInt32LE(32, 28);
    writeSync(this.fd, idb);
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
    const pad = (4 - (f.length % 4)) % 4;
    const len = 28 + f.length + pad + 4;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(EPB, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt32LE(0, 8);
    b.writeUInt32LE(Number(tsNs >> 32n), 12);
    b.writeUInt32LE(Number(tsNs & 0xffffffffn), 16);
    b.writeUInt32LE(f.length, 20);
    b.writeUInt32LE(f.length, 24);
    b.set(f, 28);
    b.writeUInt32LE(len, len - 4);
    writeSync(this.fd, b);
  }

  udp(tsNs: bigint, src: Endpoint, dst: Endpoint, payload: Uint8Array): void {
    this.frame(tsNs, src, dst, 17, payload);
  }

  /** One TCP segment of the stream src → dst (sequence numbers continue from the last). */
  tcp(tsNs: bigint, src: Endpoint, dst: Endpoint, payload: Uint8Array): void {
    for (let o = 0; o < payload.length; o += 65000) this.frame(tsNs, src, dst, 6, payload.subarray(o, Math.min(payload.length, o + 65000)));
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
