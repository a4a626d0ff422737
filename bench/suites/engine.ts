// `engine`: the full pipeline from a memory source (copy into pool frames, parse with the Toeplitz
// hash, flow/RSS dispatch through the in rings, a trivial JS handler once per burst, latency
// histogram, frames back to the pool), with 1 and 2 workers, in packets per second measured over a
// steady window. 2w: two receive queues (flows dealt by RSS at the source, as a multi-queue NIC
// does), one per worker; 2w-1q: one queue spread over both workers by software RSS. And the cost of
// the per-burst JS handler call, two ways: in the pipeline (with vs without a handler) and alone.
// Peer in the same run: the same parse + 5-tuple hash written in plain JS over the same frames.
//
// Live rows (root only; `--live-only` runs just these, `--no-live` skips them): the engine on a
// veth pair in namespaces made here, zero-copy from AF_XDP and from AF_PACKET TPACKET_V3 (and
// AF_PACKET copying each packet into the pool, zeroCopy: false, to see what zero-copy saves), one
// worker, 64-byte frames from `wirewasm gen` at full speed, and a node dgram socket over the same
// veth as the peer; each receiver its own process, run by the io suite's runOnce (bench/suites/io.ts).
import { Bench } from 'tinybench';
import { Worker } from 'node:worker_threads';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { Burst } from '../../host/engine/burst.js';
import { artefact } from '../../host/paths.js';
import { argValue, median, summarize, unavailable, type BenchResult, type Suite } from '../common.js';
import { createTestbed } from '../../host/testbed.js';
import { runOnce, type RunResult } from './io.js';

const LIVE = ['wirewasm-engine-afxdp', 'wirewasm-engine-afpacket', 'wirewasm-engine-afpacket-copy', 'node-dgram (peer, same veth)'] as const;

async function liveRows(runs: number, seconds: number, log: (s: string) => void): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) return LIVE.map((n) => unavailable(n, 'pkts/s', 'needs root (namespaces, veth, AF_XDP): run as root'));
  const bed = createTestbed({ prefix: 'wwbe' });
  const got = new Map<string, RunResult[]>();
  const errors = new Map<string, string>();
  try {
    for (let r = 0; r < runs; r++)
      for (const name of LIVE) {
        const recv = name.startsWith('node-dgram') ? 'node-dgram' : name;
        try {
          const x = await runOnce(bed, recv, seconds, 0, false, 'afxdp');
          got.set(name, [...(got.get(name) ?? []), x]);
          log(`engine: live run ${r + 1}/${runs} ${name}: ${Math.round(x.received / x.genSeconds)} pkts/s delivered of ${Math.round(x.sent / x.genSeconds)} offered`);
        } catch (e) {
          errors.set(name, (e as Error).message);
          log(`engine: ${name}: ${(e as Error).message}`);
        }
      }
  } finally {
    bed.destroy();
  }
  return LIVE.map((name) => {
    const rs = got.get(name) ?? [];
    if (!rs.length) return unavailable(name, 'pkts/s', errors.get(name) ?? 'no run');
    return summarize(name, 'pkts/s', rs.map((x) => x.received / x.genSeconds), {
      offered: median(rs.map((x) => x.sent / x.genSeconds)),
      ...(rs[0].rx !== undefined
        ? {
            received_pps: median(rs.map((x) => x.rx! / x.genSeconds)),
            // The engine's drops by reason (median per run): received = delivered + these.
            drops: Object.fromEntries(Object.keys(rs[0].dropped ?? {}).map((k) => [k, median(rs.map((x) => x.dropped?.[k] ?? 0))]).filter(([, v]) => (v as number) > 0)),
          }
        : {}),
      loss: median(rs.map((x) => 1 - x.received / x.sent)),
      cpu_s_per_mpkt: median(rs.map((x) => x.cpuS / (x.received / 1e6))),
      ...(rs[0].mode ? { mode: rs[0].mode } : {}),
      note: 'delivered to the handler per second of generator time; 64 B frames, 1 worker',
    });
  });
}

const handler = artefact('bench/handlers/trivial.mjs');

