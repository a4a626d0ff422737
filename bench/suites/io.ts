/**
 * `io`: packets per second a receiver takes off a veth pair, with the generator in one namespace
 * and the receiver in another (both made here, removed on exit), 64-byte frames, N-second runs,
 * median of R runs; then one-way latency at 10 kpps.
 *
 * Receivers: the four wirewasm kernel-ring backends, the DPDK backend on two PMDs beside the same
 * PMDs in a plain C loop (DPDK_RECEIVERS), and the peers a Node user would pick instead:
 * a plain `dgram` socket (node-dgram) and libpcap through npm `cap` (libpcap-cap, installed by this
 * suite into .bench-cache/). Each receiver is its own process (bench/io/receiver.ts), so its CPU
 * time is its own: cpu_s_per_mpkt = CPU seconds of the receiving process per million frames.
 *
 * Generator: `wirewasm gen` itself (AF_XDP TX ring, frames written in place; host/gen/generator.ts), in its
 * own process. Chosen over a C sender so the bench needs no compiler and the same code users run
 * is what offers the load; its ceiling on this machine is printed as "offered".
 *
 * Options: --runs R (5) --seconds S (5) --latency-seconds L (3) --gen afxdp|afpacket (afxdp)
 *          --only name,name (a subset of the receivers)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../host/paths.js';
import { createTestbed, type Testbed } from '../../host/testbed.js';
import { argValue, median, summarize, unavailable, type BenchResult, type Suite } from '../common.js';
import { dpdkInfo } from '../../host/backends/dpdk.js';

/**
 * DPDK (host/backends/dpdk.ts) on the same veth: the wirewasm backend with the AF_XDP and the
 * AF_PACKET PMD, the whole engine on those ports (`wirewasm-engine-dpdk-*`: poll thread, worker,
 * handler, stats), and bench/native/dpdk-rx.c driving the same PMDs from a plain C loop (the ceiling).
 */
const DPDK_RECEIVERS = ['wirewasm-dpdk-afxdp', 'wirewasm-dpdk-afpacket', 'wirewasm-engine-dpdk-afxdp', 'wirewasm-engine-dpdk-afpacket', 'c-dpdk-rx', 'c-dpdk-rx-afpacket'] as const;
/** Rows of the whole engine: throughput and CPU only (the latency rows time one receive loop, which the engine's workers do not expose). */
const isEngineRow = (recv: string) => recv.startsWith('wirewasm-engine-');

const RECEIVERS = ['wirewasm-afxdp-skb', 'wirewasm-afxdp-drv', 'wirewasm-afpacket-v3', 'wirewasm-afpacket-v2', 'node-dgram', 'libpcap-cap', ...DPDK_RECEIVERS] as const;
type Receiver = (typeof RECEIVERS)[number];
const PORT = 9000;
const node = process.execPath;
const cli = path.join(packageRoot, 'dist/host/cli/main.js');
const receiverJs = path.join(packageRoot, 'dist/bench/io/receiver.js');

function ensureCap(log: (s: string) => void): string | undefined {
  const dir = path.join(packageRoot, '.bench-cache');
  if (existsSync(path.join(dir, 'node_modules/cap/build/Release/cap.node'))) return undefined;
  const fix = 'apt-get install -y libpcap-dev && npm install --prefix .bench-cache cap@0.2.1';
  if (!existsSync('/usr/include/pcap/pcap.h')) return `libpcap headers missing; run: ${fix}`;
  log('io: installing npm cap@0.2.1 into .bench-cache/ (libpcap binding, a peer)');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', dir, 'cap@0.2.1'], { stdio: 'ignore' });
    if (!existsSync(path.join(dir, 'node_modules/cap/build/Release/cap.node')))
      execFileSync('npx', ['node-gyp', 'rebuild'], { cwd: path.join(dir, 'node_modules/cap'), stdio: 'ignore' });
  } catch (e) {
    return `could not install npm cap (${(e as Error).message.split('\n')[0]}); run: ${fix}`;
  }
  return undefined;
}

export interface RunResult {
  sent: number;
  genSeconds: number;
  received: number;
  cpuS: number;
  latenciesNs?: number[];
  mode?: string;
  /** Engine receivers: frames the engine took in, and its drops by reason. */
  rx?: number;
  dropped?: Record<string, number>;
}

