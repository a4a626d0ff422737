// The DPDK tests' process: EAL starts once per process and cannot start again, and a veth test's
// port must run inside the test's namespace, so each scenario runs here, in its own process (under
// `ip netns exec` for veth), and prints one JSON line per event on stdout for the test to check.
// It runs the built host (dist/), as the CLI does.
//
//   node tests/support/dpdk-child.mjs <scenario> '<json options>'
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { computeLayout, createMemory, writeControlBlock } from '../../dist/host/layout.js';
import { compileEngine, instantiateEngine } from '../../dist/host/wasm.js';
import { createRing } from '../../dist/host/ring.js';
import { DpdkSource, loadDpdk } from '../../dist/host/backends/dpdk.js';
import { kernelBytesFor, openBackend } from '../../dist/host/backends/index.js';
import { META, OFFSET_NONE, VLAN_NONE } from '../../dist/host/meta.js';

const [scenario, json] = process.argv.slice(2);
const opt = JSON.parse(json ?? '{}');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const cpus = () => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1];

// The record offsets of assembly/meta.ts, through host/meta.ts (tests/meta-layout.test.ts keeps those two in step).
const M = { data: META.DATA, caplen: META.CAPLEN, wirelen: META.WIRELEN, ts: META.TIMESTAMP, l2: META.L2, vlan0: META.VLAN0, queue: META.QUEUE, linktype: META.LINKTYPE, refcnt: META.REFCNT, next: META.NEXT };

function setup() {
  const layout = computeLayout({ frameCount: 64, queues: 1, ringSize: 4096, scratchBytes: 65536, dpdk: { frames: opt.frames ?? 2048, stride: opt.stride ?? 4096 } });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const ex = instantiateEngine(compileEngine(), memory);
  const rx = createRing(memory, ex, layout.ring('rx0'));
  const ret = createRing(memory, ex, layout.dpdk.returnRings[0]);
  const s = layout.scratch.offset;
  return { layout, memory, ex, rx: rx.port(s, 256), ret: ret.port(s + 1024, 256), rxRing: rx };
}

// A checksum computed by WebAssembly over the shared memory (its own tiny module, not ours).
async function wasmFnv(memory) {
  const wabt = await wabtInit();
  const wat = `(module (import "env" "memory" (memory 1 65536 shared))
    (func (export "fnv") (param $p i32) (param $n i32) (result i32) (local $h i32) (local $e i32)
      (local.set $h (i32.const 0x811c9dc5)) (local.set $e (i32.add (local.get $p) (local.get $n)))
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $p) (local.get $e)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $p))) (i32.const 0x01000193)))
        (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $l))) (local.get $h)))`;
  const bin = wabt.parseWat('fnv.wat', wat, { threads: true }).toBinary({}).buffer;
  return new WebAssembly.Instance(new WebAssembly.Module(bin), { env: { memory } }).exports.fnv;
}

/** Takes up to `max` frames off the rx ring; checks each record; returns their indexes. */
function take(env, src, max, seen) {
  const { layout, memory, rx } = env;
  const dv = new DataView(memory.buffer);
  const d = layout.dpdk;
  const n = rx.dequeue(Math.min(max, 256));
  const frames = [];
  for (let i = 0; i < n; i++) {
    const f = rx.items[i];
    const m = layout.metaAddress(f);
    const rel = f - d.frameBase;
    const data = dv.getUint32(m + M.data, true);
    const frameStart = d.region.offset + rel * d.stride;
    const bad =
      rel < 0 || rel >= d.frames ? 'index outside the DPDK frames'
      : seen.has(f) ? 'frame delivered while still held'
      : data < frameStart || data + dv.getUint32(m + M.caplen, true) > frameStart + d.stride ? 'data outside its frame'
      : dv.getUint32(m + M.refcnt, true) !== 1 ? 'refcnt not 1'
      : dv.getUint16(m + M.queue, true) !== 0 || dv.getUint16(m + M.linktype, true) !== 1 ? 'queue/linktype'
      : dv.getUint16(m + M.l2, true) !== OFFSET_NONE || dv.getUint16(m + M.vlan0, true) !== VLAN_NONE ? 'layer offsets / vlan not reset'
      : dv.getUint32(m + M.next, true) !== 0xffffffff ? 'a single-segment frame with a next link'
      : undefined;
    if (bad) throw new Error(`frame ${f}: ${bad}`);
    seen.add(f);
    frames.push(f);
  }
  return frames;
}

