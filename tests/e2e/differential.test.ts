// Differential test against Wireshark: every capture of ../shared/corpus/tcpdump/ is decoded by
// tshark (reassembly off) and by wirewasm's WASM parsers, and per frame the fields below must
// agree with tshark's first occurrence of the same field. Each disagreement is either a bug or an
// exception listed with its reason in tests/support/tshark-exceptions.json; an exception that no longer
// matches any disagreement fails the test too, so the list stays exact.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dissectRecords } from '../../host/cli/commands/dissect.js';
import { packageRoot } from '../../host/paths.js';
import { readCaptureFile } from '../../host/pcap/index.js';

const run = promisify(execFile);
const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const files = existsSync(corpus) ? readdirSync(corpus).sort() : [];

// tshark fields, all occurrences ("," inside a cell), first one compared.
const FIELDS = [
  'frame.number', 'frame.protocols', 'eth.src', 'eth.dst', 'vlan.id', 'ieee8021ad.id', 'ip.src', 'ip.dst', 'ip.proto', 'ip.ttl', 'ip.frag_offset', 'ip.flags.mf', 'ip.id',
  'ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'ipv6.nxt', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'ipv6.fraghdr.ident',
  'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code',
  'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4',
  'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status',
] as const;
const PREFS = ['ip.defragment:FALSE', 'ipv6.defragment:FALSE', 'tcp.desegment_tcp_streams:FALSE', 'tcp.analyze_sequence_numbers:FALSE', 'tcp.check_checksum:TRUE', 'udp.check_checksum:TRUE', 'ip.check_checksum:TRUE'];

type Row = Record<(typeof FIELDS)[number], string[]>;

async function tshark(file: string): Promise<Row[]> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'separator=/t'];
  for (const p of PREFS) args.push('-o', p);
  for (const f of FIELDS) args.push('-e', f);
  let stdout: string;
  try {
    ({ stdout } = await run('tshark', args, { maxBuffer: 256 << 20 }));
  } catch (e) {
    // tshark exits non-zero on a capture cut short but still prints the frames before the cut.
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const cells = l.split('\t');
      return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] ? cells[i].split('|') : []])) as Row;
    });
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

export interface Disagreement { file: string; frame: number; field: string; ours: string; tshark: string }

const num = (s: string | undefined) => (s === undefined ? undefined : String(Number(s)));
const first = (r: Row, f: (typeof FIELDS)[number]) => r[f][0];

