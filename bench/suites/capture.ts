// `capture`: a capture file read, decoded and printed, against the tools people use for that, on
// the same generated 1M-frame pcap (.bench-cache/capture-flows4096-1000000.pcap, the parse bench's
// traffic mix as 4096 flows between 256 hosts: each host's MAC and IP addresses repeat, ports and
// payloads vary, as in a real capture; bench/parse/corpus.ts says why tcpdump needs that to run at
// its usual speed):
//   wirewasm-dissect-text   `wirewasm dissect FILE` > /dev/null          vs tcpdump -nn -e -v -r FILE > /dev/null
//   wirewasm-dissect-jsonl  `wirewasm dissect FILE --format jsonl`       vs tshark -T json -r FILE (on --peer-frames)
//   wirewasm-read           the streaming read + parse, no output (bench/capture/read.ts): pkts/s and MB/s
//   wirewasm-first-line     ms from start to the first line of `dissect` on stdout (first_line_ms)
//                           vs tcpdump-first-line (`tcpdump -nn -e -v -r FILE`) and node-start-first-line
//                           (a bare `node -e` writing one line: the process start every node command pays)
//   wirewasm-filter(-hot)   filter expressions as WASM vs libpcap-bpf_filter(-hot), libpcap's interpreter (bench/capture/filter.ts)
// Every row is its own process; `rss_mb` beside each is its peak RSS (GNU time's %M), and
// `cpu_us_per_frame` beside the dissect rows and their peers its user + system CPU per frame
// (median over the runs; on a shared machine steadier than the wall-clock rate).
//
// Options: --frames N (default 1000000), --runs R (default 3), --peer-frames N for tshark (default 100000),
// --filter-frames N for the filter rows (default 200000).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { artefact } from '../../host/paths.js';
import { argValue, summarize, unavailable, type BenchResult, type Suite } from '../common.js';
import { corpusBytes, generateCorpus } from '../parse/corpus.js';
import { cacheDir } from '../parse/peers.js';
import { filterRows } from '../capture/filter.js';

const cli = artefact('dist/host/cli/main.js');
const reader = artefact('dist/bench/capture/read.js');
/** The generated capture's flows and hosts: addresses repeat, as in a real capture (see the header). */
const TRAFFIC = { flows: 4096, hosts: 256 };

/** Writes `count` frames of the parse bench's mix as TRAFFIC's flows, a classic pcap (microseconds, Ethernet). */
function generate(file: string, count: number): void {
  const mem = new Uint8Array(corpusBytes(count));
  const c = generateCorpus(mem, 0, count, undefined, TRAFFIC);
  const fd = openSync(file, 'w');
  const out = Buffer.alloc(8 << 20);
  let o = 0;
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  writeSync(fd, head);
  for (let i = 0; i < count; i++) {
    const len = c.lengths[i];
    if (o + 16 + len > out.length) (writeSync(fd, out, 0, o), (o = 0));
    out.writeUInt32LE(1_700_000_000 + Math.floor(i / 1_000_000), o);
    out.writeUInt32LE(i % 1_000_000, o + 4);
    out.writeUInt32LE(len, o + 8);
    out.writeUInt32LE(len, o + 12);
    out.set(mem.subarray(c.offsets[i], c.offsets[i] + len), o + 16);
    o += 16 + len;
  }
  writeSync(fd, out, 0, o);
  closeSync(fd);
}

/** Runs `cmd` with stdout to /dev/null under GNU time: wall seconds, CPU seconds (user + system), peak RSS MB, exit status, its stdout. */
function timed(cmd: string[], stdout: 'null' | 'pipe' = 'null'): { seconds: number; cpuSeconds: number; rssMb: number; status: number | null; out: string; err: string } {
  const rssFile = path.join(cacheDir, 'capture-time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, ...cmd], { stdio: ['ignore', stdout === 'null' ? 'ignore' : 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  const [rssKb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, cpuSeconds: user + sys, rssMb: rssKb / 1024, status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** ms from spawn to the first byte on stdout. */
function firstLine(cmd: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    p.stdout.once('data', () => {
      resolve(performance.now() - t0);
      p.kill();
    });
    p.on('error', reject);
    p.on('exit', () => resolve(NaN));
  });
}

