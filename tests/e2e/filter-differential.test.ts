// Every capture of the tcpdump corpus, judged by a set of filter expressions twice: by libpcap
// (pcap_open_offline + pcap_compile + pcap_offline_filter, in tests/support/libpcap-ref.c) and by
// wirewasm (our reader, libpcap's compiler on a pcap_open_dead handle, our WASM translation run in
// one filterBurst per file). The accepted frames must be the same frames with the same verdicts,
// and an expression libpcap cannot compile for a file's link type must fail for us with
// libpcap's message.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, Filter, linktypeToDlt, DEFAULT_SNAPLEN } from '../../host/filter/index.js';
import { readCaptureFile, writePcap } from '../../host/pcap/index.js';
import { packageRoot } from '../../host/paths.js';
import { refFiles } from '../support/libpcap-ref.js';
import { loadFrames } from '../support/filter-run.js';
import { EXPRESSIONS } from '../support/filter-expressions.js';

const CORPUS = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump');


/**
 * The corpus has no stacked VLAN tags, so one capture is made here: every stack of up to three
 * tags (802.1Q, 802.1ad, the old 0x9100) over IPv4/UDP, IPv6/TCP and ARP, whole and cut short.
 */
function stackedVlanCapture(): string {
  const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const be16 = (v: number) => [v >> 8, v & 0xff];
  const ipv4Udp = [...be16(0x0800), 0x45, 0, ...be16(40), 0, 0, 0, 0, 64, 17, 0, 0, 192, 168, 0, 9, 10, 0, 0, 1, ...be16(1000), ...be16(53), ...be16(20), 0, 0, ...Array(12).fill(0x61)];
  const ipv6Tcp = [...be16(0x86dd), 0x60, 0, 0, 0, ...be16(20), 6, 64, ...Array(15).fill(0), 1, 0xfe, 0x80, ...Array(13).fill(0), 2, ...be16(40000), ...be16(80), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, ...be16(1024), 0, 0, 0, 0];
  const arp = [...be16(0x0806), 0, 1, 8, 0, 6, 4, 0, 1, ...Array(20).fill(0x11)];
  const stacks = [[], [[0x8100, 100]], [[0x88a8, 10], [0x8100, 100]], [[0x8100, 1], [0x8100, 2]], [[0x9100, 5], [0x8100, 6], [0x8100, 7]], [[0x88a8, 10], [0x8100, 200]]];
  const records = [];
  for (const stack of stacks)
    for (const payload of [ipv4Udp, ipv6Tcp, arp]) {
      const bytes = Uint8Array.from([...eth, ...stack.flatMap(([tpid, vid]) => [...be16(tpid), ...be16(vid)]), ...payload]);
      for (const cut of [bytes.length, 16, 22, 40])
        if (cut <= bytes.length) records.push({ linktype: 1, timestampNs: BigInt(records.length) * 1000n, data: bytes.subarray(0, cut), wireLength: bytes.length });
    }
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wirewasm-vlan-')), 'stacked-vlan.pcap');
  writeFileSync(file, writePcap(records, { linktype: 1, snaplen: 65535 }));
  return file;
}

describe.skipIf(!existsSync(CORPUS))('filter verdicts match pcap_offline_filter on the tcpdump corpus', () => {
  const files = (existsSync(CORPUS) ? readdirSync(CORPUS) : []).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).sort().map((f) => path.join(CORPUS, f));

  it(`${EXPRESSIONS.length} expressions over every capture (${files.length} files) and a capture of stacked VLAN tags`, { timeout: 900_000 }, () => {
    expect(EXPRESSIONS.length).toBeGreaterThanOrEqual(60);
    expect(files.length).toBeGreaterThan(400);
    const ref = refFiles(EXPRESSIONS, [...files, stackedVlanCapture()]);
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
      // libpcap keeps an original length smaller than the captured one, where our reader (host/pcap)
      // raises it to the captured one. The filter is judged on the lengths pcap_offline_filter was
      // given; every frame where the readers differ must differ only so.
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
    const stacked = ref.at(-1)!.results.get(EXPRESSIONS.indexOf('vlan and vlan and vlan'))!;
    expect('accepted' in stacked && stacked.accepted.size).toBeGreaterThan(0);
    expect(readerDiffs).toBeLessThan(100);
    // The comparison must cover real work: many frames, both verdicts, and compile errors.
    expect(compared).toBeGreaterThan(100_000);
    expect(accepted).toBeGreaterThan(compared / 50);
    expect(accepted).toBeLessThan(compared);
    expect(compileErrors).toBeGreaterThan(files.length);
  });
});