/** tshark writes IPv6 addresses in RFC 5952 form already; both sides are compared as strings. */
function compareFrame(file: string, frame: number, ours: Record<string, any>, t: Row, out: Disagreement[]): void {
  const cmp = (field: string, a: unknown, b: string | undefined) => {
    const x = a === undefined ? '' : String(a);
    const y = b ?? '';
    if (x !== y) out.push({ file, frame, field, ours: x, tshark: y });
  };
  // tshark's LINKTYPE_IPV4 dissector lists an "ip" layer before handing an IPv6 packet on: drop it.
  const protos = (first(t, 'frame.protocols') ?? '').split(':').filter((p, i, all) => !(p === 'ip' && all[i + 1] === 'ipv6' && t['ip.src'].length === 0));
  if (protos[0] === 'eth' || ours.eth) {
    cmp('eth.src', ours.eth?.src, first(t, 'eth.src'));
    cmp('eth.dst', ours.eth?.dst, first(t, 'eth.dst'));
  }
  // VLAN ids of the outer tag stack: tshark names 802.1Q tags vlan.id and 802.1ad tags
  // ieee8021ad.id; the layers before the first non-tag layer after eth are the outer stack.
  const theirVlans: string[] = [];
  const q = [...t['vlan.id']];
  const ad = [...t['ieee8021ad.id']];
  for (const p of protos.slice(1)) {
    if (p === 'ethertype') continue;
    if (p === 'vlan') theirVlans.push(q.shift() ?? '?');
    else if (p === 'ieee8021ad') theirVlans.push(ad.shift() ?? '?');
    else break;
  }
  if (protos[0] === 'eth') cmp('vlan.id', (ours.vlan ?? []).join('|'), theirVlans.join('|'));
  const ip = ours.ip;
  // The first IP header of either version in tshark's layer list.
  const firstIp = protos.find((p) => p === 'ip' || p === 'ipv6');
  if (firstIp === 'ip' || ip?.v === 4) {
    cmp('ip.src', ip?.v === 4 ? ip.src : undefined, first(t, 'ip.src'));
    cmp('ip.dst', ip?.v === 4 ? ip.dst : undefined, first(t, 'ip.dst'));
    cmp('ip.proto', ip?.v === 4 ? ip.proto : undefined, num(first(t, 'ip.proto')));
    cmp('ip.ttl', ip?.v === 4 ? ip.ttl : undefined, num(first(t, 'ip.ttl')));
    const frag = ip?.v === 4 ? ip.frag : undefined;
    const tOff = Number(first(t, 'ip.frag_offset') ?? 0) * 8; // tshark 4.0 gives 8-byte units
    const tMf = first(t, 'ip.flags.mf') === '1' || first(t, 'ip.flags.mf') === 'True';
    cmp('ip.frag', frag ? `${frag.offset}/${frag.more}/${frag.id}` : '', tOff || tMf ? `${tOff}/${tMf}/${Number(first(t, 'ip.id'))}` : '');
  }
  if (firstIp === 'ipv6' || ip?.v === 6) {
    cmp('ipv6.src', ip?.v === 6 ? ip.src : undefined, first(t, 'ipv6.src'));
    cmp('ipv6.dst', ip?.v === 6 ? ip.dst : undefined, first(t, 'ipv6.dst'));
    cmp('ipv6.hlim', ip?.v === 6 ? ip.ttl : undefined, num(first(t, 'ipv6.hlim')));
    if (ip?.v === 6 && ip.frag) {
      const tMore = first(t, 'ipv6.fraghdr.more');
      cmp('ipv6.frag', `${ip.frag.offset}/${ip.frag.more}/${ip.frag.id}`, `${Number(first(t, 'ipv6.fraghdr.offset')) * 8}/${tMore === '1' || tMore === 'True'}/${Number(first(t, 'ipv6.fraghdr.ident'))}`);
    }
  }
  // Transport: the layer right after the first IP header (past IPv6 extension headers), or for a
  // tunnel the one after the inner IP header. tshark's first tcp/udp/icmp elsewhere (quoted in an
  // ICMP error, inside an OpenFlow or ERSPAN payload) is not the frame's L4 and counts as absent.
  const ipAt = protos.flatMap((p, i) => (p === 'ip' || p === 'ipv6' ? [i] : []));
  const after = (i: number | undefined) => {
    if (i === undefined) return undefined;
    let k = i + 1;
    while (k < protos.length && (protos[k].startsWith('ipv6.') || protos[k] === 'ah')) k++;
    return protos[k];
  };
  const reachable = new Set([after(ipAt[0]), ...(ours.tunnel ? [after(ipAt[1])] : [])]);
  const theirs = (proto: string, field: (typeof FIELDS)[number]) => (reachable.has(proto) ? num(first(t, field)) : undefined);
  const tcp = ours.tcp ?? ours.inner?.tcp;
  cmp('tcp.srcport', tcp?.sport, theirs('tcp', 'tcp.srcport'));
  cmp('tcp.dstport', tcp?.dport, theirs('tcp', 'tcp.dstport'));
  cmp('tcp.flags', tcp?.flags, theirs('tcp', 'tcp.flags'));
  const udp = ours.udp ?? ours.inner?.udp;
  cmp('udp.srcport', udp?.sport, theirs('udp', 'udp.srcport'));
  cmp('udp.dstport', udp?.dport, theirs('udp', 'udp.dstport'));
  const icmp = ours.icmp ?? ours.inner?.icmp;
  cmp('icmp.type', icmp?.type, theirs('icmp', 'icmp.type'));
  cmp('icmp.code', icmp?.code, theirs('icmp', 'icmp.code'));
  const icmpv6 = ours.icmpv6 ?? ours.inner?.icmpv6;
  cmp('icmpv6.type', icmpv6?.type, theirs('icmpv6', 'icmpv6.type'));
  cmp('icmpv6.code', icmpv6?.code, theirs('icmpv6', 'icmpv6.code'));
  // ARP: the frame's own (tshark's first layer after the link and tags), addresses when IPv4.
  const l3 = protos.slice(1).find((p) => p !== 'ethertype' && p !== 'vlan' && p !== 'ieee8021ad');
  const tArp = l3 === 'arp';
  // Checksums (wirewasm run with verification on): where tshark calls one good (1) or bad (0),
  // wirewasm must flag it bad exactly when tshark does; it does not verify what it cannot see
  // whole (snapped, fragments, truncated), so those frames are not compared for L4.
  const errs: string[] = ours.errors ?? [];
  const status = (f: (typeof FIELDS)[number]) => first(t, f);
  const ipStatus = status('ip.checksum.status');
  if (ip?.v === 4 && (ipStatus === '0' || ipStatus === '1')) cmp('ip.checksum', errs.includes('bad-ip-checksum') ? 'bad' : 'good', ipStatus === '0' ? 'bad' : 'good');
  const l4Name = ours.tcp ? 'tcp' : ours.udp ? 'udp' : ours.icmp ? 'icmp' : ours.icmpv6 ? 'icmpv6' : undefined;
  if (l4Name && reachable.has(l4Name) && !errs.some((e) => e === 'snapped' || e === 'fragment' || e.startsWith('truncated') || e === 'bad-l3' || e === 'bad-l4')) {
    const st = status(`${l4Name}.checksum.status` as (typeof FIELDS)[number]);
    if (st === '0' || st === '1') cmp(`${l4Name}.checksum`, errs.includes('bad-l4-checksum') ? 'bad' : 'good', st === '0' ? 'bad' : 'good');
  }
  cmp('arp.opcode', ours.arp?.op, tArp ? num(first(t, 'arp.opcode')) : undefined);
  if ((tArp && first(t, 'arp.src.proto_ipv4') !== undefined) || /^\d+\.\d+\.\d+\.\d+$/.test(ours.arp?.spa ?? '')) {
    cmp('arp.spa', ours.arp?.spa, tArp ? first(t, 'arp.src.proto_ipv4') : undefined);
    cmp('arp.tpa', ours.arp?.tpa, tArp ? first(t, 'arp.dst.proto_ipv4') : undefined);
  }
}

