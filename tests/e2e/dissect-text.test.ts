// The text line of dissect and capture is built straight from the parsed frame (packetText); the
// reference here builds it from the frame's jsonl object (frameText): the two must agree on every frame.
// Checked on the bench's generated mix (VLAN, QinQ, IPv6 extension headers, fragments, ARP, ICMP),
// on hand-made tunnels (VXLAN, GRE with a key, IP in IP), on every frame cut short at every length
// (the error paths), and on every capture of the tcpdump corpus when it is there.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusBytes, generateCorpus } from '../../bench/parse/corpus.js';
import { endpoint, endpointDst, packetText, tcpFlagNames, timestampText } from '../../host/cli/dissect-text.js';
import type { IpFields, TcpFields } from '../../host/packet.js';
import { frameJson } from '../../host/cli/commands/dissect.js';
import { FrameParser } from '../../host/parser.js';
import { packageRoot } from '../../host/paths.js';
import { LINKTYPES_PARSED, readCaptureFile, type CaptureRecord } from '../../host/pcap/index.js';
import * as P from '../../host/ptype.js';

const CORPUS = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const ETH = '66778899aabb 001122334455';

/** The reference: the line for the frame whose jsonl object is `j`. */
function frameText(j: Record<string, unknown>, timestampNs: bigint): string {
  const ip = j.ip as IpFields | undefined;
  const tcp = j.tcp as TcpFields | undefined;
  const udp = j.udp as { sport: number; dport: number; len: number } | undefined;
  const l4 = tcp ?? udp;
  const icmp = (j.icmp ?? j.icmpv6) as { type: number; code: number } | undefined;
  const arp = j.arp as { op: number; spa?: string; tpa?: string } | undefined;
  let what = '';
  if (ip) {
    what = l4 ? `${endpoint(ip, l4.sport)} > ${endpointDst(ip, l4.dport)}` : `${ip.src} > ${ip.dst} proto ${ip.proto}`;
    if (tcp) what += ` [${tcpFlagNames(tcp.flags)}] seq ${tcp.seq} ack ${tcp.ack} win ${tcp.win}`;
    else if (udp) what += ` len ${udp.len}`;
    if (icmp) what += ` type ${icmp.type} code ${icmp.code}`;
    what += ` ttl ${ip.ttl}`;
    if (ip.frag) what += ` frag id ${ip.frag.id} offset ${ip.frag.offset}${ip.frag.more ? '+' : ''}`;
  } else if (arp) what = `arp ${arp.op === 1 ? 'request' : arp.op === 2 ? 'reply' : `op ${arp.op}`}${arp.spa ? ` ${arp.spa} > ${arp.tpa}` : ''}`;
  const vlan = j.vlan as number[] | undefined;
  if (vlan) what += ` vlan ${vlan.join(',')}`;
  const tun = j.tunnel as { type: string; vni?: number } | undefined;
  if (tun) {
    what += ` ${tun.type}${tun.vni === undefined ? '' : ` vni ${tun.vni}`}`;
    const inner = j.inner as { ip?: IpFields; tcp?: TcpFields; udp?: { sport: number; dport: number } } | undefined;
    const il4 = inner?.tcp ?? inner?.udp;
    if (inner?.ip) what += il4 ? ` { ${endpoint(inner.ip, il4.sport)} > ${endpointDst(inner.ip, il4.dport)} }` : ` { ${inner.ip.src} > ${inner.ip.dst} }`;
  }
  const errs = j.errors ? ` [${(j.errors as string[]).join(',')}]` : '';
  return `${String(j.n).padStart(6)} ${timestampText(timestampNs)} ${String(j.caplen).padStart(5)} ${String(j.ptype).padEnd(18)} ${what.trimStart()}${errs}`;
}

/** The frames whose two lines differ, as [jsonl line, text line] pairs (at most 5), and how many were compared. */
function differences(records: CaptureRecord[]): { compared: number; diff: [string, string][] } {
  const diff: [string, string][] = [];
  let compared = 0;
  // Both parse flag sets: verified checksums add error bits the line shows.
  for (const flags of [P.PARSE_RSS, P.PARSE_RSS | P.PARSE_VERIFY_CSUM]) {
    new FrameParser({ flags }).parse(records, (pkt, i, r) => {
      compared++;
      const a = frameText(frameJson(pkt, i + 1, r, false), r.timestampNs);
      const b = packetText(pkt, i + 1, r.data.length, r.timestampNs);
      if (a !== b && diff.length < 5) diff.push([a, b]);
    });
  }
  return { compared, diff };
}

