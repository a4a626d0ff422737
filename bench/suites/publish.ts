// `publish`: records from one engine to a local single-node nats-server (started by the bench on a
// free loopback port, stopped by PID).
//   wirewasm-publish-core       64-byte frames a handler keeps, batched by the sink, core NATS
//   wirewasm-publish-jetstream  the same into a JetStream stream (R1, file storage), every message acknowledged
//   wirewasm-publish-engine-only  the engine side alone (the same engine, a reader that only takes): the core run's ceiling
//   nats-js-publish             peer: the same 64-byte records, one nc.publish each from a JS loop (core)
//   nats-js-publish-jetstream   peer: one js.publish each from a JS loop, acks awaited 1024 at a time
//   wirewasm-publish-latency    p50/p99 from the handler's emit to the consumer's decode, at 100 k records/s, core NATS
// The targets (docs/publish.md "Bench"): core >= 2 M records/s and >= 5x nats-js-publish, JetStream R1
// >= 1 M/s, latency p99 < 2 ms at 100 k records/s; the defaults below are what they are measured with.
// Throughput runs: one engine, one worker keeping every 64-byte frame, the sink with 256 KiB messages
// and a 32 MiB window (SINK); the latency run uses the sink's defaults.
// Options: --runs N (default 3), --records N per throughput run (default 2,000,000), --seconds S for the latency run (default 3).
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Engine } from '../../host/engine/engine.js';
import { syntheticFrames } from '../../host/gen/frames.js';
import { artefact } from '../../host/paths.js';
import { startNatsCluster } from '../../host/publish/cluster.js';
import { PublishSink, wallNs } from '../../host/publish/sink.js';
import { subscribeRecords } from '../../host/publish/consumer.js';
import { recordValue } from '../../host/publish/framing.js';
import { argValue, median, summarize, type BenchResult, type Suite } from '../common.js';

const FRAMES = 65536;
const SINK = { batchBytes: 256 << 10, maxPending: 32 << 20 };

/**
 * The engine side alone: the same engine and records as engineRun, read by a reader that only takes
 * each burst and gives its frames back. What the sink could reach at most with one worker.
 */
async function engineOnlyRun(records: number): Promise<number> {
  const engine = new Engine({ frames: syntheticFrames(FRAMES, 1024, 64), workers: 1, handler: artefact('bench/handlers/keep-all.mjs'), replay: { loops: Math.ceil(records / FRAMES) }, recordsRing: 1 << 18, frameCount: 1 << 17 });
  await engine.start();
  const t0 = performance.now();
  const drain = engine.recordsDrain();
  const none = { value: () => undefined, frame: () => undefined, frames: () => undefined };
  let taken = 0;
  for await (const _ of drain.turns()) for (let n; (n = drain.takeRuns(none)) > 0; ) taken += n;
  await engine.done;
  return taken / ((performance.now() - t0) / 1000);
}

async function engineRun(url: string, records: number, stream?: string): Promise<{ rate: number; published: number; dropped: number }> {
  const frames = syntheticFrames(FRAMES, 1024, 64);
  const sink = await PublishSink.open({ url, stream, engineId: 'bench', subject: stream ? 'bench.js' : 'bench.core', statsIntervalMs: 0, ...SINK });
  const engine = new Engine({ frames, workers: 1, handler: artefact('bench/handlers/keep-all.mjs'), replay: { loops: Math.ceil(records / FRAMES) }, recordsRing: 1 << 18, frameCount: 1 << 17 });
  await engine.start();
  const t0 = performance.now();
  const run = sink.run(engine);
  const stats = await engine.done;
  const p = await run;
  const s = (performance.now() - t0) / 1000;
  await sink.close();
  return { rate: p.records_published / s, published: p.records_published, dropped: stats.records_dropped + p.publish_dropped };
}

async function peerRun(url: string, records: number, js: boolean): Promise<number> {
  const frames = syntheticFrames(FRAMES, 1024, 64);
  const nc = await connect({ servers: url });
  const client = js ? jetstream(nc) : undefined;
  const t0 = performance.now();
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
  await nc.close();
  return rate;
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
}

/** The value at fraction `f` of `xs` (sorted in place). */
function quantile(xs: number[], f: number): number {
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(xs.length * f))] ?? 0;
}

