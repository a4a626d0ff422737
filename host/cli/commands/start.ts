// `wirewasm start` (what `npm start` runs): the engine on an embedded default. Without an
// interface it generates a capture (UDP and TCP flows, some VLAN-tagged) and replays it through
// the full engine with 2 workers, flow rules and a handler, showing the stats display. As root with
// --testbed it builds a veth pair in two fresh namespaces, sends with the generator from one side,
// runs the engine on AF_XDP (zero-copy) on the other with the stats display, and removes the test bed.
import type { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Engine } from '../../engine/engine.js';
import { addEngineOptions, engineConfigFrom, runEngine, type EngineCliOptions } from '../../cli/engine-options.js';
import { buildFrame } from '../../gen/frames.js';
import { writePcap } from '../../pcap/index.js';
import { artefact } from '../../paths.js';

/** 4096 frames: 200 UDP flows to ports 5000-5003, 40 TCP flows to 443, 8 VLAN-100 flows to 53. */
export function demoCapture(file: string): void {
  const records = [];
  for (let i = 0; i < 4096; i++) {
    const k = i % 248;
    const f =
      k < 200
        ? buildFrame({ src: `10.0.${k >> 4}.${k & 15}`, dst: '10.9.0.1', sport: 20000 + k, dport: 5000 + (k & 3), length: 64 + (k % 7) * 100 })
        : k < 240
          ? buildFrame({ src: `172.16.0.${k - 200}`, dst: '10.9.0.2', sport: 40000 + k, dport: 443, proto: 'tcp', length: 90 })
          : buildFrame({ src: `192.168.1.${k - 240}`, dst: '10.9.0.53', sport: 3000 + k, dport: 53, vlan: 100, length: 80 });
    records.push({ linktype: 1, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data: f, wireLength: f.length });
  }
  writeFileSync(file, writePcap(records, { linktype: 1, nanosecond: true }));
}

async function testbedDemo(seconds: number, rate: number, o: EngineCliOptions, cmd: Command): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('start --testbed needs root (it creates network namespaces and a veth pair); run it with sudo');
  const { createTestbed } = await import('../../testbed.js');
  const bed = createTestbed({ prefix: 'wwst' });
  try {
    if (!o.quiet && !o.json) process.stderr.write(`test bed: ${bed.a.ns}/${bed.a.iface} ${bed.a.ip}  <->  ${bed.b.ns}/${bed.b.iface} ${bed.b.ip}\n`);
    const cfg = engineConfigFrom(o, cmd);
    // The full engine on AF_XDP, zero-copy: the kernel receives straight into the engine's pool frames.
    const engine = new Engine({ ...cfg, backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, handler: o.handler ?? artefact('examples/count-ports.mjs') });
    const timer = setTimeout(() => void engine.stop().catch(() => undefined), (seconds + 1) * 1000);
    let settled = false;
    const running = runEngine(engine, o, `wirewasm start --testbed (afxdp on ${bed.b.iface})`).finally(() => (settled = true));
    let gen: ReturnType<typeof spawn> | undefined;
    try {
      // Traffic once the socket is bound (start() resolves inside runEngine).
      while (!engine.running && !settled) await new Promise((r) => setTimeout(r, 10));
      if (!settled) gen = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', String(rate), '--size', '128', '--duration', String(seconds), '--flows', '16'], { stdio: ['ignore', 2, 'inherit'] }); // its "sent N frames" line to stderr
      await running;
    } finally {
      clearTimeout(timer);
      const g = gen;
      if (g) await new Promise((res) => (g.exitCode !== null ? res(undefined) : g.on('exit', res)));
    }
  } finally {
    bed.destroy();
    if (!o.quiet && !o.json) process.stderr.write('test bed removed\n');
  }
}

interface DpdkCliOptions {
  backend?: string;
  dpdkPort?: string;
  dpdkMode?: string;
  dpdkFrames?: string;
  dpdkEal?: string;
}

