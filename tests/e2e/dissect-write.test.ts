// `wirewasm dissect IN -w OUT [EXPRESSION]` against the tools: the selection is the one libpcap's
// pcap_offline_filter makes (tests/support/libpcap-ref.c), and the file written is what tcpdump,
// tshark and capinfos read back: pcap in gives the very pcap `tcpdump -r IN -w OUT EXPRESSION`
// writes (compared after tcpdump rewrites both); pcapng in keeps its sections' comment, its
// interfaces (link types, names, descriptions) and the packets' comments.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusBytes, generateCorpus } from '../../bench/parse/corpus.js';
import { artefact } from '../../host/paths.js';
import { writePcap, writePcapng, type CaptureRecord } from '../../host/pcap/index.js';
import { refFiles } from '../support/libpcap-ref.js';
import { lacks } from '../support/tools.js';

const cli = artefact('dist/host/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'buffer', maxBuffer: 1 << 28 });
const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-dissect-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => path.join(dir, name);

/** The bench's traffic mix (VLAN, QinQ, IPv6, fragments, ARP, ICMP...), one frame a millisecond from `t0` plus `step`. */
function frames(count: number, seed: number, t0: bigint, step = 0n): CaptureRecord[] {
  const mem = new Uint8Array(corpusBytes(count));
  const c = generateCorpus(mem, 0, count, seed);
  return Array.from({ length: count }, (_, i) => ({ linktype: 1, interfaceId: 0, data: mem.slice(c.offsets[i], c.offsets[i] + c.lengths[i]), wireLength: c.lengths[i], timestampNs: t0 + BigInt(i) * 1_000_000n + step }));
}

/** The same frames as raw IP (LINKTYPE_RAW, 101): the Ethernet header cut off, the IPv4/IPv6 ones only. */
const rawIp = (records: CaptureRecord[]) =>
  records.filter((r) => [0x0800, 0x86dd].includes((r.data[12] << 8) | r.data[13])).map((r) => ({ ...r, linktype: 101, data: r.data.subarray(14), wireLength: r.wireLength - 14 }));

const tshark = (file: string, fields: string[]) =>
  execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n').filter(Boolean);

describe.skipIf(lacks('tcpdump', 'tshark', 'capinfos', 'editcap', 'mergecap'))('dissect IN -w OUT [EXPRESSION]', () => {
  const pcap = at('in.pcap');
  writeFileSync(pcap, writePcap(frames(3000, 11, 1_700_000_000_000_000_000n), { linktype: 1, nanosecond: true, snaplen: 4096 }));

  it('pcap in: the pcap tcpdump -r IN -w OUT EXPRESSION writes, frame for frame; the selection is libpcap\'s', () => {
    const expressions = ['udp', 'tcp[tcpflags] & tcp-syn != 0', 'vlan and udp', 'ip6 or arp', 'ip[6:2] & 0x1fff = 0 and greater 90'];
    const ref = refFiles(expressions, [pcap])[0];
    expressions.forEach((expr, e) => {
      const out = at(`out-${e}.pcap`);
      const r = run('dissect', pcap, '-w', out, ...expr.split(' '));
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(r.stdout.length).toBe(0);
      // A pcap, nanosecond like its input, with the input's snaplen.
      expect(execFileSync('capinfos', ['-t', '-E', '-l', '-i', out], { encoding: 'utf8' })).toMatch(/File type:\s+Wireshark\/tcpdump\/... - nanosecond pcap[\s\S]*Ethernet[\s\S]*file hdr: 4096 bytes/);
      const accepted = (ref.results.get(e) as { accepted: Map<number, number> }).accepted;
      expect(Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }))![1]), expr).toBe(accepted.size);
      expect(accepted.size).toBeGreaterThan(0);
      // tcpdump's own selection, and ours, each rewritten by tcpdump: the same bytes.
      execFileSync('tcpdump', ['-r', pcap, '-w', at('theirs.pcap'), expr], { stdio: 'ignore' });
      execFileSync('tcpdump', ['-r', out, '-w', at('ours.pcap')], { stdio: 'ignore' });
      expect(readFileSync(at('ours.pcap')).equals(readFileSync(at('theirs.pcap'))), expr).toBe(true);
    });
  });

  it('pcapng in (two interfaces of different link types, comments): pcapng out with its interfaces and comments, the frames libpcap accepts on each', () => {
    // The input made by the tools: mergecap joins an Ethernet and a raw-IP capture into one pcapng
    // (two interfaces), editcap adds a capture comment and packet comments.
    const eth = frames(600, 21, 1_700_000_000_000_000_000n);
    const raw = rawIp(frames(600, 22, 1_700_000_000_000_000_000n, 500_000n));
    writeFileSync(at('eth.pcap'), writePcap(eth, { linktype: 1, nanosecond: true }));
    writeFileSync(at('raw.pcap'), writePcap(raw, { linktype: 101, nanosecond: true }));
    execFileSync('mergecap', ['-F', 'pcapng', '-w', at('merged.pcapng'), at('eth.pcap'), at('raw.pcap')]);
    const comments = Array.from({ length: 40 }, (_, i) => 3 + 29 * i).flatMap((n) => ['-a', `${n}:packet ${n} commented`]);
    execFileSync('editcap', ['--capture-comment', 'the section comment', ...comments, at('merged.pcapng'), at('in.pcapng')]);
    const expr = 'udp or icmp6';
    const ref = refFiles([expr], [at('eth.pcap'), at('raw.pcap')]);
    const acceptedTimes = new Set<string>();
    for (const [f, recs] of [[ref[0], eth], [ref[1], raw]] as const) for (const i of (f.results.get(0) as { accepted: Map<number, number> }).accepted.keys()) acceptedTimes.add(String(recs[i].timestampNs));

    const out = at('out.pcapng');
    const r = run('dissect', at('in.pcapng'), '-w', out, ...expr.split(' '));
    expect(r.status, r.stderr.toString()).toBe(0);
    const info = (f: string) => execFileSync('capinfos', ['-t', '-k', '-I', f], { encoding: 'utf8' });
    expect(info(out)).toMatch(/File type:\s+Wireshark\/\.\.\. - pcapng/);
    expect(info(out)).toMatch(/Capture comment:\s+the section comment/);
    // The interfaces as capinfos describes them (link types, snaplens; names absent in both).
    const interfaces = (f: string) => info(f).split('\n').filter((l) => /Encapsulation =|Capture length =|Name =|Description =/.test(l)).join('\n');
    expect(interfaces(out)).toBe(interfaces(at('in.pcapng')));
    expect(interfaces(out)).toMatch(/Ethernet[\s\S]*Raw IP/);
    // Frame for frame: the input's accepted frames (by their unique time), with their interface, lengths and comments.
    const fields = ['frame.time_epoch', 'frame.interface_id', 'frame.len', 'frame.cap_len', 'frame.comment'];
    const ns = (epoch: string) => String(BigInt(epoch.replace('.', '')));
    const expected = tshark(at('in.pcapng'), fields).filter((l) => acceptedTimes.has(ns(l.split('|')[0])));
    expect(expected.length).toBe(acceptedTimes.size);
    expect(tshark(out, fields)).toEqual(expected);
    expect(expected.filter((l) => /commented/.test(l)).length).toBeGreaterThan(0);
  });

  it('pcapng in, interface names and descriptions, no expression: every frame, names kept; -w - writes the same bytes to stdout', () => {
    const recs = frames(50, 31, 1_700_000_000_000_000_000n).map((r, i) => ({ ...r, interfaceId: i % 2, comment: i === 7 ? 'seven' : undefined }));
    writeFileSync(at('named.pcapng'), writePcapng([{ linktype: 1, resolution: 'ns', snaplen: 2000 }, { linktype: 1, resolution: 'ns', snaplen: 3000 }], recs, { comment: 'named' }));
    // Names and descriptions added by editcap? It cannot: written by hand into the interface blocks here.
    const named = at('named2.pcapng');
    writeFileSync(named, withInterfaceNames(readFileSync(at('named.pcapng')), ['eth0', 'eth1'], ['first port', 'second port']));
    expect(execFileSync('capinfos', ['-I', named], { encoding: 'utf8' })).toMatch(/Name = eth0[\s\S]*Description = first port[\s\S]*Name = eth1/);
    const out = at('named-out.pcapng');
    expect(run('dissect', named, '-w', out).status).toBe(0);
    const info = (f: string) => execFileSync('capinfos', ['-k', '-I', f], { encoding: 'utf8' }).split('\n').filter((l) => /Name =|Description =|Encapsulation =|Capture length =|comment/i.test(l)).join('\n');
    expect(info(out)).toBe(info(named));
    const fields = ['frame.time_epoch', 'frame.interface_id', 'frame.len', 'frame.comment'];
    expect(tshark(out, fields)).toEqual(tshark(named, fields));
    const toStdout = run('dissect', named, '-w', '-');
    expect(toStdout.status).toBe(0);
    expect(toStdout.stdout.equals(readFileSync(out))).toBe(true);
  });

  it('a pcapng of two sections (files joined): the output has both, each frame in its own section and interface', () => {
    const a = writePcapng([{ linktype: 1, resolution: 'ns' }], frames(40, 41, 1_700_000_000_000_000_000n), { comment: 'first' });
    const b = writePcapng([{ linktype: 101, resolution: 'ns' }, { linktype: 1 }], rawIp(frames(40, 42, 1_700_000_100_000_000_000n)).map((r, i) => (i % 3 ? r : { ...frames(1, 43, r.timestampNs)[0], interfaceId: 1 })), { comment: 'second' });
    const joined = at('joined.pcapng');
    writeFileSync(joined, Buffer.concat([a, b]));
    const out = at('joined-out.pcapng');
    const r = run('dissect', joined, '-w', out, 'ip');
    expect(r.status, r.stderr.toString()).toBe(0);
    const fields = ['frame.section_number', 'frame.interface_id', 'frame.time_epoch', 'frame.len', 'frame.protocols'];
    // tshark's frames of the input that are untagged IPv4 (what `ip` accepts on both link types), in order.
    const expected = tshark(joined, fields).filter((l) => /^(eth:ethertype|raw):ip(:|$)/.test(l.split('|')[4]));
    expect(expected.length).toBeGreaterThan(20);
    expect(tshark(out, fields)).toEqual(expected);
    expect(new Set(expected.map((l) => l.split('|')[0]))).toEqual(new Set(['1', '2']));
  });

  it('the input named as the output is refused; a damaged input: the frames before the damage written, one line, exit 1', () => {
    const same = run('dissect', pcap, '-w', pcap, 'udp');
    expect(same.status).toBe(1);
    expect(same.stderr.toString().trim()).toBe(`wirewasm: -w ${pcap} is the capture being read: write the selection to another file`);
    // Options that shape printed lines have nothing to act on with -w: refused, not ignored.
    const jsonl = run('dissect', pcap, '-w', at('unused.pcap'), '--format', 'jsonl', '--symmetric');
    expect(jsonl.status).toBe(1);
    expect(jsonl.stderr.toString().trim()).toBe('wirewasm: --format, --symmetric shape the printed lines, and -w writes the frames themselves: drop them or -w');
    expect(existsSync(at('unused.pcap'))).toBe(false);
    const cut = at('cut.pcap');
    const bytes = readFileSync(pcap);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const out = at('cut-out.pcap');
    const r = run('dissect', cut, '-w', out);
    expect(r.status).toBe(1);
    const lines = r.stderr.toString().trim().split('\n');
    expect(lines).toHaveLength(1);
    const [, written] = /(\d+) frame\(s\) before it were written$/.exec(lines[0])!;
    expect(lines[0]).toMatch(new RegExp(`^wirewasm: ${cut}: record \\d+: the file ends inside`));
    // tcpdump reads up to the damage too (and exits non-zero): what it printed is what we wrote.
    const tcpdumpCount = spawnSync('tcpdump', ['-r', cut, '-nn'], { encoding: 'utf8' }).stdout.trim().split('\n').length;
    expect(Number(written)).toBe(tcpdumpCount);
    expect(Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }))![1])).toBe(tcpdumpCount);
  });
});