function lines(stream: NodeJS.ReadableStream, onLine: (l: string) => void) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/** One receiver process in bed.b against `wirewasm gen` in bed.a (also the engine suite's live rows: `wirewasm-engine-afxdp`...). */
export async function runOnce(bed: Testbed, recv: string, seconds: number, rate: number, latency: false | 'busy' | 'adaptive', gen: string): Promise<RunResult> {
  const backend = recv.replace(/^wirewasm-/, '').replace(/^libpcap-/, '');
  const rArgs = [receiverJs, '--backend', backend, '--iface', bed.b.iface, '--ip', bed.b.ip, '--port', String(PORT), '--seconds', String(seconds + 2), ...(latency ? ['--latency', '--wait', latency] : [])];
  const r = bed.spawn(bed.b.ns, node, rArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  r.stderr!.on('data', (d) => (err += d));
  let result: string | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    lines(r.stdout!, (l) => (l.startsWith('ready') ? resolve() : (result = l)));
    r.on('close', () => reject(new Error(`${recv} receiver exited before it was ready: ${err.trim()}`)));
  });
  // 'close', not 'exit': the result line may still sit in the pipe when the process has exited.
  let how = '';
  const done = new Promise<void>((resolve) => r.on('close', (code, signal) => ((how = `exit ${code ?? signal}`), resolve())));
  await ready;
  const g = bed.spawn(bed.a.ns, node, [cli, 'gen', '--iface', bed.a.iface, '--backend', gen, '--rate', String(rate), '--size', '64', '--duration', String(seconds), '--dst-ip', bed.b.ip, '--dst-mac', bed.b.mac, '--port', String(PORT), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let gout = '';
  let gerr = '';
  g.stdout!.on('data', (d) => (gout += d));
  g.stderr!.on('data', (d) => (gerr += d));
  let receiverDone = false;
  void done.then(() => (receiverDone = true));
  const gcode = await new Promise((res) => g.on('close', res));
  if (gcode !== 0) throw new Error(`generator failed: ${gerr.trim()}`);
  // The receiver's window starts at "ready" and lasts 2 s longer than the generator's; a generator
  // that starts late (a loaded machine) sends past it, to no receiver: every frame uncounted, every
  // counter 0. Such a run measures nothing.
  if (receiverDone) throw new Error(`${recv}: the receiver's ${seconds + 2} s window closed before the generator finished (it started late: the machine is loaded); this run would count frames sent after the window as lost, rerun it`);
  await done;
  if (!result) throw new Error(`${recv} receiver gave no result (${how}): ${err.trim()}`);
  const gr = JSON.parse(gout) as { sent: number; seconds: number };
  return { ...(JSON.parse(result) as Omit<RunResult, 'sent' | 'genSeconds'>), sent: gr.sent, genSeconds: gr.seconds };
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 5);
  const seconds = argValue(argv, '--seconds', 5);
  const latSeconds = argValue(argv, '--latency-seconds', 3);
  const gi = argv.indexOf('--gen');
  const gen = gi >= 0 ? argv[gi + 1] : 'afxdp';
  const oi = argv.indexOf('--only');
  const only = oi >= 0 ? argv[oi + 1].split(',') : [];
  const all = [...RECEIVERS.map((n) => [n, 'pkts/s']), ...RECEIVERS.filter((n) => !isEngineRow(n)).flatMap((n) => ['p50', 'p99', 'p999'].map((p) => [`${n}-latency-${p}`, 'ns']))];
  if (process.getuid?.() !== 0) return all.map(([n, u]) => unavailable(n, u, 'needs root (namespaces, veth, AF_XDP): run as root'));
  if (!existsSync(receiverJs)) return all.map(([n, u]) => unavailable(n, u, 'run `npm run build:host` first'));
  const capError = ensureCap(log);
  const dpdk = dpdkInfo();
  const dpdkError = dpdk.available ? undefined : dpdk.reason;
  const bed = createTestbed({ prefix: 'wwio' });
  const tput = new Map<Receiver, RunResult[]>();
  const lat = new Map<Receiver, RunResult[]>();
  const adaptive = new Map<Receiver, RunResult[]>();
  const errors = new Map<Receiver, string>();
  try {
    for (let run = 0; run < runs; run++) {
      // Interleaved, so a slow minute of the shared machine hits every receiver alike.
      for (const recv of RECEIVERS) {
        if (only.length && !only.includes(recv)) continue;
        if (recv === 'libpcap-cap' && capError) {
          errors.set(recv, capError);
          continue;
        }
        if ((DPDK_RECEIVERS as readonly string[]).includes(recv) && dpdkError) {
          errors.set(recv, dpdkError);
          continue;
        }
        try {
          const r = await runOnce(bed, recv, seconds, 0, false, gen);
          tput.set(recv, [...(tput.get(recv) ?? []), r]);
          log(`io: run ${run + 1}/${runs} ${recv}: ${Math.round(r.received / r.genSeconds)} pkts/s of ${Math.round(r.sent / r.genSeconds)} offered, cpu ${r.cpuS.toFixed(2)} s ${JSON.stringify({ ...r, latenciesNs: undefined, mode: undefined, received: undefined, cpuS: undefined })}${r.mode ? ` (${r.mode})` : ''}`);
          if (isEngineRow(recv)) continue;
          const l = await runOnce(bed, recv, latSeconds, 10_000, 'busy', gen);
          lat.set(recv, [...(lat.get(recv) ?? []), l]);
          log(`io: run ${run + 1}/${runs} ${recv} latency: p50 ${pct(l.latenciesNs!, 50)} ns p99 ${pct(l.latenciesNs!, 99)} ns over ${l.latenciesNs!.length} frames`);
          if (recv.startsWith('wirewasm')) {
            // The same with the adaptive wait (spin, then poll()): on a machine without a core to
            // spare, a busy-poller is preempted and its tail is the scheduler's time slice.
            const a = await runOnce(bed, recv, latSeconds, 10_000, 'adaptive', gen);
            adaptive.set(recv, [...(adaptive.get(recv) ?? []), a]);
            log(`io: run ${run + 1}/${runs} ${recv} latency (adaptive): p50 ${pct(a.latenciesNs!, 50)} ns p99 ${pct(a.latenciesNs!, 99)} ns`);
          }
        } catch (e) {
          errors.set(recv, (e as Error).message);
          log(`io: ${recv}: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    bed.destroy();
  }
  const results: BenchResult[] = [];
  for (const recv of RECEIVERS) {
    const rs = tput.get(recv) ?? [];
    if (!rs.length) {
      results.push(unavailable(recv, 'pkts/s', errors.get(recv) ?? 'no run'));
      continue;
    }
    const pps = rs.map((r) => r.received / r.genSeconds);
    results.push(
      summarize(recv, 'pkts/s', pps, {
        offered: median(rs.map((r) => r.sent / r.genSeconds)),
        loss: median(rs.map((r) => 1 - r.received / r.sent)),
        cpu_s_per_mpkt: median(rs.map((r) => r.cpuS / (r.received / 1e6))),
        ...(rs[0].mode ? { mode: rs[0].mode } : {}),
      }),
    );
  }
  for (const [suffix, runsOf] of [['latency', lat], ['latency-adaptive', adaptive]] as const)
  for (const recv of RECEIVERS) {
    if (isEngineRow(recv) || (suffix === 'latency-adaptive' && !recv.startsWith('wirewasm'))) continue;
    const ls = runsOf.get(recv) ?? [];
    for (const p of [50, 99, 99.9]) {
      const name = `${recv}-${suffix}-p${p === 99.9 ? '999' : p}`;
      if (!ls.length) results.push(unavailable(name, 'ns', errors.get(recv) ?? 'no run'));
      else
        results.push(
          summarize(name, 'ns', ls.map((l) => pct(l.latenciesNs!, p)), {
            rate_pps: 10_000,
            samples: median(ls.map((l) => l.latenciesNs!.length)),
            loss: median(ls.map((l) => 1 - l.received / l.sent)),
            mode: suffix === 'latency-adaptive' ? 'adaptive (spin 2 µs, poll)' : recv.startsWith('wirewasm') ? 'busy-poll' : 'event loop',
          }),
        );
    }
  }
  return results;
};
export default suite;
