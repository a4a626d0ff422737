// The text form of a dissected frame, one line each, for people (tcpdump's -e -v habits):
//   number, UTC time to the microsecond, captured bytes, ptype, addresses ([v6]:port), TCP flag
//   names, sequence/ack/window, TTL, VLAN ids, tunnel, errors.
// packetText reads only the fields the line shows off the parsed frame (no jsonl object, no
// Ethernet addresses or offsets formatted for nothing). tests/e2e/dissect-text.test.ts holds it to
// the line made from the frame's jsonl object (checked against tshark) on every frame.
import { TCP_FLAGS, type IpFields, type Packet, type TcpFlag } from '../packet.js';
import * as P from '../ptype.js';

// SYN first, as people read a handshake.
const FLAG_ORDER: TcpFlag[] = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];

export function tcpFlagNames(flags: number): string {
  let s = '';
  for (const name of FLAG_ORDER) if (flags & TCP_FLAGS[name]) s += (s ? ',' : '') + name;
  return s || 'none';
}

// Formatting a date is slow; frames come many to a second: the text of the last second is kept.
let lastSecond = -1n;
let lastPrefix = '';

/** `YYYY-MM-DD HH:MM:SS.uuuuuu` in UTC. */
export function timestampText(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  if (sec !== lastSecond) {
    lastSecond = sec;
    const d = new Date(Number(sec) * 1000);
    lastPrefix = Number.isNaN(d.getTime()) ? `${sec}` : d.toISOString().slice(0, 19).replace('T', ' ');
  }
  return `${lastPrefix}.${String((ns % 1_000_000_000n) / 1000n).padStart(6, '0')}`;
}

export const endpoint = (ip: IpFields, port: number) => (ip.v === 6 ? `[${ip.src}]` : ip.src) + ':' + port;
export const endpointDst = (ip: IpFields, port: number) => (ip.v === 6 ? `[${ip.dst}]` : ip.dst) + ':' + port;

/** ptype names by value: a capture holds few distinct ones, each named once. */
const ptypeNames = new Map<number, string>();
const paddedPtype = (ptype: number) => {
  let s = ptypeNames.get(ptype);
  if (s === undefined) ptypeNames.set(ptype, (s = P.ptypeName(ptype).padEnd(18)));
  return s;
};

/** The frame's line (`n` 1-based, `caplen` the record's captured bytes). */
export function packetText(pkt: Packet, n: number, caplen: number, timestampNs: bigint): string {
  const ptype = pkt.ptype;
  let what = '';
  const ip = pkt.ip;
  if (ip) {
    const l4 = ptype & P.PTYPE_L4_MASK;
    const tcp = l4 === P.PTYPE_L4_TCP ? pkt.tcp : undefined;
    const udp = l4 === P.PTYPE_L4_UDP ? pkt.udp : undefined;
    const ports = tcp ?? udp;
    what = ports ? `${endpoint(ip, ports.sport)} > ${endpointDst(ip, ports.dport)}` : `${ip.src} > ${ip.dst} proto ${ip.proto}`;
    if (tcp) what += ` [${tcpFlagNames(tcp.flags)}] seq ${tcp.seq} ack ${tcp.ack} win ${tcp.win}`;
    else if (udp) what += ` len ${udp.len}`;
    else if (l4 === P.PTYPE_L4_ICMP) {
      const icmp = pkt.icmp;
      if (icmp) what += ` type ${icmp.type} code ${icmp.code}`;
    }
    what += ` ttl ${ip.ttl}`;
    if (ip.frag) what += ` frag id ${ip.frag.id} offset ${ip.frag.offset}${ip.frag.more ? '+' : ''}`;
  } else {
    const arp = pkt.arp;
    if (arp) what = `arp ${arp.op === 1 ? 'request' : arp.op === 2 ? 'reply' : `op ${arp.op}`}${arp.spa ? ` ${arp.spa} > ${arp.tpa}` : ''}`;
  }
  if (pkt.vlan0 !== undefined) {
    const vlans = pkt.vlans;
    if (vlans.length) what += ` vlan ${vlans.join(',')}`;
  }
  if (ptype & P.PTYPE_TUNNEL_MASK) {
    const tun = pkt.tunnel;
    if (tun) {
      what += ` ${tun.type}${tun.vni === undefined ? '' : ` vni ${tun.vni}`}`;
      const inner = pkt.inner;
      const il4 = inner?.tcp ?? inner?.udp;
      if (inner?.ip) what += il4 ? ` { ${endpoint(inner.ip, il4.sport)} > ${endpointDst(inner.ip, il4.dport)} }` : ` { ${inner.ip.src} > ${inner.ip.dst} }`;
    }
  }
  const errors = pkt.errors & ~P.ERR_CSUM_CHECKED;
  const errs = errors ? ` [${P.errorNames(errors).join(',')}]` : '';
  return `${String(n).padStart(6)} ${timestampText(timestampNs)} ${String(caplen).padStart(5)} ${paddedPtype(ptype)} ${what.trimStart()}${errs}`;
}
