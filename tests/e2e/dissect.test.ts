// `wirewasm dissect` as a user runs it: the jsonl contract of issue #4 on frames built here with
// known field values (written to a real pcapng file), the text form, and clear errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../host/packet.js';
import { artefact } from '../../host/paths.js';
import { writePcap, writePcapng } from '../../host/pcap/index.js';

const cli = artefact('dist/host/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'wwparse-dissect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const ETH = '66778899aabb 001122334455';
const frames = [
  // 1: QinQ / IPv4 / TCP SYN+ACK
  { linktype: 1, data: hex(ETH + '88a8 0064 8100 00c8 0800 4500 0028 1234 0000 4006 0000 0a000001 0a000002 3039 0050 00000001 00000002 5012 2000 0000 0000') },
  // 2: IPv6 + hop-by-hop + fragment (offset 8, more) / UDP
  { linktype: 1, data: hex(ETH + '86dd 60000000 0018 00 40 20010db8000000000000000000000001 ff020000000000000000000000000001 2c00 0000 0000 0000 1100 0009 0000abcd 1388 0035 0008 0000') },
  // 3: ARP reply
  { linktype: 1, data: hex(ETH + '0806 0001 0800 06 04 0002 001122334455 c0a80001 66778899aabb c0a80002') },
  // 4: ICMP port unreachable quoting UDP (the quoted UDP is not the frame's L4)
  { linktype: 1, data: hex(ETH + '0800 4500 0038 0002 0000 4001 0000 0a000002 0a000001 0303 0000 00000000 4500 001c 0001 0000 4011 0000 0a000001 0a000002 1388 0035 0008 0000') },
  // 5: truncated TCP (12 of 20 bytes), raw IP link type
  { linktype: 101, data: hex('4500 0028 1234 0000 4006 0000 0a000001 0a000002 3039 0050 00000001 00000002') },
  // 6: VXLAN (VNI 100) carrying Ethernet / IPv4 / UDP
  { linktype: 1, data: hex(ETH + '0800 4500 004e 0001 0000 4011 0000 0a000001 0a000002 c000 12b5 003a 0000 0800 0000 00006400' + ETH + '0800 4500 001c 0001 0000 2011 0000 c0a80001 c0a80002 1111 2222 0008 0000') },
];
const records = frames.map((f, i) => ({ ...f, timestampNs: BigInt(i) * 1000n, wireLength: f.data.length, interfaceId: f.linktype === 1 ? 0 : 1 }));
const file = path.join(dir, 'frames.pcapng');
writeFileSync(file, writePcapng([{ linktype: 1 }, { linktype: 101 }], records));

describe('wirewasm dissect --format jsonl', () => {
  const r = run('dissect', file, '--format', 'jsonl');
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));

  it('prints one object per frame, numbered from 1, with caplen/len/linktype', () => {
    expect(r.status).toBe(0);
    expect(lines.map((l) => [l.n, l.caplen, l.len, l.linktype])).toEqual(records.map((x, i) => [i + 1, x.data.length, x.wireLength, x.linktype]));
  });

  it('QinQ/IPv4/TCP: MACs, final EtherType, VLAN ids outer first, IP and TCP fields', () => {
    expect(lines[0]).toMatchObject({
      eth: { src: '00:11:22:33:44:55', dst: '66:77:88:99:aa:bb', type: 0x0800 },
      vlan: [100, 200],
      ip: { v: 4, src: '10.0.0.1', dst: '10.0.0.2', proto: 6, ttl: 64 },
      tcp: { sport: 12345, dport: 80, flags: 0x12, seq: 1, ack: 2, win: 8192 },
      offsets: { l2: 0, l3: 22, l4: 42, payload: 62 },
      ptype: 'ether-qinq ipv4 tcp',
    });
    expect(lines[0].rss).toMatch(/^0x[0-9a-f]{8}$/);
    expect(lines[0]).not.toHaveProperty('errors');
    expect(lines[0]).not.toHaveProperty('udp');
  });

  it('IPv6: RFC 5952 addresses, upper-layer protocol after the extension headers, fragment fields, no L4 in a later fragment', () => {
    expect(lines[1].ip).toEqual({ v: 6, src: '2001:db8::1', dst: 'ff02::1', proto: 17, ttl: 64, frag: { offset: 8, more: true, id: 0xabcd } });
    // A non-first fragment: its bytes are not a UDP header.
    expect(lines[1]).not.toHaveProperty('udp');
    expect(lines[1].ptype).toBe('ether ipv6-ext frag');
    expect(lines[1].errors).toEqual(['fragment']);
  });

  it('ARP: op and protocol addresses; no ip key', () => {
    expect(lines[2].arp).toEqual({ op: 2, spa: '192.168.0.1', tpa: '192.168.0.2' });
    expect(lines[2]).not.toHaveProperty('ip');
    expect(lines[2].ptype).toBe('ether-arp');
  });

  it('an ICMP error reports ICMP, not the quoted UDP, as the frame L4', () => {
    expect(lines[3].icmp).toEqual({ type: 3, code: 3 });
    expect(lines[3]).not.toHaveProperty('udp');
    expect(lines[3].ip.src).toBe('10.0.0.2');
  });

  it('a truncated TCP header: no tcp key, the error named, no eth for raw IP', () => {
    expect(lines[4]).not.toHaveProperty('tcp');
    expect(lines[4]).not.toHaveProperty('eth');
    expect(lines[4].errors).toContain('truncated-l4');
    expect(lines[4].offsets).toEqual({ l3: 0 });
  });

  it('VXLAN: tunnel type and VNI, inner Ethernet/IP/UDP', () => {
    expect(lines[5].tunnel).toEqual({ type: 'vxlan', vni: 100 });
    expect(lines[5].udp.dport).toBe(4789);
    expect(lines[5].inner).toMatchObject({ eth: { type: 0x0800 }, ip: { v: 4, src: '192.168.0.1', dst: '192.168.0.2', ttl: 32 }, udp: { sport: 0x1111, dport: 0x2222 } });
  });
});