const rec = (data: Uint8Array, i: number, linktype = 1): CaptureRecord => ({ linktype, data, wireLength: data.length, timestampNs: 1_700_000_000_123_456_789n + BigInt(i) * 1_000_001n });

function generated(count: number, traffic?: { flows: number; hosts: number }): CaptureRecord[] {
  const mem = new Uint8Array(corpusBytes(count));
  const c = generateCorpus(mem, 0, count, 0x5eed, traffic);
  return Array.from({ length: count }, (_, i) => rec(mem.slice(c.offsets[i], c.offsets[i] + c.lengths[i]), i));
}

const TUNNELS = [
  // VXLAN (VNI 100) carrying Ethernet / IPv4 / UDP
  hex(ETH + '0800 4500 004e 0001 0000 4011 0000 0a000001 0a000002 c000 12b5 003a 0000 0800 0000 00006400' + ETH + '0800 4500 001c 0001 0000 2011 0000 c0a80001 c0a80002 1111 2222 0008 0000'),
  // GRE with a key (7) carrying IPv4 / TCP
  hex(ETH + '0800 4500 0040 0001 0000 402f 0000 0a000001 0a000002 2000 0800 00000007 4500 0028 0002 0000 4006 0000 c0a80001 c0a80002 3039 0050 00000001 00000002 5012 2000 0000 0000'),
  // IPv4 in IPv4 carrying UDP
  hex(ETH + '0800 4500 0030 0001 0000 4004 0000 0a000001 0a000002 4500 001c 0002 0000 4011 0000 c0a80001 c0a80002 1111 2222 0008 0000'),
  // VXLAN carrying ARP
  hex(ETH + '0800 4500 004e 0001 0000 4011 0000 0a000001 0a000002 c000 12b5 003a 0000 0800 0000 00000500' + ETH + '0806 0001 0800 06 04 0001 001122334455 c0a80001 000000000000 c0a80002'),
];

describe('dissect text: packetText gives the line frameText makes of the jsonl object', () => {
  it('the generated mix, fresh addresses and flows between hosts', () => {
    for (const records of [generated(20_000), generated(20_000, { flows: 4096, hosts: 256 })]) {
      const { compared, diff } = differences(records);
      expect(compared).toBe(40_000);
      expect(diff).toEqual([]);
    }
  });

  it('tunnels, and every frame cut short at every length', () => {
    const whole = [...TUNNELS, ...generated(200).map((r) => r.data)];
    const cut: CaptureRecord[] = [];
    for (const f of whole) for (let len = 0; len <= f.length; len++) cut.push({ ...rec(f.subarray(0, len), cut.length), wireLength: f.length });
    const { compared, diff } = differences([...TUNNELS.map((t, i) => rec(t, i)), ...cut]);
    expect(compared).toBeGreaterThan(20_000);
    expect(diff).toEqual([]);
    // The tunnels are shown as tunnels (the comparison is not between two empty lines).
    const lines: string[] = [];
    new FrameParser().parse(TUNNELS.map((t, i) => rec(t, i)), (pkt, i, r) => lines.push(packetText(pkt, i + 1, r.data.length, r.timestampNs)));
    expect(lines.map((l) => / (vxlan vni 100|gre vni 7|ipip|vxlan vni 5)( |$)/.test(l))).toEqual([true, true, true, true]);
  });

  it.skipIf(!existsSync(CORPUS))('every capture of the tcpdump corpus', { timeout: 120_000 }, () => {
    let total = 0;
    for (const f of readdirSync(CORPUS).filter((x) => /\.(pcap|pcapng|cap)$/.test(x)).sort()) {
      let records: CaptureRecord[];
      try {
        records = readCaptureFile(path.join(CORPUS, f)).records;
      } catch {
        continue; // a damaged capture: dissect stops at the damage; the frames before it are in the others
      }
      const { compared, diff } = differences(records.filter((r) => LINKTYPES_PARSED.has(r.linktype)));
      total += compared;
      expect(diff, f).toEqual([]);
    }
    expect(total).toBeGreaterThan(10_000);
  });
});
