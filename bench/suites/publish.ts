// `publish`: records from one engine to a local single-node nats-server (started by the bench on a
// free loopback port, stopped by PID).
//   wirewasm-publish-core       64-byte frames a handler keeps, batched by the sink, core NATS
//   wirewasm-publish-jetstream  the same into a JetStream stream (R1, file storage), every message acknowledged
//   wirewasm-publish-engine-only  the engine side alone (the same engine, a reader that only takes): the core run's ceiling
//   nats-js-publish             peer: the same 64-byte records, one nc.publish each from a JS loop (core)
//   nats-js-publish-jetstream   peer: one js.publish each from a JS loop, acks awaited 1024 at a time
//   wirewasm-publish-latency    p50/p99 from the handler's emit to the consumer's decode, at 100 k records/s, core NATS
//   wirewasm-publish-latency-poll-wait  the same with the engine's poll: 'wait' (the worker naps 1 ms when its
//                               source has nothing): bursts of ~100 records a message instead of a few
// The targets (docs/publish.md "Bench"): core >= 2 M records/s and >= 5x nats-js-publish, JetStream R1
// >= 1 M/s, latency p99 < 2 ms at 100 k records/s; the defaults below are what they are measured with.
// Throughput runs: one engine, one worker keeping every 64-byte frame (wirewasm-publish-core-2w: two
// workers, two queues), the sink with 256 KiB messages and a 32 MiB window (SINK; --batch-bytes N
// sets the core rows' message size); the latency run uses the sink's defaults. The engine's frame
// pool is 4096 frames (ENGINE): frames come back while their lines are still in cache, where a pool
// of 128 k frames (256 MiB) costs a memory miss per record on each side.
// Cores: the machine's (env.cpus) are shared by every thread of a row: an engine row runs its
// workers, the sink's thread and nats-server; the peer runs one thread and nats-server. Each row
// also gives cpu_ns_per_record: CPU time of this process (all its threads) and of nats-server over
// the run, per record, which holds on a busy machine where records/s do not.
// Options: --runs N (default 3), --records N per throughput run (default 2,000,000), --seconds S for the latency run (default 3),
// --batch-bytes N the core rows' message size (default 256 KiB), --records-wake-us N the latency rows' engine
// recordsWakeUs (default the engine's),
// --only ROWS: a comma list of the rows to run, of core, core-2w, jetstream, engine-only, peer, peer-jetstream,
// latency (default all; e.g. `--only core,peer` for quick tries of the core figure against its peer).
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_RECORDS_WAKE_US } from '../../host/engine/config.js';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { artefact } from '../../host/paths.js';
import { startNatsCluster } from '../../host/publish/cluster.js';
import { PublishSink, wallNs } from '../../host/publish/sink.js';
import { subscribeRecords } from '../../host/publish/consumer.js';
import { RecordCursor } from '../../host/publish/framing.js';
import { readdirSync, readFileSync } from 'node:fs';
import { argValue, median, summarize, type BenchResult, type Suite } from '../common.js';

const FRAMES = 65536;
const ROWS = ['core', 'core-2w', 'jetstream', 'engine-only', 'peer', 'peer-jetstream', 'latency'] as const;
const SINK = { batchBytes: 256 << 10, maxPending: 32 << 20 };
const ENGINE = { frameCount: 4096, recordsRing: 8192 };

/** `--flag a,b`: the names given, each one of `names` (all of them without the flag). */
function argList(argv: string[], flag: string, names: readonly string[]): Set<string> {
  const i = argv.indexOf(flag);
  if (i < 0) return new Set(names);
  const given = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const bad = given.filter((g) => !names.includes(g));
  if (given.length === 0 || bad.length) throw new Error(`${flag}: expected a comma list of ${names.join(', ')}; got ${argv[i + 1] ?? 'nothing'}`);
  return new Set(given);
}

/** CPU seconds so far of this process (every thread) and of process `pid` (nats-server). */
function cpuSeconds(pid?: number): number {
  const u = process.cpuUsage();
  let other = 0;
  if (pid) {
    // /proc/PID/stat fields 14 and 15 (after the command's closing parenthesis): utime, stime in clock ticks.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    other = (Number(f[11]) + Number(f[12])) / 100;
  }
  return (u.user + u.system) / 1e6 + other;
}

