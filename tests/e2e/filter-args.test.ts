// Filter expressions as trailing arguments, as tcpdump takes them: `dissect FILE EXPRESSION`
// prints exactly the frames libpcap's pcap_offline_filter accepts (tests/support/libpcap-ref.c),
// numbered as in the file; -F FILE reads the expression from a file; `replay FILE EXPRESSION`
// delivers those frames and counts the rest as filtered; a bad expression is an error naming it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { refFiles } from '../support/libpcap-ref.js';

const CLI = path.join(packageRoot, 'dist', 'host', 'cli', 'main.js');
const CORPUS = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');
const wirewasm = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

// Ethernet, Linux cooked (SLL) and pcapng captures.
const FILES = ['edns-opts.pcap', 'tcp-handshake-nano.pcap', 'icmp6-rfc8335.pcap', 'dhcpv6-ia-na.pcap', 'ahcp.pcapng'].map((f) => path.join(CORPUS, f));
const EXPRESSIONS = ['udp dst port 53', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and icmp6', 'not udp', 'greater 100 and ip'];

describe.skipIf(!existsSync(CORPUS))('trailing filter expressions (dissect, replay), checked against pcap_offline_filter', () => {
  const ref = refFiles(EXPRESSIONS, FILES.filter(existsSync));

  it('dissect FILE EXPRESSION prints exactly the accepted frames, by their number in the file', () => {
    let printed = 0;
    for (const r of ref)
      EXPRESSIONS.forEach((expr, e) => {
        const want = r.results.get(e)!;
        const out = wirewasm('dissect', r.path, '--format', 'jsonl', ...expr.split(' '));
        if ('error' in want) {
          expect(out.status, `${r.path}: ${expr}`).toBe(1);
          return;
        }
        expect(out.status, out.stderr).toBe(0);
        const got = out.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n - 1);
        expect(got, `${path.basename(r.path)}: ${expr}`).toEqual([...want.accepted.keys()].sort((a, b) => a - b));
        printed += got.length;
      });
    expect(printed).toBeGreaterThan(20);
  });

  it('-F FILE reads the expression from a file (comments dropped), as tcpdump -F', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-filter-args-'));
    const file = path.join(dir, 'expr');
    writeFileSync(file, '# DNS queries\nudp dst\n  port 53 # to the server\n');
    const edns = FILES[0];
    const viaFile = wirewasm('dissect', edns, '-F', file);
    const viaArgs = wirewasm('dissect', edns, 'udp', 'dst', 'port', '53');
    expect(viaFile.status).toBe(0);
    expect(viaFile.stdout).toBe(viaArgs.stdout);
    expect(viaFile.stdout.split('\n').filter(Boolean).length).toBe((ref[0].results.get(0) as { accepted: Map<number, number> }).accepted.size);
    const both = wirewasm('dissect', edns, '-F', file, 'udp');
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/-F .* gives the filter expression, and "udp" was given too: give one of them/);
  });

  it('replay FILE EXPRESSION delivers the accepted frames and counts the rest as filtered', () => {
    const r = ref[0];
    const want = r.results.get(0) as { accepted: Map<number, number> };
    const out = wirewasm('replay', r.path, '--json', '--workers', '2', 'udp', 'dst', 'port', '53');
    expect(out.status, out.stderr).toBe(0);
    const s = JSON.parse(out.stdout);
    expect(s.delivered).toBe(want.accepted.size);
    expect(s.dropped.filtered).toBe(r.frames - want.accepted.size);
    expect(s.rx_packets).toBe(r.frames);
  });

  it('a bad expression is an error naming it, with libpcap\'s message', () => {
    for (const cmd of ['dissect', 'replay']) {
      const out = wirewasm(cmd, FILES[0], 'udp', 'portt', '53');
      expect(out.status).toBe(1);
      expect(out.stderr).toMatch(/filter "udp portt 53" \(link type EN10MB\): .*syntax error/);
      expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
