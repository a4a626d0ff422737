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
 * the engine's rx_packets and drops come along (bench/suites/engine.ts).
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
  const [, backend, copy] = kind.split('-') as [string, 'afxdp' | 'afpacket', string | undefined];
  const e = new Engine({ backend, iface, workers: Number(arg('workers', '1')), handler: artefact('bench/handlers/trivial.mjs'), frameCount: 16384, backendOptions: copy === 'copy' ? { zeroCopy: false } : {} });
  await e.start();
  process.stdout.write(`ready ${e.backend?.mode}\n`);
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = await e.stop();
  if (s.rx_packets !== s.delivered + s.dropped_total || s.pool.in_use !== 0) throw new Error(`engine receiver: frames unaccounted: ${JSON.stringify(s)}`);
  finish(s.delivered, cpu0, { mode: e.backend?.mode, rx: s.rx_packets, dropped: s.dropped });
}

if (kind.startsWith('engine-')) await engine();
else if (kind.startsWith('afxdp') || kind.startsWith('afpacket')) wirewasm();
else if (kind === 'node-dgram') await dgram();
else if (kind === 'cap') pcap();
else throw new Error(`receiver: unknown --backend ${kind}`);