export async function differential(list = files): Promise<{ disagreements: Disagreement[]; counts: { file: string; ours: number; tshark: number }[] }> {
  const disagreements: Disagreement[] = [];
  const counts: { file: string; ours: number; tshark: number }[] = [];
  await pool(list, 2, async (f) => {
    const rows = await tshark(path.join(corpus, f));
    const { records } = readCaptureFile(path.join(corpus, f));
    const ours = dissectRecords(records, { verifyChecksums: true });
    counts.push({ file: f, ours: ours.length, tshark: rows.length });
    for (let i = 0; i < Math.min(ours.length, rows.length); i++) compareFrame(f, i + 1, ours[i], rows[i], disagreements);
  });
  return { disagreements, counts };
}

interface Exception { file: string; frames?: number[]; fields?: string[]; reason: string }
const exceptions: Exception[] = JSON.parse(readFileSync(path.join(packageRoot, 'tests', 'support', 'tshark-exceptions.json'), 'utf8')).exceptions;
const covers = (e: Exception, d: Disagreement) => e.file === d.file && (!e.fields || e.fields.includes(d.field)) && (!e.frames || e.frames.includes(d.frame));

describe.skipIf(files.length === 0)('differential against tshark over the tcpdump corpus', () => {
  let result: Awaited<ReturnType<typeof differential>>;
  it('runs tshark and wirewasm over every file', async () => {
    result = await differential();
    expect(result.counts).toHaveLength(files.length);
  }, 600_000);
  it('decodes the same number of frames as tshark in every file', () => {
    const wrong = result.counts.filter((c) => c.ours !== c.tshark);
    expect(wrong).toEqual([]);
  });
  it('agrees with tshark on every compared field, except the listed exceptions', () => {
    const unexplained = result.disagreements.filter((d) => !exceptions.some((e) => covers(e, d)));
    if (process.env.WW_DIFF_REPORT) console.log(JSON.stringify(unexplained, null, 1));
    expect(unexplained.slice(0, 50)).toEqual([]);
  });
  it('lists no exception that nothing needs', () => {
    const stale = exceptions.filter((e) => !result.disagreements.some((d) => covers(e, d)));
    expect(stale).toEqual([]);
  });
});
