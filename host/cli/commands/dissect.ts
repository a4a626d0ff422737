// `wirewasm dissect FILE [--format text|jsonl]`, or `-w OUT` to copy the frames to a capture
// (host/cli/dissect-write.ts) instead of printing them: decodes every frame of a pcap/pcapng capture ('-'
// is stdin) with the WASM parser (one call per batch) and prints it as it goes: the capture is read
// in chunks, each batch printed before the reader waits for more, so output starts at once and
// memory stays bounded whatever the capture's size. The jsonl form is a contract: one object per
// frame, a key omitted when its header is absent.
import type { Command } from 'commander';
import { FrameParser } from '../../parser.js';
import type { Packet } from '../../packet.js';
import { CaptureFormatError, CaptureReader, LINKTYPES_PARSED, linktypeName, type CaptureRecord } from '../../pcap/index.js';
import * as P from '../../ptype.js';
import { packetText } from '../dissect-text.js';
import { OutputClosed, SyncOutput } from '../output.js';
import { RecordFilter } from '../../filter/index.js';
import { addFilterArgs, filterExpression, type FilterCliOptions } from '../filter-args.js';
import { writeSelected } from '../dissect-write.js';
import { realpathSync } from 'node:fs';

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

function parserOf(opts: DissectOptions): FrameParser {
  let flags = P.PARSE_RSS;
  if (opts.verifyChecksums) flags |= P.PARSE_VERIFY_CSUM;
  if (opts.symmetric) flags |= P.PARSE_RSS_SYMMETRIC;
  return new FrameParser({ flags, rssKey: opts.rssKey });
}

/** Parses every record and returns the jsonl objects in frame order. */
export function dissectRecords(records: CaptureRecord[], opts: DissectOptions = {}): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  parserOf(opts).parse(records, (pkt, i, r) => out.push(frameJson(pkt, i + 1, r, true)));
  return out;
}

/** A link type the parser does not decode, refused as tcpdump refuses one it cannot print. */
export class LinktypeError extends Error {}

function checkLinktype(linktype: number): void {
  if (!LINKTYPES_PARSED.has(linktype))
    throw new LinktypeError(
      `link type ${linktype} (${linktypeName(linktype)}) is not one the parser decodes (EN10MB, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL, LOOP); give --linktype N to decode the frames as link type N`,
    );
}

export interface DissectStreamOptions extends DissectOptions {
  format: 'text' | 'jsonl';
  /** Decode every frame as this link type, whatever the file says. */
  linktype?: number;
  /** Print at most this many frames; the file is read no further. */
  count?: number;
  /** Print only the frames this accepts (`n` stays the frame's number in the file). */
  filter?: RecordFilter;
}

/**
 * Reads `reader` to its end, printing each frame through `out` batch by batch: a batch ends when the
 * parser's batch is full or when the next record is not yet read, so what has arrived is printed
 * before the reader blocks. Returns the frames printed and, if the read ended early, why.
 */
export function dissectStream(reader: CaptureReader, out: { write(text: string): void }, opts: DissectStreamOptions): { frames: number; problem?: Error } {
  const parser = parserOf(opts);
  const batch: CaptureRecord[] = [];
  const jsonl = opts.format === 'jsonl';
  let frames = 0;
  let read = 0;
  let lines = '';
  const count = opts.count ?? Infinity;
  const flush = () => {
    const first = read - batch.length;
    const picked = opts.filter?.accepted(batch);
    parser.parse(picked ? picked.map((i) => batch[i]) : batch, (pkt, i, r) => {
      if (frames >= count) return; // a filtered batch may hold more accepted frames than -c leaves
      const n = first + (picked ? picked[i] : i) + 1;
      frames++;
      lines += (jsonl ? JSON.stringify(frameJson(pkt, n, r, true)) : packetText(pkt, n, r.data.length, r.timestampNs)) + '\n';
    });
    batch.length = 0;
    out.write(lines);
    lines = '';
  };
  try {
    if (opts.linktype === undefined && reader.format === 'pcap') checkLinktype(reader.linktype);
    for (;;) {
      // The batch's records are views into the reader's buffer: print them before it reads on.
      // The first frame goes out alone, so the first line does not wait for a whole batch.
      if (batch.length && (batch.length === parser.batch || !reader.ready() || frames === 0)) flush();
      // Unfiltered, every record read is printed, so reading stops at -c; filtered, only a flush tells.
      if (frames >= count || (!opts.filter && frames + batch.length >= count)) break;
      const r = reader.next();
      if (!r) break;
      if (opts.linktype !== undefined) r.linktype = opts.linktype;
      else checkLinktype(r.linktype);
      batch.push(r);
      read++;
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError || e instanceof LinktypeError)) throw e;
    if (batch.length) flush();
    return { frames, problem: e };
  }
  if (batch.length) flush();
  return { frames };
}

