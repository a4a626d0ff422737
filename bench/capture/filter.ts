// The `capture` suite's filter rows: what tcpdump-style filtering costs, against the C tools that do it, in the same run.
//   wirewasm-filter     filter expressions translated to WASM (host/filter), filterBurst over bursts
//                       of 256 engine metadata records in one shared memory
//   libpcap-bpf_filter  libpcap's interpreter (bench/native/bpf-filter.c, cc -O2 -lpcap) on the same
//                       frames, for the same expressions compiled by the same pcap_compile
//   ...-hot             the same on the first 8192 frames over and over (cache-resident: the code's
//                       own cost, where the plain rows also pay for streaming the frames from memory).
//                       The engine filters a burst just written into the pool, in cache: the -hot
//                       rows are the ones its >= 3x target is about (README, Filter expressions).
//                       The plain rows reach the memory's bandwidth, which the interpreter is too slow to.
// Both count frames x expressions judged per second of the process's CPU time (wall_pps beside it:
// on a shared machine wall time mostly measures the other jobs); "agrees" says both accepted the same number of
// frames for every expression. The frames are the parse bench's generated mix (bench/parse/corpus.ts).
// bench/suites/capture.ts runs these beside the streaming rows; --filter-frames N (default 200000).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Filter } from '../../host/filter/index.js';
import { writePcap } from '../../host/pcap/index.js';
import { packageRoot } from '../../host/paths.js';
import { summarize, unavailable, type BenchResult } from '../common.js';
import { corpusBytes, generateCorpus } from '../parse/corpus.js';

const BURST = 256;
const HOT = 8192;
const META = 64;
const SNAPLEN = 262144;

/** A mix of what people type: ports, hosts and nets, VLAN, IPv6, flags, fragments, lengths. */
export const BENCH_EXPRESSIONS = [
  'udp port 53',
  'tcp[tcpflags] & tcp-syn != 0',
  'host 10.0.0.1 or net 192.168.0.0/16',
  'vlan and udp',
  'ip6 and tcp port 80',
  'not arp and greater 100',
  'ip[6:2] & 0x1fff = 0 and udp portrange 1000-2000',
];

const cacheDir = path.join(packageRoot, '.bench-cache');

function buildPeer(): string {
  const src = path.join(packageRoot, 'bench', 'native', 'bpf-filter.c');
  const exe = path.join(cacheDir, 'bpf-filter');
  if (existsSync(exe) && statSync(exe).mtimeMs >= statSync(src).mtimeMs) return exe;
  mkdirSync(cacheDir, { recursive: true });
  execFileSync('cc', ['-O2', '-o', exe, src, '-lpcap'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return exe;
}

export function filterRows(count: number, runs: number, log: (l: string) => void): BenchResult[] {
  const listAt = 64;
  const metaBase = listAt + count * 4;
  const verdicts = metaBase + count * META;
  const corpusBase = verdicts + BURST * 4;
  const pages = Math.ceil((corpusBase + corpusBytes(count)) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const u8 = new Uint8Array(memory.buffer);
  const dv = new DataView(memory.buffer);
  log(`capture: generating ${count} frames`);
  const corpus = generateCorpus(u8, corpusBase, count);
  for (let i = 0; i < count; i++) {
    dv.setUint32(listAt + i * 4, i, true);
    const m = metaBase + i * META;
    dv.setUint32(m, corpusBase + corpus.offsets[i], true);
    dv.setUint32(m + 4, corpus.lengths[i], true);
    dv.setUint32(m + 8, corpus.lengths[i], true);
    dv.setUint32(m + 60, 0xffffffff, true); // next: one segment, as the engine's unchained frames
  }

  const filters = BENCH_EXPRESSIONS.map((e) => Filter.compile(e, { linktype: 1, snaplen: SNAPLEN }).instantiate(memory));
  const measure = (hot: number) => {
    const accepted: number[] = [];
    const pps: number[] = [];
    const wall: number[] = [];
    const pass = () => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      filters.forEach((f, e) => {
        let a = 0;
        for (let i = 0; i < count; i += BURST) a += f.filterBurst(listAt + (i % hot) * 4, Math.min(BURST, count - i, hot - (i % hot)), metaBase, verdicts);
        accepted[e] = a;
      });
      const cpu = process.cpuUsage(c0);
      wall.push((count * filters.length) / ((performance.now() - t0) / 1000));
      return (count * filters.length) / ((cpu.user + cpu.system) / 1e6);
    };
    // V8 first runs a module's baseline (Liftoff) code and swaps in optimised code compiled in the
    // background; an engine calls its filter for every burst, so it is timed once that is done.
    const warm = performance.now();
    while (performance.now() - warm < 1000) pass();
    wall.length = 0;
    for (let r = 0; r < runs; r++) pps.push(pass());
    return { accepted, pps, wall };
  };
  const plain = measure(count);
  const hot = measure(Math.min(HOT, count));

  const dir = path.join(cacheDir, 'capture');
  mkdirSync(dir, { recursive: true });
  const pcap = path.join(dir, 'frames.pcap');
  const exprs = path.join(dir, 'expressions');
  const records = Array.from({ length: count }, (_, i) => {
    const data = u8.subarray(corpusBase + corpus.offsets[i], corpusBase + corpus.offsets[i] + corpus.lengths[i]);
    return { linktype: 1, timestampNs: BigInt(i) * 1000n, data, wireLength: data.length };
  });
  writeFileSync(pcap, writePcap(records, { linktype: 1, snaplen: SNAPLEN }));
  writeFileSync(exprs, BENCH_EXPRESSIONS.join('\n') + '\n');
  const peer = (hotFrames?: number) => {
    try {
      const out = execFileSync(buildPeer(), [pcap, exprs, String(runs + 1), ...(hotFrames ? [String(hotFrames)] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out) as { pps: number[]; wall: number[]; accepted: number[] };
    } catch (e) {
      return `${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}; needs cc and libpcap-dev (apt-get install libpcap-dev)`;
    }
  };
  const rows: BenchResult[] = [];
  for (const [suffix, ours, theirs] of [['', plain, peer()], ['-hot', hot, peer(Math.min(HOT, count))]] as const) {
    const row = summarize(`wirewasm-filter${suffix}`, 'pkts/s', ours.pps, { expressions: BENCH_EXPRESSIONS.length, burst: BURST, wall_pps: summarize('', '', ours.wall).median });
    rows.push(row);
    if (typeof theirs === 'string') {
      rows.push(unavailable(`libpcap-bpf_filter${suffix}`, 'pkts/s', theirs));
      continue;
    }
    // The peer's first run is its warm-up, as ours was.
    const c = summarize(`libpcap-bpf_filter${suffix}`, 'pkts/s', theirs.pps.slice(1), { expressions: BENCH_EXPRESSIONS.length, wall_pps: summarize('', '', theirs.wall.slice(1)).median });
    row.agrees = theirs.accepted.every((a, e) => a === ours.accepted[e]);
    row.ratio = row.median / Math.max(1, c.median);
    if (!row.agrees) log(`capture${suffix}: accepted counts differ: wirewasm ${ours.accepted.join(',')} libpcap ${theirs.accepted.join(',')}`);
    rows.push(c);
  }
  return rows;
}
