// `ring`: cross-thread ring throughput, producer in one worker and consumer in another, 32-bit items,
// the same loop for every peer (bench/ring-worker.ts), several runs each, in one process run:
//   wirewasm SPSC and MPMC (1 producer, 1 consumer through the MP/MC code path), burst 1 and 32;
//   npm ringbuf.js and a plain Int32Array + Atomics ring, what a Node user has today;
//   a C11 SPSC ring with cached indexes (bench/native/ring-spsc.c, built here with cc): the ceiling.
// Then enqueue-to-dequeue latency at burst 1: ping-pong between two workers over two rings, RTT / 2.
// The C ring is built twice: with release stores (the ceiling) and with seq-cst stores like WASM's
// (c-spsc-seqcst-*: what the WASM memory model alone costs, the same ring otherwise).
// Options: --items N (per run, default 16M), --runs N (default 5), --rounds N (latency, default
// 200k), --only TEXT (rows whose name contains TEXT).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RingBuffer } from 'ringbuf.js';
import { computeLayout, createMemory, writeControlBlock, type RingSpec } from '../../host/layout.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { packageRoot } from '../../host/paths.js';
import { RING_F_MPMC, createRing, openRing } from '../../host/ring.js';
import { runWorkers } from '../../host/workers/threads.js';
import { argValue, summarize, unavailable, median, type BenchResult, type Suite } from '../common.js';
import { AtomicsRing, type LatencyResult, type Peer, type RingBenchArgs, type ThroughputResult } from '../ring-worker.js';

const SLOTS = 4096;
const STAGING = 4096;
const task = path.join(packageRoot, 'dist', 'bench', 'ring-worker.js');

interface Config {
  name: string;
  peer: Peer;
  burst: number;
  flags?: number;
}

const CONFIGS: Config[] = [
  { name: 'wirewasm-spsc-b1', peer: 'wirewasm', burst: 1 },
  { name: 'wirewasm-spsc-b32', peer: 'wirewasm', burst: 32 },
  { name: 'wirewasm-mpmc-b1', peer: 'wirewasm', burst: 1, flags: RING_F_MPMC },
  { name: 'wirewasm-mpmc-b32', peer: 'wirewasm', burst: 32, flags: RING_F_MPMC },
  { name: 'ringbuf.js-b1', peer: 'ringbuf.js', burst: 1 },
  { name: 'ringbuf.js-b32', peer: 'ringbuf.js', burst: 32 },
  { name: 'js-atomics-b1', peer: 'js-atomics', burst: 1 },
  { name: 'js-atomics-b32', peer: 'js-atomics', burst: 32 },
];

/** A fresh memory with two rings (one for throughput or ping, one for pong) and staging for 4 ends. */
function engineFor(flags: number) {
  const rings: RingSpec[] = [
    { name: 'a', slots: SLOTS, slotBytes: 4, flags },
    { name: 'b', slots: SLOTS, slotBytes: 4, flags },
  ];
  const layout = computeLayout({ frameCount: 16, workers: 2, rings, scratchBytes: 4 * STAGING });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const module = compileEngine();
  const exports = instantiateEngine(module, memory);
  const addrs = ['a', 'b'].map((n) => createRing(memory, exports, layout.ring(n)).address);
  const staging = (i: number) => layout.scratch.offset + i * STAGING;
  return { layout, memory, module, addrs, staging };
}

function sabFor(peer: Peer): SharedArrayBuffer {
  if (peer === 'ringbuf.js') return RingBuffer.getStorageForCapacity(SLOTS, Uint32Array);
  return new SharedArrayBuffer(AtomicsRing.bytes(SLOTS));
}

/** Runs the ring task on two workers over the engine's memory; worker i gets args(i). */
function onTwoWorkers<R>(e: ReturnType<typeof engineFor>, args: (i: number) => RingBenchArgs): Promise<(R | null)[]> {
  return runWorkers<R | null>({ count: 2, memory: e.memory, module: e.module, controlBlock: e.layout.controlBlock, task, args });
}

async function throughputRun(c: Config, items: number): Promise<ThroughputResult> {
  const e = engineFor(c.flags ?? 0);
  const sabs = [sabFor(c.peer)];
  const barrier = new SharedArrayBuffer(8);
  const results = await onTwoWorkers<ThroughputResult>(e, (i) => ({ peer: c.peer, role: i === 0 ? 'producer' : 'consumer', items, burst: c.burst, rings: e.addrs, staging: [e.staging(i)], sabs, barrier }));
  return results[1]!;
}

async function latencyRun(peer: Peer, rounds: number): Promise<LatencyResult> {
  const e = engineFor(0);
  const sabs = [sabFor(peer), sabFor(peer)];
  const barrier = new SharedArrayBuffer(8);
  const results = await onTwoWorkers<LatencyResult>(e, (i) => ({ peer, role: i === 0 ? 'ping' : 'pong', items: rounds, burst: 1, rings: e.addrs, staging: [e.staging(2 * i), e.staging(2 * i + 1)], sabs, barrier }));
  return results[0]!;
}