async function steadyPps(workers: number, opts: { handler?: string; seconds: number; burst: number; queues?: number }): Promise<{ pps: number; bursts: number; p50: number; p99: number; perCpu: number; cores: number }> {
  // RSS hash computed for every frame in each case (parse.rss), so 1 and 2 workers do the same work per frame.
  const e = new Engine({ frames: syntheticFrames(4096, 1024), workers, queues: opts.queues ?? workers, replay: { loops: 0 }, handler: opts.handler, poll: 'busy', burst: opts.burst, frameCount: 16384, parse: { rss: true } });
  await e.start();
  try {
    await new Promise((r) => setTimeout(r, 300));
    const a = e.stats();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const b = e.stats();
    const dt = (performance.now() - t0) / 1000;
    // CPU time of the whole process (all threads; the main thread sleeps): how much core time the
    // workers really got on a shared machine, and frames per second of it.
    const c1 = process.cpuUsage(c0);
    const cpu = (c1.user + c1.system) / 1e6;
    const bursts = b.workers.reduce((s, w) => s + w.bursts, 0) - a.workers.reduce((s, w) => s + w.bursts, 0);
    return { pps: (b.delivered - a.delivered) / dt, bursts: bursts / dt, p50: b.latency_ns.p50, p99: b.latency_ns.p99, perCpu: (b.delivered - a.delivered) / cpu, cores: cpu / dt };
  } finally {
    const s = await e.stop();
    if (s.in_flight !== 0 || s.pool.in_use !== 0) throw new Error(`engine bench: ${s.in_flight} frames unaccounted`);
  }
}

/** The peer: what a plain-JS receive loop does per frame (eth/ip/udp fields and a 5-tuple hash). */
function jsParsePps(seconds: number): number {
  const frames = syntheticFrames(4096, 1024);
  const views = frames.map((f) => new DataView(f.buffer, f.byteOffset, f.byteLength));
  let n = 0;
  let h = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      if (v.getUint16(12) !== 0x0800) continue;
      const ihl = (v.getUint8(14) & 15) * 4;
      const proto = v.getUint8(23);
      const src = v.getUint32(26);
      const dst = v.getUint32(30);
      const sp = proto === 17 || proto === 6 ? v.getUint16(14 + ihl) : 0;
      const dp = proto === 17 || proto === 6 ? v.getUint16(16 + ihl) : 0;
      h = (Math.imul(h ^ src, 0x9e3779b1) ^ Math.imul(dst ^ ((sp << 16) | dp), 0x85ebca6b) ^ proto) >>> 0;
    }
    n += views.length;
  }
  if (h === 0.5) console.log(h);
  return n / ((performance.now() - t0) / 1000);
}

