// Every capture of the tcpdump corpus, judged by a set of filter expressions twice: by libpcap
// (pcap_open_offline + pcap_compile + pcap_offline_filter, in tests/support/libpcap-ref.c) and by
// wirewasm (our reader, libpcap's compiler on a pcap_open_dead handle, our WASM translation run in
// one filterBurst per file). The accepted frames must be the same frames with the same verdicts,
// and an expression libpcap cannot compile for a file's link type must fail for us with
// libpcap's message.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, Filter, linktypeToDlt, DEFAULT_SNAPLEN } from '../../host/filter/index.js';
import { readCaptureFile } from '../../host/pcap/index.js';
import { refFiles } from '../support/libpcap-ref.js';
import { loadFrames } from '../support/filter-run.js';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/tcpdump');

export const EXPRESSIONS = [
  // hosts and nets
  'host 192.168.1.1', 'src host 10.0.0.1', 'dst host 10.0.0.2 or dst host 192.168.0.1', 'net 192.168.0.0/16',
  'net 10.0.0.0 mask 255.0.0.0', 'src net 172.16.0.0/12', 'dst net 224.0.0.0/4', 'ip6 net fe80::/10',
  'host fe80::1 or ip6 dst net ff02::/16', 'ip host 127.0.0.1',
  // ports and ranges
  'port 53', 'src port 80', 'dst port 443', 'tcp port 80', 'udp port 53', 'portrange 1-1023',
  'tcp portrange 6000-7000', 'udp src portrange 1024-65535', 'tcp dst port 22 or udp dst port 123', 'udp port 67 or udp port 68',
  'ip6 and udp port 546', 'sctp port 5060',
  // protocols
  'tcp', 'udp', 'icmp', 'icmp6', 'arp', 'rarp', 'ip', 'ip6', 'sctp', 'ip proto 47', 'ip6 and tcp', 'mpls', 'pppoes',
  'llc', 'stp', 'ip multicast', 'ip6 multicast', 'ip broadcast', 'geneve',
  // VLAN, also stacked
  'vlan', 'vlan 100', 'vlan and vlan', 'vlan and vlan and ip', 'vlan and udp', 'not vlan', 'vlan and not vlan 10', 'vlan and host 10.0.0.1',
  // header bytes and arithmetic
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] == 0x12',
  'tcp[13] = 0x18', 'ip[6:2] & 0x1fff = 0', 'ip[6:2] & 0x1fff != 0', 'ip[0] & 0xf > 5', 'ip[2:2] > 576', 'ip[8] < 64',
  'ip[9] = 6 and ip[6:2] & 0x3fff = 0', 'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420', 'ip and (ip[2:2] - ((ip[0]&0xf)<<2)) > 100',
  'udp[4:2] > 100', 'ip6[6] = 17', 'icmp[icmptype] = icmp-echo', 'icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-unreach',
  'len % 3 == 1', 'len / 4 > 100', 'ip[1] * 3 > 10', 'ip[2:2] ^ 0xff > 300', 'tcp[0:2] - tcp[2:2] > 0', 'ip[8] | 1 = 1 or udp[0] & 2 != 0',
  'ip[2:2] >> 3 = 20', 'ip[2:2] << 1 > 1000', 'ether[0] & 1 != 0',
  // link layer
  'ether broadcast', 'ether multicast', 'ether host ff:ff:ff:ff:ff:ff', 'ether proto 0x88cc', 'ether src 00:00:00:00:00:00 or ether dst 01:80:c2:00:00:00',
  // lengths
  'greater 1000', 'less 64', 'len > 100 and len < 300',
  // boolean structure
  'not ip', 'not tcp and not udp', 'tcp or udp', '(tcp port 80 or tcp port 443) and not host 10.0.0.1', 'ip and not (udp port 53)',
  'not (ip or ip6 or arp)', 'udp and (port 53 or port 5353) and not src net 10.0.0.0/8',
  // errors libpcap gives
  'udp prot 53', 'host', 'tcp[100000000:4] = 0',
];