describe('wirewasm dissect, other forms', () => {
  it('text: one line per frame', () => {
    const r = run('dissect', file);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(frames.length);
    expect(lines[0]).toMatch(/10\.0\.0\.1:12345 > 10\.0\.0\.2:80/);
  });

  it('--verify-checksums names a bad IPv4 header checksum', () => {
    const f = path.join(dir, 'bad.pcap');
    writeFileSync(f, writePcap([records[0]], { linktype: 1 }));
    const line = JSON.parse(run('dissect', f, '--format', 'jsonl', '--verify-checksums').stdout);
    expect(line.errors).toContain('bad-ip-checksum');
  });

  it('a file that is no capture: exit 1 and a message that says what to give', () => {
    const f = path.join(dir, 'junk.bin');
    writeFileSync(f, 'hello world');
    const r = run('dissect', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a pcap or pcapng file/);
  });

  it('an unknown --format is refused with the choices', () => {
    const r = run('dissect', file, '--format', 'xml');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/use text or jsonl/);
  });

  it('a capture cut short: the frames before the cut, then the problem, exit 1', () => {
    const bytes = writePcap(records.filter((x) => x.linktype === 1), { linktype: 1 });
    const f = path.join(dir, 'cut.pcap');
    writeFileSync(f, bytes.subarray(0, bytes.length - 5));
    const r = run('dissect', f, '--format', 'jsonl');
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stderr).toMatch(/cut short/);
  });
});

describe('RFC 5952 formatting', () => {
  const f = (s: string) => formatIpv6(hex(s), 0);
  it('compresses the longest zero run, the first when tied, never a single group', () => {
    expect(f('20010db8000000000001000000000001')).toBe('2001:db8::1:0:0:1');
    expect(f('20010db8000100000000000000000001')).toBe('2001:db8:1::1');
    expect(f('20010db8000000010001000100010001')).toBe('2001:db8:0:1:1:1:1:1');
    expect(f('00000000000000000000000000000000')).toBe('::');
    expect(f('00000000000000000000ffffc0a80001')).toBe('::ffff:192.168.0.1');
  });
});