/** Steps per second of `threads` independent spin workers together (bench/handlers/spin-worker.mjs). */
async function spin(threads: number, seconds: number): Promise<number> {
  const file = artefact('bench/handlers/spin-worker.mjs');
  const ops = await Promise.all(Array.from({ length: threads }, () => new Promise<number>((res, rej) => new Worker(file, { workerData: seconds * 1000 }).on('message', res).on('error', rej))));
  return ops.reduce((a, b) => a + b, 0) / seconds;
}

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 5);
  const seconds = argValue(argv, '--seconds', 1);
  const burst = argValue(argv, '--burst', 64);
  const rows: BenchResult[] = [];
  if (!argv.includes('--no-live')) rows.push(...(await liveRows(runs, argValue(argv, '--live-seconds', 3), log)));
  if (argv.includes('--live-only')) return rows;
  const s1: number[] = [];
  const s1n: number[] = [];
  const s2: number[] = [];
  const s2s: number[] = [];
  const ceiling: number[] = [];
  const eff: Record<string, number[]> = { w1: [], w2: [], w2s: [] };
  const cores: Record<string, number[]> = { w1: [], w2: [], w2s: [] };
  const burstRate: number[] = [];
  const burstRateNone: number[] = [];
  let lat = { p50: 0, p99: 0 };
  for (let r = 0; r < runs; r++) {
    log(`engine: run ${r + 1}/${runs}`);
    const one = await steadyPps(1, { handler, seconds, burst });
    s1.push(one.pps);
    eff.w1.push(one.perCpu);
    cores.w1.push(one.cores);
    burstRate.push(one.pps);
    lat = { p50: one.p50, p99: one.p99 };
    const none = await steadyPps(1, { seconds, burst });
    s1n.push(none.pps);
    burstRateNone.push(none.pps);
    const two = await steadyPps(2, { handler, seconds, burst });
    s2.push(two.pps);
    eff.w2.push(two.perCpu);
    cores.w2.push(two.cores);
    // The ceiling two cores of this machine give, right now, to two threads that share nothing.
    ceiling.push((await spin(2, seconds)) / (await spin(1, seconds)));
    const spread = await steadyPps(2, { handler, seconds, burst, queues: 1 });
    s2s.push(spread.pps);
    eff.w2s.push(spread.perCpu);
    cores.w2s.push(spread.cores);
  }
  const med = (xs: number[]) => median(xs);
  rows.push(summarize('wirewasm-engine-1w', 'pkts/s', s1, { burst, latency_p50_ns: lat.p50, latency_p99_ns: lat.p99, pkts_per_cpu_s: med(eff.w1), cores_used: med(cores.w1) }));
  rows.push(
    summarize('wirewasm-engine-2w', 'pkts/s', s2, {
      burst,
      scaling: med(s2) / med(s1),
      pkts_per_cpu_s: med(eff.w2),
      cores_used: med(cores.w2),
      // What 2 workers give with 2 whole cores, from the per-core rate measured here.
      scaling_per_cpu: (2 * med(eff.w2)) / med(eff.w1),
    }),
  );
  rows.push(summarize('wirewasm-engine-2w-1q-software-rss', 'pkts/s', s2s, { burst, scaling: med(s2s) / med(s1), pkts_per_cpu_s: med(eff.w2s), cores_used: med(cores.w2s), note: 'one receive queue spread over 2 workers by Toeplitz hash: half the frames change cores' }));
  rows.push(summarize('wirewasm-engine-1w-no-handler', 'pkts/s', s1n, { burst }));
  // Handler call in the pipeline: extra ns per burst with the handler over without.
  const perBurst = s1.map((p, i) => Math.max(0, (1 / p - 1 / s1n[i]) * burst * 1e9));
  rows.push(summarize('handler-call-in-pipeline', 'ns/burst', perBurst, { note: 'per-burst time with a trivial handler minus without; noisy on a shared machine' }));

  // The call alone: a Burst over a real memory, the trivial handler, in this thread.
  const mod = (await import(handler)) as { default: (b: Burst) => unknown };
  const mem = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
  const b = new Burst(mem, 0, { metaBase: 4096, framesBase: 0, frameSize: 2048, list: 0, control: 8192, records: 8256, recordSlots: 16, statsBlock: 16384, tx: 20480, txSlots: burst, txQueues: 1 }, burst);
  b.length = burst;
  const bench = new Bench({ time: 500 });
  bench.add('handler-call-alone', () => {
    mod.default(b);
  });
  const empty = (x: Burst) => x.length;
  bench.add('handler-call-empty', () => {
    empty(b);
  });
  await bench.run();
  const t = bench.tasks[0].result as unknown as { latency?: { mean: number; min: number; max: number } };
  const mean = (t.latency?.mean ?? 0) * 1e6;
  rows.push(summarize('handler-call-alone', 'ns/burst', [mean], { min: (t.latency?.min ?? 0) * 1e6, max: (t.latency?.max ?? 0) * 1e6, note: `${burst} frames: call + touching each frame's meta once` }));
  const te = bench.tasks[1].result as unknown as { latency?: { mean: number; min: number; max: number } };
  rows.push(summarize('handler-call-empty', 'ns/burst', [(te.latency?.mean ?? 0) * 1e6], { min: (te.latency?.min ?? 0) * 1e6, max: (te.latency?.max ?? 0) * 1e6, note: 'the call alone (includes tinybench overhead)' }));

  rows.push(summarize('platform-2-thread-ceiling (peer)', 'x one thread', ceiling, { note: 'two independent memory-touching loops vs one: the best 2-worker scaling this machine allows' }));

  const peer: number[] = [];
  for (let r = 0; r < runs; r++) peer.push(jsParsePps(seconds));
  rows.push(summarize('plain-js-parse-loop (peer, 1 thread, no rings)', 'pkts/s', peer));
  return rows;
};
export default suite;