export function register(program: Command): void {
  addFilterArgs(program
    .command('dissect')
    .description('decode every frame of a pcap/pcapng capture with the WASM parsers, printed as it is read')
    .argument('<file>', "capture file (pcap, micro- or nanosecond, either byte order; or pcapng); '-' reads stdin"))
    .option('-f, --format <format>', 'text or jsonl (one JSON object per frame)', 'text')
    .option('-c, --count <n>', 'print (or write) only the first n frames')
    .option('-w, --write <out>', "write the frames (those the expression accepts) to a capture instead of printing them, as tcpdump -r IN -w OUT: pcap in gives pcap, pcapng gives pcapng (sections, interfaces, comments kept); '-' is stdout")
    .option('--linktype <n>', 'decode every frame as this LINKTYPE_ number (1 Ethernet, 101 raw IP, 113 Linux cooked...), whatever the file says')
    .option('--verify-checksums', 'verify IPv4 header and TCP/UDP/ICMP checksums')
    .option('--rss-key <hex>', 'Toeplitz key for the "rss" field (at least 40 bytes of hex); default: the Microsoft verification key')
    .option('--symmetric', 'symmetric RSS: both directions of a flow hash alike')
    .action((file: string, words: string[], opts: { format: string; count?: string; write?: string; linktype?: string; verifyChecksums?: boolean; rssKey?: string; symmetric?: boolean } & FilterCliOptions) => {
      const expression = filterExpression(words, opts);
      if (opts.format !== 'text' && opts.format !== 'jsonl') throw new Error(`--format ${opts.format}: use text or jsonl`);
      if (opts.write !== undefined) {
        const printing = [opts.format !== 'text' && '--format', opts.verifyChecksums && '--verify-checksums', opts.rssKey !== undefined && '--rss-key', opts.symmetric && '--symmetric'].filter(Boolean);
        if (printing.length) throw new Error(`${printing.join(', ')} shape${printing.length === 1 ? 's' : ''} the printed lines, and -w writes the frames themselves: drop ${printing.length === 1 ? 'it' : 'them'} or -w`);
      }
      let rssKey: Uint8Array | undefined;
      if (opts.rssKey !== undefined) {
        const hex = opts.rssKey.replace(/[:\s]/g, '');
        if (!/^([0-9a-fA-F]{2})+$/.test(hex) || hex.length < 80) throw new Error(`--rss-key: give at least 40 bytes as hex digits (80 characters), got "${opts.rssKey}"`);
        rssKey = Uint8Array.from(Buffer.from(hex, 'hex'));
      }
      let linktype: number | undefined;
      if (opts.linktype !== undefined) {
        linktype = Number(opts.linktype);
        if (!/^\d+$/.test(opts.linktype) || linktype > 0xffff) throw new Error(`--linktype ${opts.linktype}: give a LINKTYPE_ number from 0 to 65535 (1 is Ethernet)`);
      }
      if (opts.count !== undefined && !/^\d+$/.test(opts.count)) throw new Error(`--count ${opts.count}: give a whole number of frames`);
      const name = file === '-' ? 'stdin' : file;
      if (opts.write !== undefined && opts.write !== '-' && file !== '-' && sameFile(file, opts.write))
        throw new Error(`-w ${opts.write} is the capture being read: write the selection to another file`);
      let reader: CaptureReader;
      try {
        reader = CaptureReader.open(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new Error(`${name}: no such file; check the path`);
        if (code) throw new Error(`${name}: cannot read it (${code})`);
        throw new Error(`${name}: ${(e as Error).message}`);
      }
      const out = new SyncOutput(1);
      try {
        const filter = expression === undefined ? undefined : new RecordFilter(expression);
        const count = opts.count === undefined ? undefined : Number(opts.count);
        const { frames, problem } = opts.write !== undefined ? writeSelected(reader, opts.write, { linktype, count, filter }) : dissectStream(reader, out, { format: opts.format, count, linktype, verifyChecksums: opts.verifyChecksums, rssKey, symmetric: opts.symmetric, filter });
        if (problem) {
          process.stderr.write(`wirewasm: ${name}: ${problem.message}; ${frames} frame(s) before it were ${opts.write !== undefined ? 'written' : 'printed'}\n`);
          process.exitCode = 1;
        }
      } catch (e) {
        // A reader gone (dissect ... | head): stop quietly, as tcpdump does.
        if (!(e instanceof OutputClosed)) throw e;
      } finally {
        reader.close();
      }
    });
}

/** True when both paths name one existing file. */
function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