/**
 * The pcapng `bytes` (little-endian, as written here) with if_name and if_description options added
 * to its interface blocks, in order: a real capture's interfaces carry them.
 */
function withInterfaceNames(bytes: Uint8Array, names: string[], descriptions: string[]): Uint8Array {
  const out: Buffer[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let k = 0;
  for (let o = 0; o < bytes.length; ) {
    const type = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    if (type !== 1) {
      out.push(Buffer.from(bytes.subarray(o, o + len)));
      o += len;
      continue;
    }
    const opt = (code: number, s: string) => {
      const b = Buffer.from(s);
      const pad = Buffer.alloc((4 - (b.length % 4)) % 4);
      const h = Buffer.alloc(4);
      h.writeUInt16LE(code, 0);
      h.writeUInt16LE(b.length, 2);
      return Buffer.concat([h, b, pad]);
    };
    // Fixed part (8) | the block's own options without their end | name | description | end.
    const own = Buffer.from(bytes.subarray(o + 16, o + len - 4));
    const ownOptions = own.length >= 4 ? own.subarray(0, own.length - 4) : own;
    const body = Buffer.concat([Buffer.from(bytes.subarray(o + 8, o + 16)), ownOptions, opt(2, names[k]), opt(3, descriptions[k]), Buffer.alloc(4)]);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(1, 0);
    head.writeUInt32LE(body.length + 12, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(body.length + 12, 0);
    out.push(head, body, tail);
    k++;
    o += len;
  }
  return Buffer.concat(out);
}
