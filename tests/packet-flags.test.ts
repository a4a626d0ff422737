// TCP_FLAGS, exported from the package, name the bits of Packet.tcp.flags: checked frame by frame
// against tshark's own decoding of each flag of real captures.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TCP_FLAGS, type TcpFlag } from '../host/index.js';
import { packageRoot } from '../host/paths.js';
import { FrameParser } from '../host/parser.js';
import { readCaptureFile } from '../host/pcap/index.js';
import { lacks } from './support/tools.js';

const corpus = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const files = ['print-flags.pcap', 'tcp_eight_lowest_weight_flags_set.pcap', 'tcp-handshake-nano.pcap', 'mptcp-v1.pcap'].map((f) => path.join(corpus, f));
// tshark's field of each flag.
const FIELD: Record<TcpFlag, string> = { FIN: 'fin', SYN: 'syn', RST: 'reset', PSH: 'push', ACK: 'ack', URG: 'urg', ECE: 'ece', CWR: 'cwr', AE: 'ae' };

describe.skipIf(lacks('tshark') || !files.every(existsSync))('TCP_FLAGS against tshark', () => {
  it('nine distinct single bits, one per flag of the TCP header', () => {
    const bits = Object.values(TCP_FLAGS);
    expect(bits).toHaveLength(9);
    expect(bits.reduce((a, b) => a | b, 0)).toBe(0x1ff);
  });

  for (const file of files)
    it(`${path.basename(file)}: each flag bit set exactly where tshark says the flag is`, () => {
      const names = Object.keys(TCP_FLAGS) as TcpFlag[];
      const theirs = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', ...names.flatMap((n) => ['-e', `tcp.flags.${FIELD[n]}`])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')
        .map((l) => l.split('\t'))
        .filter((c) => c[1] !== '');
      const ours = new Map<number, string[]>();
      new FrameParser().parse(readCaptureFile(file).records, (pkt, i) => {
        const tcp = pkt.tcp;
        if (tcp) ours.set(i + 1, names.map((n) => ((tcp.flags & TCP_FLAGS[n]) !== 0 ? '1' : '0')));
      });
      expect(theirs.length).toBeGreaterThan(0);
      for (const [n, ...flags] of theirs) expect([n, ...(ours.get(Number(n)) ?? ['no tcp'])]).toEqual([n, ...flags]);
    });
});
