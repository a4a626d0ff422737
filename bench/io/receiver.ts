/**
 * The receiving side of the `io` bench, run as its own process inside the receiver's namespace
 * (`ip netns exec NS node dist/bench/io/receiver.js ...`) so its CPU time is its own. It opens one
 * receiver (a wirewasm backend, a plain dgram socket, or libpcap through npm `cap`), prints
 * "ready", receives for --seconds, then prints one JSON line: {received, cpuS, latenciesNs?}.
 *
 * Counted: UDP frames to --port that carry the generator's payload (host/gen/generator.ts). In --latency
 * mode each frame's one-way latency is now(CLOCK_MONOTONIC) - its send time; the wirewasm
 * receivers then busy-poll (no sleep), the others run as their users would (event loop).
 *
 * `--backend engine-afxdp|engine-afpacket|engine-afpacket-copy`: the whole engine (host/engine/) on the interface,
 * zero-copy, one worker with a trivial handler; received = frames delivered to the handler, and
 * the engine's rx_packets and drops come along (bench/suites/engine.ts). `engine-dpdk-afxdp|
 * engine-dpdk-afpacket`: the same engine with the DPDK port of the dpdk-* rows as its source.
 *
 * `--backend dpdk-afxdp|dpdk-afpacket`: the DPDK backend (host/backends/dpdk.ts): its native poll
 * thread fills the rx ring and metadata in the shared memory; this thread takes a burst off the
 * ring (one WASM call), checks each frame through its metadata and hands the burst back through the
 * return ring (one WASM call). `c-dpdk-rx[-afpacket]`: bench/native/dpdk-rx.c, the same PMD in a
 * plain C loop (built here with cc into .bench-cache/), run in place of this process.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { kernelBytesFor, openBackend } from '../../host/backends/index.js';
import { GEN_MAGIC } from '../../host/gen/generator.js';
import { computeLayout, createMemory } from '../../host/layout.js';
import { Engine } from '../../host/engine/engine.js';
import { artefact } from '../../host/paths.js';
import { META } from '../../host/meta.js';
import { packageRoot } from '../../host/paths.js';
import { DpdkSource } from '../../host/backends/dpdk.js';
import { createRing } from '../../host/ring.js';
import { compileEngine, instantiateEngine } from '../../host/wasm.js';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const kind = arg('backend')!;
const iface = arg('iface')!;
const ip = arg('ip')!;
const port = Number(arg('port', '9000'));
const seconds = Number(arg('seconds', '5'));
const latency = process.argv.includes('--latency');
/** Latency runs: busy-poll (spin on the ring, never sleep) or adaptive (spin 50 µs, then poll()). */
const busy = latency && arg('wait', 'busy') === 'busy';
const latencies: number[] = [];

function finish(received: number, cpu0: NodeJS.CpuUsage, extra: Record<string, unknown> = {}) {
  const c = process.cpuUsage(cpu0);
  const line = JSON.stringify({ received, cpuS: (c.user + c.system) / 1e6, userS: c.user / 1e6, sysS: c.system / 1e6, latenciesNs: latency ? latencies : undefined, ...extra }) + '\n';
  // Exit only once the line is out: a large result must not be cut off by process.exit.
  process.stdout.write(line, () => process.exit(0));
}