/**
 * Per thread of this process, by thread id, seconds so far: on a core (cpu) and runnable but
 * waiting for one (wait), from /proc/self/task/TID/schedstat (ns).
 */
function threadCpu(): Map<number, { cpu: number; wait: number }> {
  const out = new Map<number, { cpu: number; wait: number }>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const f = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
      out.set(Number(t), { cpu: Number(f[0]) / 1e9, wait: Number(f[1]) / 1e9 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

interface ThreadSplit {
  /** CPU seconds per second: the main thread (the sink and the consumer), the busiest other thread (the engine worker), the rest (GC helpers, libuv). */
  main: number;
  worker: number;
  rest: number;
  /** Seconds per second the main thread and the worker were runnable but waited for a core. */
  mainWait: number;
  workerWait: number;
}

/** What each thread of this process did per second between two threadCpu() snapshots. */
function threadSplit(a: Map<number, { cpu: number; wait: number }>, b: Map<number, { cpu: number; wait: number }>, s: number): ThreadSplit {
  const out: ThreadSplit = { main: 0, worker: 0, rest: 0, mainWait: 0, workerWait: 0 };
  for (const [t, x] of b) {
    const d = (x.cpu - (a.get(t)?.cpu ?? 0)) / s;
    const w = (x.wait - (a.get(t)?.wait ?? 0)) / s;
    if (t === process.pid) {
      out.main = d;
      out.mainWait = w;
    } else if (d > out.worker) {
      out.rest += out.worker;
      out.worker = d;
      out.workerWait = w;
    } else out.rest += d;
  }
  return out;
}

interface Rate {
  rate: number;
  /** CPU ns per record: this process and nats-server. */
  cpuNs: number;
}

/**
 * The engine side alone: the same engine and records as engineRun, read by a reader that only takes
 * each burst and gives its frames back. What the sink could reach at most with one worker.
 */
async function engineOnlyRun(records: number): Promise<Rate> {
  const engine = new Engine({ frames: syntheticFrames(FRAMES, 1024, 64), workers: 1, handler: artefact('bench/handlers/keep-all.mjs'), replay: { loops: Math.ceil(records / FRAMES) }, ...ENGINE });
  await engine.start();
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const drain = engine.recordsDrain();
  const none = { value: () => undefined, frame: () => undefined, frames: () => undefined };
  let taken = 0;
  for await (const _ of drain.turns()) for (let n; (n = drain.takeRuns(none)) > 0; ) taken += n;
  await engine.done;
  return { rate: taken / ((performance.now() - t0) / 1000), cpuNs: ((cpuSeconds() - c0) / taken) * 1e9 };
}

async function engineRun(url: string, natsPid: number | undefined, records: number, sinkConfig: { batchBytes: number; maxPending: number }, stream?: string, workers = 1): Promise<Rate & { published: number; dropped: number }> {
  const frames = syntheticFrames(FRAMES, 1024, 64);
  const sink = await PublishSink.open({ url, stream, engineId: 'bench', subject: stream ? 'bench.js' : 'bench.core', statsIntervalMs: 0, ...sinkConfig });
  // Each worker replays the frames of its own queue: `loops` rounds of FRAMES / workers.
  const engine = new Engine({ frames, workers, queues: workers, handler: artefact('bench/handlers/keep-all.mjs'), replay: { loops: Math.ceil(records / FRAMES) }, ...ENGINE, frameCount: ENGINE.frameCount * workers });
  await engine.start();
  const t0 = performance.now();
  const c0 = cpuSeconds(natsPid);
  const run = sink.run(engine);
  const stats = await engine.done;
  const p = await run;
  const s = (performance.now() - t0) / 1000;
  const cpuNs = ((cpuSeconds(natsPid) - c0) / p.records_published) * 1e9;
  await sink.close();
  return { rate: p.records_published / s, cpuNs, published: p.records_published, dropped: stats.records_dropped + p.publish_dropped };
}

async function peerRun(url: string, natsPid: number | undefined, records: number, js: boolean): Promise<Rate> {
  const frames = syntheticFrames(FRAMES, 1024, 64);
  const nc = await connect({ servers: url });
  const client = js ? jetstream(nc) : undefined;
  const t0 = performance.now();
  const c0 = cpuSeconds(natsPid);
  if (client) {
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < records; i++) {
      window.push(client.publish('peer.js', frames[i % FRAMES]));
      if (window.length === 1024) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
  } else {
    for (let i = 0; i < records; i++) {
      nc.publish('peer.core', frames[i % FRAMES]);
      // Let the client write out its buffer now and then, as a JS loop in a service would.
      if ((i & 0xffff) === 0xffff) await new Promise((r) => setImmediate(r));
    }
    await nc.flush();
  }
  const rate = records / ((performance.now() - t0) / 1000);
  const cpuNs = ((cpuSeconds(natsPid) - c0) / records) * 1e9;
  await nc.close();
  return { rate, cpuNs };
}

interface Latency {
  p50: number;
  p99: number;
  n: number;
  /** p99 of the records' first stage: the handler's emit to the sink taking the burst (records ring, wake-up). */
  sinkP99: number;
  /** p99 of the second: the sink taking the burst to the consumer's decode (batching, publish, server, client). */
  wireP99: number;
  /** Garbage-collection pauses of this (the sink's and consumer's) thread during the run. */
  gc: { pauses: number; maxMs: number; totalMs: number };
  /** Records messages the sink published per second, and CPU seconds per second of this process and of nats-server. */
  messagesPerS: number;
  cpuPerS: number;
  natsCpuPerS: number;
  threads: ThreadSplit;
}

/** The value at fraction `f` of `xs` (sorted in place). */
function quantile(xs: number[], f: number): number {
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(xs.length * f))] ?? 0;
}

async function latencyRun(url: string, natsPid: number | undefined, seconds: number, rate: number, poll: 'adaptive' | 'wait', recordsWakeUs: number): Promise<Latency> {
  const sub = await subscribeRecords({ url, subject: 'lat.>' });
  const sink = await PublishSink.open({ url, engineId: 'lat', subject: 'lat', statsIntervalMs: 0 });
  const engine = new Engine({ frames: syntheticFrames(FRAMES, 1024, 64), workers: 1, handler: artefact('bench/handlers/emit-time.mjs'), poll, recordsWakeUs, replay: { loops: Math.ceil((seconds * rate) / FRAMES), rate } });
  const want = Math.ceil(seconds * rate);
  // Per record, in arrival order: emit -> consumer, and the emit -> sink part of it.
  const total = new Float64Array(want);
  const toSink = new Float64Array(want);
  let n = 0;
  const gc = { pauses: 0, maxMs: 0, totalMs: 0 };
  // Pauses from the engine's start on (set below): the setup's and the figures' own collections are not the run's.
  let gcFrom = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < gcFrom) continue;
      gc.pauses++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  // The records are read through one cursor: the bench makes no object per record.
  const c = new RecordCursor();
  const reading = (async () => {
    for await (const b of sub) {
      const now = wallNs() / 1000;
      const took = b.timeNs / 1000;
      for (b.cursor(c); c.next(); ) {
        if (n === want) break;
        const emitted = c.value();
        total[n] = now - emitted;
        toSink[n++] = took - emitted;
      }
      if (n >= want) break;
    }
  })();
  await engine.start();
  const t0 = performance.now();
  gcFrom = t0;
  const c0 = cpuSeconds();
  const n0 = cpuSeconds(natsPid) - c0;
  const t0s = threadCpu();
  // The threads' split is taken before the engine stops: its worker's thread ends with it.
  let split: ThreadSplit = { main: 0, worker: 0, rest: 0, mainWait: 0, workerWait: 0 };
  const splitAt = Math.max(0.5, seconds - 0.5);
  const splitTimer = setTimeout(() => (split = threadSplit(t0s, threadCpu(), (performance.now() - t0) / 1000)), splitAt * 1000);
  const run = sink.run(engine);
  await engine.done;
  const published = await run;
  await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
  const s = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  const natsCpu = cpuSeconds(natsPid) - c1 - n0;
  clearTimeout(splitTimer);
  const threads = split;
  obs.disconnect();
  await sub.close();
  await sink.close();
  // The first 10% of the records (in arrival order) is warm-up: JIT, connections.
  const from = Math.floor(n / 10);
  const all = Array.from(total.subarray(from, n));
  const first = Array.from(toSink.subarray(from, n));
  const wire = all.map((t, i) => t - first[i]);
  return {
    p50: quantile(all, 0.5), p99: quantile(all, 0.99), n, sinkP99: quantile(first, 0.99), wireP99: quantile(wire, 0.99), gc,
    messagesPerS: published.messages_published / s, cpuPerS: (c1 - c0) / s, natsCpuPerS: natsCpu / s, threads,
  };
}

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 3);
  const records = argValue(argv, '--records', 2_000_000);
  const seconds = argValue(argv, '--seconds', 3);
  const wakeUs = argValue(argv, '--records-wake-us', DEFAULT_RECORDS_WAKE_US);
  const only = argList(argv, '--only', ROWS);
  const core = { ...SINK, batchBytes: argValue(argv, '--batch-bytes', SINK.batchBytes) };
  const nats = await startNatsCluster({ nodes: 1 });
  const results: BenchResult[] = [];
  try {
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.js.>'], num_replicas: 1, max_msgs: 100_000 });
    await jsm.streams.add({ name: 'PEER', subjects: ['peer.js'], num_replicas: 1, max_msgs: 1_000_000 });
    await nc.close();
    const natsPid = nats.nodes[0].proc?.pid;
    const rows: Record<'core' | 'core2w' | 'js' | 'peer' | 'peerJs' | 'engineOnly', Rate[]> = { core: [], core2w: [], js: [], peer: [], peerJs: [], engineOnly: [] };
    let dropped = 0;
    const m = (x: Rate[]) => median(x.map((r) => r.rate));
    const cpu = (x: Rate[]) => Math.round(median(x.map((r) => r.cpuNs)));
    // A ratio to a peer left out by --only is left out of the row too (undefined is not written).
    const vs = (x: Rate[], peer: Rate[]) => (peer.length ? m(x) / m(peer) : undefined);
    const vsCpu = (x: Rate[]) => (rows.peer.length ? cpu(rows.peer) / cpu(x) : undefined);
    const M = (r: Rate) => `${(r.rate / 1e6).toFixed(2)} M/s (${r.cpuNs.toFixed(0)} CPU-ns/rec)`;
    const engineRow = async (row: Rate[], stream?: string, workers = 1) => {
      const c = await engineRun(nats.url, natsPid, records, stream ? SINK : core, stream, workers);
      row.push(c);
      dropped += c.dropped;
    };
    for (let r = 0; r < runs; r++) {
      if (only.has('engine-only')) rows.engineOnly.push(await engineOnlyRun(records));
      if (only.has('core')) await engineRow(rows.core);
      if (only.has('core-2w')) await engineRow(rows.core2w, undefined, 2);
      if (only.has('jetstream')) await engineRow(rows.js, 'BENCH');
      if (only.has('peer')) rows.peer.push(await peerRun(nats.url, natsPid, records, false));
      if (only.has('peer-jetstream')) rows.peerJs.push(await peerRun(nats.url, natsPid, Math.min(records, 200_000), true));
      const said = (name: string, x: Rate[]) => (x[r] ? [`${name} ${M(x[r])}`] : []);
      const parts = [...said('engine alone', rows.engineOnly), ...said('core', rows.core), ...said('core 2 workers', rows.core2w), ...said('jetstream', rows.js), ...said('peer', rows.peer), ...said('peer jetstream', rows.peerJs)];
      log(`publish: run ${r + 1}: ${parts.join(', ')}`);
    }
    const rate = (name: string, x: Rate[], extra: Record<string, unknown>) =>
      x.length > 0 &&
      results.push(summarize(name, 'records/s', x.map((r) => r.rate), { record_bytes: 64, cpu_ns_per_record: cpu(x), ...extra }));
    const threads = 'threads: engine worker(s), the sink thread, nats-server, on env.cpus cores';
    rate('wirewasm-publish-core', rows.core, { vs_peer: vs(rows.core, rows.peer), vs_peer_cpu: vsCpu(rows.core), dropped, target: 2e6, target_vs_peer: 5, workers: 1, batch_bytes: core.batchBytes, max_pending: core.maxPending, frame_count: ENGINE.frameCount, note: threads });
    rate('wirewasm-publish-core-2w', rows.core2w, { vs_peer: vs(rows.core2w, rows.peer), vs_peer_cpu: vsCpu(rows.core2w), workers: 2, queues: 2, batch_bytes: core.batchBytes, note: `two engine workers (one queue each) into one sink; ${threads}` });
    rate('wirewasm-publish-jetstream', rows.js, { vs_peer: vs(rows.js, rows.peerJs), replicas: 1, target: 1e6, workers: 1, batch_bytes: SINK.batchBytes, max_pending: SINK.maxPending });
    rate('wirewasm-publish-engine-only', rows.engineOnly, { vs_peer: vs(rows.engineOnly, rows.peer), workers: 1, note: 'the engine side alone: one worker keeping every frame, a reader that takes each burst laid out (takeRuns) and drops it; the ceiling of wirewasm-publish-core' });
    rate('nats-js-publish', rows.peer, { note: 'nc.publish per record from a JS loop; threads: this one and nats-server' });
    rate('nats-js-publish-jetstream', rows.peerJs, { note: 'js.publish per record, acks awaited 1024 at a time' });
    for (const [name, poll] of only.has('latency') ? ([['wirewasm-publish-latency', 'adaptive'], ['wirewasm-publish-latency-poll-wait', 'wait']] as const) : []) {
      const lat = await latencyRun(nats.url, natsPid, seconds, 100_000, poll, wakeUs);
      results.push({
        ...summarize(name, 'us', [lat.p99]),
        p50_us: lat.p50,
        p99_us: lat.p99,
        emit_to_sink_p99_us: lat.sinkP99,
        sink_to_consumer_p99_us: lat.wireP99,
        gc_pauses: lat.gc.pauses,
        gc_max_ms: lat.gc.maxMs,
        gc_total_ms: lat.gc.totalMs,
        messages_per_s: lat.messagesPerS,
        cpu_per_s: lat.cpuPerS,
        nats_cpu_per_s: lat.natsCpuPerS,
        main_thread_cpu_per_s: lat.threads.main,
        worker_cpu_per_s: lat.threads.worker,
        main_thread_wait_per_s: lat.threads.mainWait,
        worker_wait_per_s: lat.threads.workerWait,
        records: lat.n,
        rate: 100_000,
        poll,
        records_wake_us: wakeUs,
        target_p99_us: 2000,
      });
      log(
        `publish: latency at 100k records/s, poll ${poll}: p50 ${lat.p50.toFixed(0)} µs, p99 ${lat.p99.toFixed(0)} µs over ${lat.n} records ` +
          `(p99 emit->sink ${lat.sinkP99.toFixed(0)} µs, sink->consumer ${lat.wireP99.toFixed(0)} µs; ${lat.messagesPerS.toFixed(0)} messages/s; ` +
          `CPU ${lat.cpuPerS.toFixed(2)} (main thread ${lat.threads.main.toFixed(2)}, waiting for a core ${lat.threads.mainWait.toFixed(3)}; worker ${lat.threads.worker.toFixed(2)}, waiting ${lat.threads.workerWait.toFixed(3)}; others ${lat.threads.rest.toFixed(2)}) + nats ${lat.natsCpuPerS.toFixed(2)} s/s; ${lat.gc.pauses} GC pauses, longest ${lat.gc.maxMs.toFixed(1)} ms)`,
      );
    }
  } finally {
    await nats.close();
  }
  return results;
};

export default suite;