const have = (tool: string) => {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const suite: Suite = async ({ argv, log }) => {
  const frames = argValue(argv, '--frames', 1_000_000);
  const runs = argValue(argv, '--runs', 3);
  const peerFrames = Math.min(frames, argValue(argv, '--peer-frames', 100_000));
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `capture-flows${TRAFFIC.flows}-${frames}.pcap`);
  const peerFile = path.join(cacheDir, `capture-flows${TRAFFIC.flows}-${peerFrames}.pcap`);
  if (!existsSync(file)) (log(`capture: generating ${frames} frames into ${file}`), generate(file, frames));
  if (!existsSync(peerFile)) generate(peerFile, peerFrames);
  if (!existsSync('/usr/bin/time')) return [unavailable('wirewasm-dissect-text', 'pkts/s', 'GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time')];
  const node = process.execPath;
  const rows: BenchResult[] = filterRows(argValue(argv, '--filter-frames', 200_000), runs, log);
  const row = (name: string, cmd: string[], count: number, extra: Record<string, unknown> = {}) => {
    const rates: number[] = [];
    const cpu: number[] = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      const r = timed(cmd);
      if (r.status !== 0) return rows.push(unavailable(name, 'pkts/s', `${cmd.join(' ')} exited ${r.status}: ${r.err.trim().split('\n').pop()}`));
      rates.push(count / r.seconds);
      cpu.push((r.cpuSeconds * 1e6) / count);
      rss = Math.max(rss, r.rssMb);
    }
    const cpuUs = summarize(name, 'us', cpu).median;
    log(`capture: ${name} ${Math.round(Math.max(...rates))} pkts/s, ${cpuUs.toFixed(2)} µs CPU/frame, ${rss.toFixed(1)} MB`);
    rows.push(summarize(name, 'pkts/s', rates, { frames: count, cpu_us_per_frame: Number(cpuUs.toFixed(3)), rss_mb: Number(rss.toFixed(1)), ...extra }));
  };
  row('wirewasm-dissect-text', [node, cli, 'dissect', file], frames);
  if (have('tcpdump')) row('tcpdump', ['tcpdump', '-nn', '-e', '-v', '-r', file], frames, { args: '-nn -e -v -r' });
  else rows.push(unavailable('tcpdump', 'pkts/s', 'tcpdump is not installed: apt-get install tcpdump'));
  row('wirewasm-dissect-jsonl', [node, cli, 'dissect', file, '--format', 'jsonl'], frames);
  if (have('tshark')) row('tshark-json', ['tshark', '-T', 'json', '-r', peerFile], peerFrames);
  else rows.push(unavailable('tshark-json', 'pkts/s', 'tshark is not installed: apt-get install tshark'));

  // Ours against each peer: the rate ratio, and the CPU-per-frame ratio (steadier on a shared machine).
  const versus = (ours: string, peer: string, target: number) => {
    const a = rows.find((r) => r.name === ours && r.runs);
    const b = rows.find((r) => r.name === peer && r.runs);
    if (a && b) Object.assign(a, { vs: peer, ratio: Number((a.median / b.median).toFixed(2)), cpu_ratio: Number(((b.cpu_us_per_frame as number) / (a.cpu_us_per_frame as number)).toFixed(2)), target });
  };
  versus('wirewasm-dissect-text', 'tcpdump', 1.5);
  versus('wirewasm-dissect-jsonl', 'tshark-json', 10);

  const pkts: number[] = [];
  const mbs: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const r = timed([node, reader, file], 'pipe');
    const [n, bytes, seconds] = r.out.trim().split(' ').map(Number);
    if (r.status !== 0 || n !== frames) return [...rows, unavailable('wirewasm-read', 'pkts/s', `read ${n} of ${frames} frames: ${r.err.trim()}`)];
    pkts.push(n / seconds);
    mbs.push(bytes / 1e6 / seconds);
    rss = Math.max(rss, r.rssMb);
  }
  rows.push(summarize('wirewasm-read', 'pkts/s', pkts, { frames, rss_mb: Number(rss.toFixed(1)) }));
  rows.push(summarize('wirewasm-read-bytes', 'MB/s', mbs, { frames, rss_mb: Number(rss.toFixed(1)) }));

  // The first line: ours against tcpdump's on the same file, and a bare node writing one line, the
  // part of ours that is process start alone. `first_line_ms` is each one's median.
  const firstLines = async (name: string, cmd: string[], extra: Record<string, unknown> = {}) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await firstLine(cmd));
    const row = summarize(name, 'ms', ms, extra);
    log(`capture: ${name} ${row.median.toFixed(1)} ms`);
    rows.push({ ...row, first_line_ms: row.median });
  };
  await firstLines('wirewasm-first-line', [node, cli, 'dissect', file], { target_ms: 200 });
  if (have('tcpdump')) await firstLines('tcpdump-first-line', ['tcpdump', '-nn', '-e', '-v', '-r', file], { args: '-nn -e -v -r' });
  else rows.push(unavailable('tcpdump-first-line', 'ms', 'tcpdump is not installed: apt-get install tcpdump'));
  await firstLines('node-start-first-line', [node, '-e', "process.stdout.write('\\n')"]);
  rmSync(path.join(cacheDir, 'capture-time.txt'), { force: true });
  return rows;
};

export default suite;