describe('filter verdicts match pcap_offline_filter on the tcpdump corpus', () => {
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => path.join(CORPUS, f));

  it(`${EXPRESSIONS.length} expressions over every capture (${files.length} files)`, { timeout: 900_000 }, () => {
    expect(EXPRESSIONS.length).toBeGreaterThanOrEqual(60);
    expect(files.length).toBeGreaterThan(400);
    const ref = refFiles(EXPRESSIONS, files);
    const cache = new Map<string, Filter | FilterError>();
    const mismatches: string[] = [];
    let compared = 0;
    let accepted = 0;
    let compileErrors = 0;
    let readerDiffs = 0;
    for (const r of ref) {
      const name = path.basename(r.path);
      if (r.openError) continue; // libpcap cannot read it: nothing to compare verdicts with
      const { records } = readCaptureFile(r.path);
      if (records.length !== r.frames) {
        mismatches.push(`${name}: our reader gives ${records.length} frames, libpcap ${r.frames}${r.readError ? ` (${r.readError})` : ''}`);
        continue;
      }
      // libpcap reports the first interface's link type for the whole file.
      const linktype = records[0]?.linktype ?? 1;
      if (records.length && linktypeToDlt(linktype) !== r.dlt) {
        mismatches.push(`${name}: LINKTYPE ${linktype} maps to DLT ${linktypeToDlt(linktype)}, libpcap says ${r.dlt}`);
        continue;
      }
      // libpcap cuts a record longer than the file's snaplen to the snaplen, and keeps an original
      // length smaller than the captured one, where our reader (host/pcap) keeps every captured
      // byte and raises such a length to the captured one. The filter is judged on the lengths
      // pcap_offline_filter was given; every frame where the readers differ must differ only so.
      const frames = records.map((x, i) => {
        const [caplen, len] = r.lengths[i];
        if (caplen !== x.data.length || len !== x.wireLength) {
          readerDiffs++;
          const explained = caplen === Math.min(x.data.length, r.snaplen) && (len === x.wireLength || (len < x.data.length && x.wireLength === x.data.length));
          if (!explained) mismatches.push(`${name} frame ${i}: our reader gives caplen/len ${x.data.length}/${x.wireLength}, libpcap ${caplen}/${len}`);
        }
        return { data: x.data.subarray(0, caplen), wirelen: len };
      });
      const arena = loadFrames(frames);
      for (let e = 0; e < EXPRESSIONS.length; e++) {
        const want = r.results.get(e)!;
        const key = `${r.dlt}|${r.snaplen}|${e}`;
        let f = cache.get(key);
        if (!f) {
          try {
            f = Filter.compile(EXPRESSIONS[e], { linktype, snaplen: r.snaplen || DEFAULT_SNAPLEN });
          } catch (err) {
            if (!(err instanceof FilterError)) throw err;
            f = err;
          }
          cache.set(key, f);
        }
        if ('error' in want) {
          compileErrors++;
          if (!(f instanceof FilterError) || !f.message.includes(want.error)) mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap refuses (${want.error}), we ${f instanceof FilterError ? `say ${f.message}` : 'compiled it'}`);
          continue;
        }
        if (f instanceof FilterError) {
          mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap compiles it, we refuse: ${f.message}`);
          continue;
        }
        const got = arena.run(f);
        const wantList = [...want.accepted].map(([i, v]) => `${i}:${v}`).join(',');
        const list = (v: Uint32Array) => [...v].flatMap((x, i) => (x ? [`${i}:${x}`] : [])).join(',');
        if (list(got.burst) !== wantList || list(got.single) !== wantList || got.accepted !== want.accepted.size)
          mismatches.push(`${name} "${EXPRESSIONS[e]}": libpcap accepts [${wantList.slice(0, 200)}], we [${list(got.burst).slice(0, 200)}]`);
        compared += records.length;
        accepted += want.accepted.size;
      }
    }
    expect(mismatches.slice(0, 30)).toEqual([]);
    expect(readerDiffs).toBeLessThan(100);
    // The comparison must cover real work: many frames, both verdicts, and compile errors.
    expect(compared).toBeGreaterThan(100_000);
    expect(accepted).toBeGreaterThan(compared / 50);
    expect(accepted).toBeLessThan(compared);
    expect(compileErrors).toBeGreaterThan(files.length);
  });
});
