// The engine on a DPDK port, one scenario per process: EAL starts once per process and cannot
// start again, and a veth port must open inside the test's namespace (the test starts this under
// `ip netns exec`). One JSON line per event on stdout; it runs the built host (dist/), as the CLI does.
//
//   node [--expose-gc] tests/support/dpdk-engine-child.mjs <scenario> '<json options>'
//
// Scenarios:
//   run     one engine: every UDP frame to port 9000 the handler keeps is reported (sequence number,
//           lengths, FNV-1a of the bytes records() hands out, the bytes themselves), with what an
//           echo plugin emitted for it; optionally the handler forwards and a worker is terminated
//           halfway. Runs `runMs`, or until `count` frames or `quietMs` without one.
//   cycles  `cycles` engines started and stopped in this process on one EAL.
import wabtInit from 'wabt';
import { Engine } from '../../dist/host/engine/engine.js';
import { loadDpdk } from '../../dist/host/backends/dpdk.js';

const [scenario, json] = process.argv.slice(2);
const opt = JSON.parse(json ?? '{}');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** FNV-1a 32-bit: the same function the test computes over the frame it expects. */
function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** A plugin that emits every frame it is given (kind 1): what the plugin saw, to compare with the handler's. */
async function echoPlugin() {
  const wabt = await wabtInit();
  const wat = `(module
    (import "wirewasm" "emit" (func $emit (param i32 i32 i32)))
    (memory (export "memory") 8 16)
    (func (export "wirewasm_abi_v1"))
    (func (export "wirewasm_input") (param i32) (result i32) (i32.const 4096))
    (func (export "wirewasm_on_packet") (param $ptr i32) (param $len i32) (param $meta i32) (result i32)
      (call $emit (local.get $ptr) (local.get $len) (i32.const 1)) (i32.const 0)))`;
  const m = wabt.parseWat('echo.wat', wat);
  return { name: 'echo', bytes: new Uint8Array(m.toBinary({}).buffer), copy: 'frame' };
}

/** The generator's frames (UDP to port 9000, IPv4): their sequence number at payload + 4, else undefined. */
function genSeq(b) {
  if (b.length < 50 || b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 17 || ((b[36] << 8) | b[37]) !== 9000) return undefined;
  return new DataView(b.buffer, b.byteOffset).getUint32(42 + 4);
}

function engineConfig(extra = {}) {
  return {
    backend: 'dpdk',
    dpdk: { port: opt.port, frames: opt.frames, mode: opt.mode ?? 'busy' },
    workers: opt.workers ?? 2,
    queues: opt.queues ?? 1,
    frameCount: opt.frameCount ?? 4096,
    ...extra,
  };
}

async function run() {
  const plugins = opt.plugin ? [await echoPlugin()] : [];
  const handler = fixture(opt.forward ? 'engine-keep-forward.mjs' : 'engine-keep-udp.mjs');
  const e = new Engine(engineConfig({ handler, plugins }));
  const exits = [];
  e.on('worker-exit', (x) => exits.push({ worker: x.worker, code: x.code, recovered: x.recovered, restarted: x.restarted }));
  await e.start();
  out({ event: 'ready', mode: e.backend.mode });
  const frames = [];
  const echoed = [];
  let last = Date.now();
  let killed = false;
  let midRx = 0;
  const reading = (async () => {
    for await (const batch of e.records()) {
      for (const p of batch.packets) {
        const seq = genSeq(p.bytes);
        if (seq === undefined) continue;
        frames.push({ seq, caplen: p.caplen, wirelen: p.wireLength, fnv: fnv1a(p.bytes), bytes: Buffer.from(p.bytes).toString('base64') });
        last = Date.now();
      }
      for (const r of batch.plugins) {
        const seq = genSeq(r.bytes);
        if (seq !== undefined) echoed.push({ seq, fnv: fnv1a(r.bytes) });
      }
      if (opt.killWorker && !killed && frames.length >= (opt.count >> 1)) await kill();
    }
  })();
  async function kill() {
    killed = true;
    await e.workerThread(0)?.terminate();
  }
  if (opt.runMs) {
    // A fixed run (net_null: frames without end); the worker dies halfway when asked.
    await sleep(opt.runMs / 2);
    midRx = e.stats().rx_packets;
    if (opt.killWorker) await kill();
    await sleep(opt.runMs / 2);
  }
  const deadline = Date.now() + (opt.timeoutMs ?? 60000);
  while (frames.length < (opt.count ?? 0) && Date.now() < deadline && Date.now() - last < (opt.quietMs ?? 15000)) await sleep(50);
  await sleep(300);
  const stats = await e.stop();
  await reading;
  const backend = e.backend;
  out({
    event: 'done',
    midRx,
    frames,
    echoed,
    exits,
    warnings: e.warnings,
    stats: { ...stats, latency_hist: undefined },
    closeReport: backend.closeReport,
    openPorts: loadDpdk().openPorts(),
  });
}

/** Engines started and stopped `cycles` times on one EAL: each one's books closed, every mbuf back, RSS flat. */
async function cycles() {
  const n = opt.cycles ?? 100;
  const bad = [];
  const rss = [];
  let received = 0;
  for (let c = 0; c < n; c++) {
    const e = new Engine(engineConfig({ handler: fixture('engine-count.mjs'), workers: 1 }));
    await e.start();
    // Until the first frames were delivered (the poll thread may take a while to be scheduled here).
    const until = Date.now() + 5000;
    while (e.stats().delivered === 0 && Date.now() < until) await sleep(5);
    const s = await e.stop();
    const r = e.backend.closeReport;
    received += s.rx_packets;
    if (s.rx_packets === 0) bad.push(`cycle ${c}: nothing received`);
    if (s.rx_packets !== s.delivered + s.dropped_total || s.in_flight !== 0 || s.pool.in_use !== 0) bad.push(`cycle ${c}: books not closed: ${JSON.stringify({ rx: s.rx_packets, delivered: s.delivered, dropped: s.dropped, pool: s.pool })}`);
    if (!r || r.inUse !== 0 || r.notReturned !== 0) bad.push(`cycle ${c}: at close ${r?.notReturned} frames not returned, ${r?.inUse} mbufs out of the mempool`);
    if (e.warnings.length) bad.push(`cycle ${c}: ${e.warnings.join('; ')}`);
    if (c === 9 || c === n - 1) {
      // Worker threads let go of the memory as they wind down: collect, give them a moment, collect.
      globalThis.gc?.();
      await sleep(200);
      globalThis.gc?.();
      rss.push(process.memoryUsage().rss);
    }
  }
  out({ event: 'cycles', cycles: n, received, bad: bad.slice(0, 5), rss, openPorts: loadDpdk().openPorts() });
}

try {
  if (scenario === 'run') await run();
  else if (scenario === 'cycles') await cycles();
  else throw new Error(`unknown scenario ${scenario}`);
} catch (e) {
  out({ event: 'error', message: e.message, stack: e.stack });
  process.exitCode = 1;
}