function wirewasm() {
  const [name, variant] = kind.split('-') as ['afxdp' | 'afpacket', string];
  // 64 MiB of buffering for every backend: the AF_XDP UMEM (32768 × 2 KiB) and the TPACKET ring.
  const frameCount = name === 'afxdp' ? 32768 : 16;
  const opts =
    name === 'afxdp'
      ? { xdpMode: variant as 'skb' | 'drv', txFrames: 64 }
      : { version: (variant === 'v2' ? 2 : 3) as 2 | 3, blockSize: 1 << 20, blockCount: 64, frameCount: 32768, retireMs: latency ? 1 : 4, txFrames: 0 };
  const layout = computeLayout({ frameCount, kernelBytesPerQueue: kernelBytesFor(name, { frameCount, ...opts }) });
  const memory = createMemory(layout);
  // Latency runs never coalesce: a frame is taken as soon as it is seen.
  const b = openBackend(name, { iface, memory, layout, ...opts, ...(latency ? { coalesceUs: 0 } : {}) });
  const dv = new DataView(memory.buffer);
  const addrs = new Uint32Array(memory.buffer, b.queues[0].rxAddrs, 256);
  let received = 0;
  let bursts = 0;
  process.stdout.write(`ready ${b.mode}\n`);
  const cpu0 = process.cpuUsage();
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    if (!busy && !b.wait(0, 10)) {
      if (process.hrtime.bigint() > end) break;
      continue;
    }
    const n = b.receive(0);
    bursts++;
    if (n === 0) {
      if (process.hrtime.bigint() > end) break;
      continue;
    }
    const now = latency ? process.hrtime.bigint() : 0n;
    for (let i = 0; i < n; i++) {
      const m = addrs[i];
      const d = dv.getUint32(m + META.DATA, true);
      if (dv.getUint32(m + META.CAPLEN, true) < 60 || dv.getUint16(d + 36) !== port || dv.getUint16(d + 42 + 16) !== GEN_MAGIC) continue;
      received++;
      if (latency) latencies.push(Number(now - dv.getBigUint64(d + 42 + 8)));
    }
    b.release(0);
  }
  const st = b.stats();
  b.close();
  finish(received, cpu0, { mode: b.mode, kernelDrops: st.drops, bursts });
}

async function dgram() {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  let received = 0;
  s.on('message', (m) => {
    if (m.length < 18 || m.readUInt16BE(16) !== GEN_MAGIC) return;
    received++;
    if (latency) latencies.push(Number(process.hrtime.bigint() - m.readBigUInt64BE(8)));
  });
  await new Promise<void>((r) => s.bind(port, ip, r));
  try {
    s.setRecvBufferSize(4 << 20); // what a user tuning for load would ask (capped by rmem_max)
  } catch {
    /* keep the default */
  }
  process.stdout.write('ready dgram\n');
  const cpu0 = process.cpuUsage();
  setTimeout(() => finish(received, cpu0, { recvBuffer: s.getRecvBufferSize() }), seconds * 1000);
}

function pcap() {
  const require = createRequire(path.join(packageRoot, '.bench-cache', 'package.json'));
  const { Cap, decoders } = require('cap') as { Cap: new () => CapT; decoders: unknown };
  void decoders;
  interface CapT {
    open(dev: string, filter: string, size: number, buf: Buffer): string;
    setMinBytes?(n: number): void;
    on(ev: 'packet', f: (nbytes: number, trunc: boolean) => void): void;
    close(): void;
  }
  const c = new Cap();
  const buf = Buffer.alloc(65535);
  c.open(iface, `udp and dst port ${port}`, 16 << 20, buf);
  c.setMinBytes?.(0);
  let received = 0;
  c.on('packet', (nbytes) => {
    if (nbytes < 60 || buf.readUInt16BE(42 + 16) !== GEN_MAGIC) return;
    received++;
    if (latency) latencies.push(Number(process.hrtime.bigint() - buf.readBigUInt64BE(42 + 8)));
  });
  process.stdout.write('ready cap\n');
  const cpu0 = process.cpuUsage();
  setTimeout(() => {
    c.close();
    finish(received, cpu0);
  }, seconds * 1000);
}

async function engine() {
  // engine-afpacket-copy: the same with each packet copied into the pool (backendOptions.zeroCopy false).
  // engine-dpdk-afxdp|afpacket: the engine on the DPDK port the dpdk-* and c-dpdk-rx* rows use, with
  // as many DPDK frames and as large an rx ring as the dpdk-* row.
  const [, backend, variant] = kind.split('-') as [string, 'afxdp' | 'afpacket' | 'dpdk', string | undefined];
  const common = { workers: Number(arg('workers', '1')), handler: artefact('bench/handlers/trivial.mjs'), frameCount: 16384 };
  const e =
    backend === 'dpdk'
      ? new Engine({ ...common, backend, ringSize: 8192, dpdk: { port: dpdkPort(variant!), mode: 'busy', frames: 16384 } })
      : new Engine({ ...common, backend, iface, backendOptions: variant === 'copy' ? { zeroCopy: false } : {} });
  await e.start();
  process.stdout.write(`ready ${e.backend?.mode}\n`);
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = await e.stop();
  if (s.rx_packets !== s.delivered + s.dropped_total || s.pool.in_use !== 0) throw new Error(`engine receiver: frames unaccounted: ${JSON.stringify(s)}`);
  finish(s.delivered, cpu0, { mode: e.backend?.mode, rx: s.rx_packets, dropped: s.dropped });
}

