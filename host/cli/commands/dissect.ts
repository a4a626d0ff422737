// `wirewasm dissect FILE [--format text|jsonl]`: decodes every frame of a pcap/pcapng capture with
// the WASM parser (one call per batch) and prints it. The jsonl form is a contract (issue #4):
// one object per frame, a key omitted when its header is absent.
import type { Command } from 'commander';
import { FrameParser } from '../../parser.js';
import type { Packet } from '../../packet.js';
import { readCaptureFile, type CaptureRecord } from '../../pcap/index.js';
import * as P from '../../ptype.js';

export interface DissectOptions {
  verifyChecksums?: boolean;
  rssKey?: Uint8Array;
  symmetric?: boolean;
}

/** The jsonl object of one parsed frame (`n` is 1-based). */
export function frameJson(pkt: Packet, n: number, record: CaptureRecord, rss: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { n, caplen: record.data.length, len: record.wireLength, linktype: record.linktype };
  const eth = pkt.eth;
  if (eth) o.eth = eth;
  const vlans = pkt.vlans;
  if (vlans.length) o.vlan = vlans;
  const arp = pkt.arp;
  if (arp) o.arp = arp;
  const ip = pkt.ip;
  if (ip) o.ip = ip;
  const tcp = pkt.tcp;
  if (tcp) o.tcp = tcp;
  const udp = pkt.udp;
  if (udp) o.udp = udp;
  const icmp = pkt.icmp;
  if (icmp) o[icmp.kind] = { type: icmp.type, code: icmp.code };
  const tun = pkt.tunnel;
  if (tun) {
    o.tunnel = tun.vni === undefined ? { type: tun.type } : { type: tun.type, vni: tun.vni };
    const inner = pkt.inner;
    if (inner) o.inner = inner;
  }
  const offsets: Record<string, number> = {};
  for (const k of ['l2', 'l3', 'l4', 'payload'] as const) {
    const v = pkt[k];
    if (v !== undefined) offsets[k] = v;
  }
  o.offsets = offsets;
  o.ptype = P.ptypeName(pkt.ptype);
  if (rss && ip) o.rss = '0x' + pkt.hash.toString(16).padStart(8, '0');
  const errors = P.errorNames(pkt.errors & ~P.ERR_CSUM_CHECKED);
  if (errors.length) o.errors = errors;
  return o;
}

function frameText(j: Record<string, unknown>): string {
  const ip = j.ip as { src: string; dst: string; proto: number } | undefined;
  const l4 = (j.tcp ?? j.udp) as { sport: number; dport: number } | undefined;
  const icmp = (j.icmp ?? j.icmpv6) as { type: number; code: number } | undefined;
  const arp = j.arp as { op: number; spa: string; tpa: string } | undefined;
  let what = '';
  if (ip) what = l4 ? `${ip.src}:${l4.sport} > ${ip.dst}:${l4.dport}` : `${ip.src} > ${ip.dst} proto ${ip.proto}`;
  else if (arp) what = `arp op ${arp.op} ${arp.spa} > ${arp.tpa}`;
  if (icmp) what += ` type ${icmp.type} code ${icmp.code}`;
  const errs = j.errors ? ` [${(j.errors as string[]).join(',')}]` : '';
  return `${String(j.n).padStart(6)}  ${String(j.caplen).padStart(5)}  ${String(j.ptype).padEnd(22)} ${what}${errs}`;
}

/** Parses every record and returns the jsonl objects in frame order. */
export function dissectRecords(records: CaptureRecord[], opts: DissectOptions = {}): Record<string, unknown>[] {
  let flags = P.PARSE_RSS;
  if (opts.verifyChecksums) flags |= P.PARSE_VERIFY_CSUM;
  if (opts.symmetric) flags |= P.PARSE_RSS_SYMMETRIC;
  const parser = new FrameParser({ flags, rssKey: opts.rssKey });
  const out: Record<string, unknown>[] = [];
  parser.parse(records, (pkt, i, r) => out.push(frameJson(pkt, i + 1, r, true)));
  return out;
}

export function register(program: Command): void {
  program
    .command('dissect')
    .description('decode every frame of a pcap/pcapng capture with the WASM parsers')
    .argument('<file>', 'capture file (pcap, micro- or nanosecond, either byte order; or pcapng)')
    .option('-f, --format <format>', 'text or jsonl (one JSON object per frame)', 'text')
    .option('--verify-checksums', 'verify IPv4 header and TCP/UDP/ICMP checksums')
    .option('--rss-key <hex>', 'Toeplitz key for the "rss" field (at least 40 bytes of hex); default: the Microsoft verification key')
    .option('--symmetric', 'symmetric RSS: both directions of a flow hash alike')
    .action((file: string, opts: { format: string; verifyChecksums?: boolean; rssKey?: string; symmetric?: boolean }) => {
      if (opts.format !== 'text' && opts.format !== 'jsonl') throw new Error(`--format ${opts.format}: use text or jsonl`);
      let rssKey: Uint8Array | undefined;
      if (opts.rssKey !== undefined) {
        const hex = opts.rssKey.replace(/[:\s]/g, '');
        if (!/^([0-9a-fA-F]{2})+$/.test(hex) || hex.length < 80) throw new Error(`--rss-key: give at least 40 bytes as hex digits (80 characters), got "${opts.rssKey}"`);
        rssKey = Uint8Array.from(Buffer.from(hex, 'hex'));
      }
      const { records, problem } = readCaptureFile(file);
      const frames = dissectRecords(records, { verifyChecksums: opts.verifyChecksums, rssKey, symmetric: opts.symmetric });
      const lines = frames.map((j) => (opts.format === 'jsonl' ? JSON.stringify(j) : frameText(j)));
      process.stdout.write(lines.length ? lines.join('\n') + '\n' : '');
      if (problem) {
        process.stderr.write(`wirewasm: ${file}: ${problem.message}; ${frames.length} frame(s) before it were decoded\n`);
        process.exitCode = 1;
      }
    });
}