/** The engine on a DPDK port (docs/dpdk.md) until interrupted, or for --duration seconds when given. */
async function dpdkRun(o: EngineCliOptions & DpdkCliOptions & { duration: string }, cmd: Command): Promise<void> {
  if (!o.dpdkPort) throw new Error('--backend dpdk needs --dpdk-port: net_af_xdp0,iface=eth0, net_af_packet0,iface=eth0, net_null0 or a PCI address (docs/dpdk.md)');
  const frames = o.dpdkFrames === undefined ? undefined : Number(o.dpdkFrames);
  if (frames !== undefined && !(Number.isInteger(frames) && frames > 0)) throw new Error(`--dpdk-frames: expected a whole number of frames, got "${o.dpdkFrames}"`);
  if (o.dpdkMode !== undefined && o.dpdkMode !== 'busy' && o.dpdkMode !== 'adaptive') throw new Error(`--dpdk-mode: got "${o.dpdkMode}"; use busy or adaptive`);
  const cfg = engineConfigFrom(o, cmd);
  const engine = new Engine({
    ...cfg,
    backend: 'dpdk',
    dpdk: { port: o.dpdkPort, mode: o.dpdkMode as 'busy' | 'adaptive' | undefined, frames, eal: o.dpdkEal?.split(/\s+/).filter(Boolean) },
    handler: o.handler ?? artefact('examples/count-ports.mjs'),
  });
  const timer = cmd.getOptionValueSource('duration') === 'cli' ? setTimeout(() => void engine.stop().catch(() => undefined), Number(o.duration) * 1000) : undefined;
  try {
    await runEngine(engine, o, `wirewasm start --backend dpdk (${o.dpdkPort})`);
  } finally {
    clearTimeout(timer);
  }
}

export function register(program: Command): void {
  addEngineOptions(
    program
      .command('start')
      .description('the main job on an embedded default: replay a generated capture through the engine (2 workers) with the stats display; --testbed: veth + generator + the engine on AF_XDP, zero-copy (root)')
      .option('--testbed', 'as root: veth pair in fresh namespaces, generator on one side, the engine on AF_XDP (zero-copy) on the other')
      .option('--fleet', 'a local 3-node NATS cluster, two replay engines publishing into it, one consumer and the fleet view (needs nats-server)')
      .option('--duration <s>', 'seconds to run (--backend dpdk: until interrupted unless given)', '5')
      .option('--gen-rate <pps>', 'generator rate for --testbed', '100000')
      .option('--backend <name>', 'dpdk: the engine on a DPDK port (--dpdk-port) instead of the generated capture')
      .option('--dpdk-port <port>', 'dpdk backend: net_af_xdp0,iface=eth0, net_af_packet0,iface=eth0, net_null0 or a PCI address (docs/dpdk.md)')
      .option('--dpdk-mode <mode>', 'dpdk backend: the poll threads spin (busy) or sleep when idle (adaptive)', 'busy')
      .option('--dpdk-frames <n>', 'dpdk backend: mbufs in the DPDK frame region (default 8192 per queue)')
      .option('--dpdk-eal <args>', 'dpdk backend: EAL arguments, space separated (default: no hugepages, IOVA=VA, one lcore; docs/dpdk.md)'),
    { workers: 2 },
  ).action(async (o: EngineCliOptions & DpdkCliOptions & { testbed?: boolean; fleet?: boolean; duration: string; genRate: string }, cmd: Command) => {
    const seconds = Number(o.duration);
    if (!(seconds > 0)) throw new Error(`--duration: expected seconds > 0, got "${o.duration}"`);
    if (o.backend !== undefined && o.backend !== 'dpdk') throw new Error(`--backend: got "${o.backend}"; start runs dpdk (--backend dpdk --dpdk-port ...), or without --backend the generated capture; \`wirewasm capture -i IFACE\` runs the kernel backends`);
    if (o.backend === 'dpdk') return void (await dpdkRun(o, cmd));
    if (o.testbed) return void (await testbedDemo(seconds, Number(o.genRate), o, cmd));
    if (o.fleet) return void (await (await import('../../publish/demo.js')).fleetDemo(seconds, demoCapture, o));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wirewasm-start-'));
    try {
      const file = path.join(dir, 'demo.pcap');
      demoCapture(file);
      const cfg = engineConfigFrom({ ...o, loops: '0' }, cmd);
      const engine = new Engine({
        ...cfg,
        backend: 'pcap',
        file,
        handler: o.handler ?? artefact('examples/count-ports.mjs'),
        classes: cfg.classes ?? 2,
        rules: cfg.rules?.length ? cfg.rules : ['proto tcp -> class 0', 'vlan 100 dport 53 -> class 0, mark 53'],
      });
      const timer = setTimeout(() => void engine.stop().catch(() => undefined), seconds * 1000);
      if (!o.quiet && !o.json) process.stderr.write(`replaying a generated capture (4096 frames, 248 flows) for ${seconds} s with ${cfg.workers} workers; rules: ${engine.config.rules.join('; ')}\n`);
      try {
        await runEngine(engine, o, 'wirewasm start (generated capture)');
      } finally {
        clearTimeout(timer);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
