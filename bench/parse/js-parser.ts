// The js-dataview peer: the same extraction as assembly/parse/parse.ts for the corpus's protocols
// (Ethernet, VLAN tags, ARP, IPv4 with options and fragments, IPv6 extension headers, TCP, UDP,
// ICMP, ICMPv6), written the way a careful JS programmer would: one DataView, numbers only, the
// results stored into the same 64-byte metadata records.
import { META } from '../../host/meta.js';

const TCP = 0x100, UDP = 0x200, FRAG = 0x300, ICMP = 0x500;

export function jsParseBurst(dv: DataView, metaBase: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const m = metaBase + i * 64;
    const data = dv.getUint32(m + META.DATA, true);
    const caplen = dv.getUint32(m + META.CAPLEN, true);
    dv.setUint32(m + META.L2, 0xffffffff, true);
    dv.setUint32(m + META.L4, 0xffffffff, true);
    dv.setUint32(m + META.INNER_L3, 0xffffffff, true);
    dv.setUint32(m + META.VLAN0, 0xffffffff, true);
    let ptype = 0;
    let errors = 0;
    parse: {
      if (caplen < 14) { errors = 1; break parse; }
      dv.setUint16(m + META.L2, 0, true);
      let type = dv.getUint16(data + 12);
      let off = 14;
      ptype = 1;
      let depth = 0;
      while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
        if (depth === 8) { errors = 0x1000; break parse; }
        if (off + 4 > caplen) { errors = 1; break parse; }
        if (depth < 2) dv.setUint16(m + META.VLAN0 + depth * 2, dv.getUint16(data + off) & 0xfff, true);
        type = dv.getUint16(data + off + 2);
        off += 4;
        depth++;
        ptype = depth === 1 ? 6 : 7;
      }
      let end = caplen;
      let proto: number;
      if (type === 0x0800) {
        if (off + 20 > caplen) { errors = 2; break parse; }
        const vihl = dv.getUint8(data + off);
        const hlen = (vihl & 15) << 2;
        if (vihl >> 4 !== 4 || hlen < 20) { errors = 0x400; break parse; }
        if (off + hlen > caplen) { errors = 2; break parse; }
        dv.setUint16(m + META.L3, off, true);
        ptype |= hlen === 20 ? 0x10 : 0x30;
        const total = dv.getUint16(data + off + 2);
        end = off + total;
        if (total < hlen) (errors |= 0x400), (end = caplen);
        else if (end > caplen) (errors |= 0x8000), (end = caplen);
        const frag = dv.getUint16(data + off + 6);
        proto = dv.getUint8(data + off + 9);
        off += hlen;
        if (frag & 0x3fff) {
          errors |= 0x80;
          if (frag & 0x1fff) { ptype |= FRAG; dv.setUint16(m + META.PAYLOAD, off, true); break parse; }
        }
      } else if (type === 0x86dd) {
        if (off + 40 > caplen) { errors = 2; break parse; }
        dv.setUint16(m + META.L3, off, true);
        const plen = dv.getUint16(data + off + 4);
        proto = dv.getUint8(data + off + 6);
        end = off + 40 + plen;
        if (plen === 0 && proto === 0) end = caplen;
        else if (end > caplen) (errors |= 0x8000), (end = caplen);
        off += 40;
        ptype |= 0x40;
        for (let d = 0; ; d++) {
          let len: number;
          if (proto === 0 || proto === 43 || proto === 60 || proto === 135) {
            if (off + 8 > end) { errors |= 2; break parse; }
            len = (dv.getUint8(data + off + 1) + 1) << 3;
          } else if (proto === 44) {
            if (off + 8 > end) { errors |= 2; break parse; }
            errors |= 0x80;
            if (dv.getUint16(data + off + 2) & 0xfff8) { ptype = (ptype & ~0xf0) | 0xc0 | FRAG; dv.setUint16(m + META.PAYLOAD, off + 8, true); break parse; }
            len = 8;
          } else if (proto === 51) {
            if (off + 8 > end) { errors |= 2; break parse; }
            len = (dv.getUint8(data + off + 1) + 2) << 2;
          } else break;
          if (d === 8) { errors |= 0x1000; break parse; }
          if (off + len > end) { errors |= 2; break parse; }
          proto = dv.getUint8(data + off);
          off += len;
          ptype = (ptype & ~0xf0) | 0xc0;
        }
      } else if (type === 0x0806) {
        if (off + 8 > caplen) { errors = 2; break parse; }
        dv.setUint16(m + META.L3, off, true);
        const len = 8 + 2 * (dv.getUint8(data + off + 4) + dv.getUint8(data + off + 5));
        if (off + len > caplen) { errors = 2; break parse; }
        dv.setUint16(m + META.PAYLOAD, off + len, true);
        if (ptype === 1) ptype = 3;
        break parse;
      } else { errors = 0x100; break parse; }
      if (proto === 6) {
        if (off + 20 > end) { errors |= 4; break parse; }
        dv.setUint16(m + META.L4, off, true);
        const hl = (dv.getUint8(data + off + 12) >> 4) << 2;
        ptype |= TCP;
        if (hl < 20) { errors |= 0x800; break parse; }
        if (off + hl > end) { errors |= 4; break parse; }
        dv.setUint16(m + META.PAYLOAD, off + hl, true);
      } else if (proto === 17) {
        if (off + 8 > end) { errors |= 4; break parse; }
        dv.setUint16(m + META.L4, off, true);
        dv.setUint16(m + META.PAYLOAD, off + 8, true);
        ptype |= UDP;
      } else if (proto === 1 || proto === 58) {
        if (off + 4 > end) { errors |= 4; break parse; }
        dv.setUint16(m + META.L4, off, true);
        if (off + 8 <= end) dv.setUint16(m + META.PAYLOAD, off + 8, true);
        ptype |= ICMP;
      } else {
        dv.setUint16(m + META.PAYLOAD, off, true);
        errors |= 0x200;
      }
    }
    dv.setUint32(m + META.PTYPE, ptype, true);
    dv.setUint32(m + META.HASH, 0, true);
    dv.setUint32(m + META.ERRORS, errors, true);
  }
}