async function latencyRun(url: string, seconds: number, rate: number): Promise<Latency> {
  const sub = await subscribeRecords({ url, subject: 'lat.>' });
  const sink = await PublishSink.open({ url, engineId: 'lat', subject: 'lat', statsIntervalMs: 0 });
  const engine = new Engine({ frames: syntheticFrames(FRAMES, 1024, 64), workers: 1, handler: artefact('bench/handlers/emit-time.mjs'), replay: { loops: Math.ceil((seconds * rate) / FRAMES), rate } });
  const want = Math.ceil(seconds * rate);
  // Per record, in arrival order: emit -> consumer, and the emit -> sink part of it.
  const total = new Float64Array(want);
  const toSink = new Float64Array(want);
  let n = 0;
  const gc = { pauses: 0, maxMs: 0, totalMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.pauses++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const reading = (async () => {
    for await (const b of sub) {
      const now = wallNs() / 1000;
      const took = b.timeNs / 1000;
      for (const r of b.records) {
        if (n === want) break;
        const emitted = recordValue(r);
        total[n] = now - emitted;
        toSink[n++] = took - emitted;
      }
      if (n >= want) break;
    }
  })();
  await engine.start();
  const run = sink.run(engine);
  await engine.done;
  await run;
  await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
  obs.disconnect();
  await sub.close();
  await sink.close();
  // The first 10% of the records (in arrival order) is warm-up: JIT, connections.
  const from = Math.floor(n / 10);
  const all = Array.from(total.subarray(from, n));
  const first = Array.from(toSink.subarray(from, n));
  const wire = all.map((t, i) => t - first[i]);
  return { p50: quantile(all, 0.5), p99: quantile(all, 0.99), n, sinkP99: quantile(first, 0.99), wireP99: quantile(wire, 0.99), gc };
}

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 3);
  const records = argValue(argv, '--records', 2_000_000);
  const seconds = argValue(argv, '--seconds', 3);
  const nats = await startNatsCluster({ nodes: 1 });
  const results: BenchResult[] = [];
  try {
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.js.>'], num_replicas: 1, max_msgs: 100_000 });
    await jsm.streams.add({ name: 'PEER', subjects: ['peer.js'], num_replicas: 1, max_msgs: 1_000_000 });
    await nc.close();
    const core: number[] = [];
    const js: number[] = [];
    const peer: number[] = [];
    const peerJs: number[] = [];
    const engineOnly: number[] = [];
    let dropped = 0;
    for (let r = 0; r < runs; r++) {
      engineOnly.push(await engineOnlyRun(records));
      const c = await engineRun(nats.url, records, undefined);
      core.push(c.rate);
      dropped += c.dropped;
      const j = await engineRun(nats.url, records, 'BENCH');
      js.push(j.rate);
      dropped += j.dropped;
      peer.push(await peerRun(nats.url, records, false));
      peerJs.push(await peerRun(nats.url, Math.min(records, 200_000), true));
      log(`publish: run ${r + 1}: engine alone ${(engineOnly[r] / 1e6).toFixed(2)} M/s, core ${(c.rate / 1e6).toFixed(2)} M/s, jetstream ${(j.rate / 1e6).toFixed(2)} M/s, peer ${(peer[r] / 1e6).toFixed(2)} M/s, peer jetstream ${(peerJs[r] / 1e6).toFixed(3)} M/s`);
    }
    results.push(summarize('wirewasm-publish-core', 'records/s', core, { record_bytes: 64, vs_peer: median(core) / median(peer), dropped, target: 2e6, target_vs_peer: 5, batch_bytes: SINK.batchBytes, max_pending: SINK.maxPending }));
    results.push(summarize('wirewasm-publish-jetstream', 'records/s', js, { record_bytes: 64, vs_peer: median(js) / median(peerJs), replicas: 1, target: 1e6, batch_bytes: SINK.batchBytes, max_pending: SINK.maxPending }));
    results.push(summarize('wirewasm-publish-engine-only', 'records/s', engineOnly, { record_bytes: 64, vs_peer: median(engineOnly) / median(peer), workers: 1, note: 'the engine side alone: one worker keeping every frame, a reader that only takes and releases; the ceiling of wirewasm-publish-core' }));
    results.push(summarize('nats-js-publish', 'records/s', peer, { record_bytes: 64, note: 'nc.publish per record from a JS loop' }));
    results.push(summarize('nats-js-publish-jetstream', 'records/s', peerJs, { record_bytes: 64, note: 'js.publish per record, acks awaited 1024 at a time' }));
    const lat = await latencyRun(nats.url, seconds, 100_000);
    results.push({
      ...summarize('wirewasm-publish-latency', 'us', [lat.p99]),
      p50_us: lat.p50,
      p99_us: lat.p99,
      emit_to_sink_p99_us: lat.sinkP99,
      sink_to_consumer_p99_us: lat.wireP99,
      gc_pauses: lat.gc.pauses,
      gc_max_ms: lat.gc.maxMs,
      gc_total_ms: lat.gc.totalMs,
      records: lat.n,
      rate: 100_000,
      target_p99_us: 2000,
    });
    log(
      `publish: latency at 100k records/s: p50 ${lat.p50.toFixed(0)} µs, p99 ${lat.p99.toFixed(0)} µs over ${lat.n} records ` +
        `(p99 emit->sink ${lat.sinkP99.toFixed(0)} µs, sink->consumer ${lat.wireP99.toFixed(0)} µs; ${lat.gc.pauses} GC pauses, longest ${lat.gc.maxMs.toFixed(1)} ms)`,
    );
  } finally {
    await nats.close();
  }
  return results;
};

export default suite;