function give(env, frames, seen) {
  for (let i = 0; i < frames.length; i += 256) {
    const part = frames.slice(i, i + 256);
    env.ret.items.set(part);
    if (env.ret.enqueue(part.length) !== part.length) throw new Error('return ring full');
    for (const f of part) seen.delete(f);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function nullScenario() {
  const env = setup();
  const before = cpus();
  const src = new DpdkSource({ memory: env.memory, layout: env.layout, config: { port: 'net_null0', mode: opt.mode ?? 'busy' } });
  const after = cpus();
  const a = loadDpdk();
  const dv = new DataView(env.memory.buffer);
  const t0 = BigInt(Date.now() - 1000) * 1000000n;
  // 1. Receive and release 20000 frames; every one checked.
  const seen = new Set();
  let got = 0, firstData = -1, firstFrame = -1;
  const deadline = Date.now() + 20000;
  while (got < 20000 && Date.now() < deadline) {
    const fr = take(env, src, 256, seen);
    for (const f of fr) {
      const m = env.layout.metaAddress(f);
      if (firstData < 0) { firstData = dv.getUint32(m, true); firstFrame = f; }
      if (dv.getUint32(m + M.caplen, true) !== 64 || dv.getUint32(m + M.wirelen, true) !== 64) throw new Error('net_null frames are 64 bytes');
      if (dv.getBigUint64(m + M.ts, true) < t0) throw new Error('timestamp');
    }
    got += fr.length;
    give(env, fr, seen);
    if (fr.length === 0) await sleep(0);
  }
  await sleep(100);
  const s1 = src.stats();
  // 2. Hold every frame: the PMD runs dry (no mbuf), then resumes once they come back.
  const held = [];
  const t1 = Date.now();
  while (Date.now() - t1 < 1500) {
    held.push(...take(env, src, 256, seen));
    await sleep(1);
  }
  const dry = src.stats();
  await sleep(200);
  const stillDry = src.stats();
  give(env, held, seen);
  let resumed = 0;
  const t2 = Date.now();
  while (resumed < 1000 && Date.now() - t2 < 5000) {
    const fr = take(env, src, 256, seen);
    resumed += fr.length;
    give(env, fr, seen);
    await sleep(0);
  }
  out({ event: 'null', before, after, got, firstData, firstFrame, dataOffset: src.dataOffset, region: env.layout.dpdk.region, frameBase: env.layout.dpdk.frameBase, stride: env.layout.dpdk.stride, stats1: s1, held: held.length, dry, stillDry, resumed, mode: src.mode });
  // 3. start/stop cycles in this process; EAL itself only once.
  src.finish();
  const drain = () => { while (env.rx.dequeue(256) > 0); };
  drain();
  let cycles = 0, cycleFrames = 0;
  for (let c = 0; c < (opt.cycles ?? 100); c++) {
    const s = new DpdkSource({ memory: env.memory, layout: env.layout, config: { port: 'net_null0' } });
    let k = 0;
    const dl = Date.now() + 5000;
    while (k === 0 && Date.now() < dl) {
      const fr = take(env, s, 256, seen);
      k += fr.length;
      give(env, fr, seen);
    }
    s.finish();
    drain();
    seen.clear();
    if (k > 0) cycles++;
    cycleFrames += k;
  }
  out({ event: 'cycles', cycles, cycleFrames, openPorts: a.openPorts(), eal: a.init([]) });
}

async function vethScenario() {
  opt.frames ??= 8192;
  const env = setup();
  const fnv = await wasmFnv(env.memory);
  const src = new DpdkSource({ memory: env.memory, layout: env.layout, config: { port: opt.port, mode: opt.mode ?? 'busy' } });
  out({ event: 'ready', mode: src.mode, warning: src.warning, kernelSockets: src.kernelSockets });
  const dv = new DataView(env.memory.buffer);
  const u8 = new Uint8Array(env.memory.buffer);
  const seen = new Set();
  const frames = [];
  let idleSince = Date.now();
  const deadline = Date.now() + (opt.timeoutMs ?? 30000);
  while (frames.length < opt.count && Date.now() < deadline && Date.now() - idleSince < (opt.quietMs ?? 8000)) {
    const fr = take(env, src, 256, seen);
    for (const f of fr) {
      const m = env.layout.metaAddress(f);
      const data = dv.getUint32(m, true), caplen = dv.getUint32(m + M.caplen, true);
      if (dv.getUint32(m + M.next, true) !== 0xffffffff) throw new Error('unexpected chain');
      // ethertype IPv4 + UDP to port 9000: the test's traffic; anything else (IPv6 ND...) is skipped.
      if (dv.getUint16(data + 12) !== 0x0800 || u8[data + 23] !== 17 || dv.getUint16(data + 36) !== 9000) continue;
      frames.push({ seq: dv.getUint32(data + 42 + 4), caplen, wirelen: dv.getUint32(m + M.wirelen, true), fnv: fnv(data, caplen) >>> 0, bytes: Buffer.from(u8.subarray(data, data + caplen)).toString('base64') });
    }
    give(env, fr, seen);
    if (fr.length) idleSince = Date.now();
    else await sleep(1);
  }
  await sleep(300);
  out({ event: 'rx', frames, stats: src.stats() });
  // Transmit from the engine's own pool frames (external buffers), to the peer.
  if (opt.tx) {
    const { frame, count } = opt.tx;
    const bytes = Buffer.from(frame, 'base64');
    const offs = new Uint32Array(count), lens = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const at = env.layout.frameAddress(i % env.layout.config.frameCount);
      offs[i] = at;
      lens[i] = bytes.length;
    }
    let sent = 0;
    const doneSet = [];
    for (let i = 0; i < count; i++) {
      const at = offs[i];
      u8.set(bytes, at);
      dv.setUint32(at + 42 + 4, i); // sequence number in the payload
      // One frame per call: each pool frame is rewritten for the next, so wait for it to be done.
      let k = 0;
      for (let tries = 0; k === 0 && tries < 1000; tries++) {
        k = src.transmit(0, offs.subarray(i, i + 1), lens.subarray(i, i + 1));
        if (!k) await sleep(1);
      }
      sent += k;
      for (let w = 0; w < 1000; w++) {
        const d = src.done();
        doneSet.push(...d);
        if (d.length) break;
        await sleep(0);
      }
    }
    out({ event: 'tx', sent, done: doneSet.length, stats: src.stats() });
  }
  if (opt.exit) {
    out({ event: 'exiting' });
    process.exit(0); // no finish(): the addon's exit hooks must close the port
  }
  if (opt.hang) {
    out({ event: 'hanging' });
    await sleep(600000);
  }
  src.finish();
  out({ event: 'closed' });
}

/** The frame-backend interface (host/backends/types.ts) over net_null, opened twice in one process. */
async function backendScenario() {
  const layout = computeLayout({ frameCount: 64, queues: 1, ringSize: 4096, kernelBytesPerQueue: kernelBytesFor('dpdk'), dpdk: { frames: 2048 } });
  const memory = createMemory(layout);
  const dv = new DataView(memory.buffer);
  const runs = [];
  for (let r = 0; r < 2; r++) {
    const b = openBackend('dpdk', { memory, layout, dpdk: { port: 'net_null0' } });
    const waited = b.wait(0, 5000);
    let got = 0, bad = 0;
    const t = Date.now();
    while (got < 10000 && Date.now() - t < 20000) {
      const n = b.receive(0);
      for (let i = 0; i < n; i++) {
        const m = b.rxMeta(0, i);
        const f = (m - layout.meta.offset) / 64 - layout.dpdk.frameBase;
        if (!(f >= 0 && f < layout.dpdk.frames) || dv.getUint32(m + M.caplen, true) !== 64) bad++;
      }
      got += n;
      b.release(0);
    }
    let txError = '';
    try {
      b.send(0, [new Uint8Array(64)]);
    } catch (e) {
      txError = e.message;
    }
    const st = b.stats();
    b.close();
    runs.push({ waited, got, bad, rx: st.rx, mode: b.mode, txError });
    // Frames left on the rx ring belong to the closed port's mempool.
    const ex = instantiateEngine(compileEngine(), memory);
    const rxPort = createRing(memory, ex, layout.ring('rx0')).port(layout.kernel[0].offset + 3072, 256);
    while (rxPort.dequeue(256) > 0);
  }
  let pciError = '';
  try {
    new DpdkSource({ memory, layout, config: { port: '0000:00:00.0' } });
  } catch (e) {
    pciError = e.message;
  }
  out({ event: 'backend', runs, pciError });
}

try {
  if (scenario === 'backend') await backendScenario();
  else if (scenario === 'null') await nullScenario();
  else if (scenario === 'veth') await vethScenario();
  else if (scenario === 'info') out({ event: 'info', ports: loadDpdk().ports() });
  else throw new Error(`unknown scenario ${scenario}`);
} catch (e) {
  out({ event: 'error', message: e.message, stack: e.stack });
  // Not process.exit(): it would drop stdout still queued for the pipe.
  process.exitCode = 1;
}