/**
 * Builds bench/native/ring-spsc.c into .bench-cache/ (once; again when the source is newer). The
 * seq-cst build is the same ring with every publish a sequentially consistent store, as in WASM.
 */
function buildNative(seqCst: boolean): string {
  const src = path.join(packageRoot, 'bench', 'native', 'ring-spsc.c');
  const dir = path.join(packageRoot, '.bench-cache');
  const exe = path.join(dir, seqCst ? 'ring-spsc-seqcst' : 'ring-spsc');
  if (existsSync(exe) && statSync(exe).mtimeMs >= statSync(src).mtimeMs) return exe;
  mkdirSync(dir, { recursive: true });
  execFileSync('cc', ['-O2', '-std=c11', '-pthread', ...(seqCst ? ['-DSEQ_CST'] : []), '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  return exe;
}

const suite: Suite = async ({ argv, log }) => {
  const items = argValue(argv, '--items', 16_000_000);
  const runs = argValue(argv, '--runs', 5);
  const rounds = argValue(argv, '--rounds', 200_000);
  const at = argv.indexOf('--only');
  const only = at >= 0 ? argv[at + 1] : ''; // run only the rows whose name contains this
  if (items > 0x7fffffff) throw new Error('--items: at most 2^31 - 1 (the check compares with 32-bit items)');
  const results: BenchResult[] = [];

  // Round-robin: run r of every peer before run r + 1 of any, so load from elsewhere on the machine
  // spreads over all peers instead of landing on whichever ran at the time.
  const configs = CONFIGS.filter((c) => !only || c.name.includes(only));
  const samples = configs.map(() => [] as number[]);
  const errors = configs.map(() => 0);
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of configs.entries()) {
      const t = await throughputRun(c, items);
      samples[i].push(t.itemsPerSec);
      errors[i] += t.errors;
    }
    log(`ring: run ${r + 1} of ${runs} done`);
  }
  for (const [i, c] of configs.entries()) {
    const row = summarize(c.name, 'items/s', samples[i], errors[i] ? { errors: errors[i] } : {});
    log(`ring: ${c.name}: median ${(row.median / 1e6).toFixed(1)} M items/s (${runs} runs of ${items})`);
    results.push(row);
  }

  for (const [variant, burst] of [['', 1], ['', 32], ['-seqcst', 1], ['-seqcst', 32]] as const) {
    const name = `c-spsc${variant}-b${burst}`;
    if (only && !name.includes(only)) continue;
    try {
      const exe = buildNative(variant !== '');
      const out = JSON.parse(execFileSync(exe, [String(items), String(burst), String(runs)], { encoding: 'utf8' })) as { itemsPerSec: number[]; errors: number };
      const row = summarize(name, 'items/s', out.itemsPerSec, out.errors ? { errors: out.errors } : {});
      log(`ring: ${name}: median ${(row.median / 1e6).toFixed(1)} M items/s`);
      results.push(row);
    } catch (e) {
      results.push(unavailable(name, 'items/s', `could not build or run bench/native/ring-spsc.c with cc (${(e as Error).message.split('\n')[0]}); install a C compiler: apt-get install gcc`));
    }
  }

  // Why cross-thread figures are what they are: the same port calls with no other thread touching the
  // lines, i.e. the cost of the JS->WASM call, the ring logic and an uncontended seq-cst publish.
  for (const burst of [1, 32]) {
    const name = `wirewasm-1thread-b${burst}`;
    if (only && !name.includes(only)) continue;
    const e = engineFor(0);
    const exports = instantiateEngine(e.module, e.memory);
    const port = openRing(e.memory, exports, e.addrs[0]).port(e.staging(0), burst);
    const samples: number[] = [];
    const n = Math.min(items, 8_000_000);
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i += burst) {
        port.enqueue(burst);
        port.dequeue(burst);
      }
      samples.push((((performance.now() - t0) * 1e6) / n));
    }
    results.push(summarize(name, 'ns/item', samples, { what: 'enqueue+dequeue on one thread' }));
  }

  for (const peer of ['wirewasm', 'js-atomics', 'ringbuf.js'] as Peer[]) {
    const name = `${peer === 'wirewasm' ? 'wirewasm-spsc' : peer}-latency-b1`;
    if (only && !name.includes(only)) continue;
    const lat: LatencyResult[] = [];
    for (let r = 0; r < Math.min(runs, 3); r++) lat.push(await latencyRun(peer, rounds));
    const p50s = lat.map((l) => l.p50);
    results.push(
      summarize(name, 'ns', p50s, {
        p50: median(p50s),
        p99: median(lat.map((l) => l.p99)),
        p999: median(lat.map((l) => l.p999)),
        timer_ns: median(lat.map((l) => l.timerNs)),
        method: 'ping-pong RTT/2 incl. timer',
      }),
    );
    log(`ring: ${name}: p50 ${median(p50s).toFixed(0)} ns, p99 ${median(lat.map((l) => l.p99)).toFixed(0)} ns`);
  }
  return results;
};
export default suite;