/** The same vdev string for both DPDK receivers: the PMD and its settings are the compared thing. */
function dpdkPort(pmd: string): string {
  return pmd === 'afxdp' ? `net_af_xdp0,iface=${iface}` : `net_af_packet0,iface=${iface},framecnt=32768`;
}

async function dpdk() {
  const pmd = kind.split('-')[1];
  const layout = computeLayout({ frameCount: 64, ringSize: 8192, scratchBytes: 65536, dpdk: { frames: 16384 } });
  const memory = createMemory(layout);
  const ex = instantiateEngine(compileEngine(), memory);
  const rx = createRing(memory, ex, layout.ring('rx0')).port(layout.scratch.offset, 256);
  const ret = createRing(memory, ex, layout.dpdk!.returnRings[0]).port(layout.scratch.offset + 1024, 256);
  const src = new DpdkSource({ memory, layout, config: { port: dpdkPort(pmd), mode: busy || !latency ? 'busy' : 'adaptive' } });
  const dv = new DataView(memory.buffer);
  const metaBase = layout.meta.offset;
  let received = 0;
  process.stdout.write(`ready ${src.mode}\n`);
  const cpu0 = process.cpuUsage();
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  // The consumer backs off when the ring is empty (spins 64 empty polls, then sleeps from 10 us
  // doubling to 200 us; the rx ring holds 8192 frames, far more than arrive in 200 us here): the
  // poll thread already spins like the C loop, and a second spinning core would count twice.
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let idle = 0;
  for (let polls = 0; ; polls++) {
    const n = rx.dequeue(256);
    if (n === 0) {
      if ((polls & 255) === 0 && process.hrtime.bigint() > end) break;
      if (++idle > 64) Atomics.wait(nap, 0, 0, Math.min(0.01 * 2 ** Math.min(idle - 65, 5), 0.2));
      continue;
    }
    idle = 0;
    const now = latency ? process.hrtime.bigint() : 0n;
    for (let i = 0; i < n; i++) {
      const f = rx.items[i] as number;
      const m = metaBase + f * 64;
      const d = dv.getUint32(m + META.DATA, true);
      ret.items[i] = f;
      if (dv.getUint32(m + META.CAPLEN, true) < 60 || dv.getUint16(d + 36) !== port || dv.getUint16(d + 42 + 16) !== GEN_MAGIC) continue;
      received++;
      if (latency) latencies.push(Number(now - dv.getBigUint64(d + 42 + 8)));
    }
    ret.enqueue(n);
  }
  const st = src.stats();
  src.finish();
  finish(received, cpu0, { mode: src.mode, kernelDrops: st.kernelDrops, ringFull: st.ringFull, pmdMissed: st.pmdMissed });
}

function cDpdk() {
  const src = path.join(packageRoot, 'bench', 'native', 'dpdk-rx.c');
  const dir = path.join(packageRoot, '.bench-cache');
  const exe = path.join(dir, 'dpdk-rx');
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(dir, { recursive: true });
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libdpdk'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-O2', '-std=gnu11', '-o', exe, src, ...flags, '-lrte_bus_vdev'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const c = spawn(exe, [dpdkPort(kind.endsWith('afpacket') ? 'afpacket' : 'afxdp'), String(port), String(seconds), ...(latency ? ['latency'] : [])], { stdio: 'inherit' });
  c.on('exit', (code) => process.exit(code ?? 1));
}

if (kind.startsWith('engine-')) await engine();
else if (kind.startsWith('dpdk-')) await dpdk();
else if (kind.startsWith('c-dpdk-rx')) cDpdk();
else if (kind.startsWith('afxdp') || kind.startsWith('afpacket')) wirewasm();
else if (kind === 'node-dgram') await dgram();
else if (kind === 'cap') pcap();
else throw new Error(`receiver: unknown --backend ${kind}`);
