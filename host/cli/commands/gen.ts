// `wirewasm gen`: sends UDP frames carrying a sequence number and a CLOCK_MONOTONIC send time,
// written in place in TX buffers of the shared memory (host/gen/generator.ts has the frame format).
import type { Command } from 'commander';
import { GEN_MIN_SIZE, openGenerator, runGenerator, validateGen, type GenOptions } from '../../gen/generator.js';

const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${flag}: expected a number, got "${v}"`);
  return n;
};

export function register(program: Command): void {
  program
    .command('gen')
    .description('send UDP frames (sequence number + send timestamp) at a set rate, zero-copy from the memory')
    .requiredOption('-i, --iface <name>', 'interface to send on')
    .option('-b, --backend <name>', 'afxdp or afpacket', 'afpacket')
    .requiredOption('-r, --rate <pps>', 'frames per second (0 = as fast as possible)', num('--rate'))
    .requiredOption('-s, --size <bytes>', `frame size on the wire with FCS (${GEN_MIN_SIZE}..1518; 64 = Ethernet minimum)`, num('--size'))
    .option('-n, --count <n>', 'frames to send', num('--count'))
    .option('-d, --duration <s>', 'seconds to send for', num('--duration'))
    .option('--dst-ip <ip>', 'destination IPv4 address')
    .option('--dst-mac <mac>', 'destination MAC (default: the neighbour entry of --dst-ip)')
    .option('--src-ip <ip>', 'source IPv4 address (default: the interface address)')
    .option('--port <n>', 'destination UDP port', num('--port'), 9000)
    .option('--flows <n>', 'distinct source ports to rotate through', num('--flows'), 1)
    .option('--netns <name>', 'network namespace of the interface (ip netns name)')
    .option('--json', 'print the result as one JSON object')
    .action((o: { iface: string; backend: string; rate: number; size: number; count?: number; duration?: number; dstIp?: string; dstMac?: string; srcIp?: string; port: number; flows: number; netns?: string; json?: boolean }) => {
      if (o.backend !== 'afxdp' && o.backend !== 'afpacket') throw new Error(`gen: --backend ${o.backend}: use afxdp or afpacket`);
      const opts: GenOptions = {
        iface: o.iface, netns: o.netns, backend: o.backend, rate: o.rate, size: o.size, count: o.count, durationS: o.duration,
        dstIp: o.dstIp, dstMac: o.dstMac, srcIp: o.srcIp, dstPort: o.port, flows: o.flows,
      };
      validateGen(opts);
      const opened = openGenerator(opts);
      try {
        const r = runGenerator(opts, opened);
        const st = opened.backend.stats();
        const out = { ...r, tx: st.tx, drops: st.drops };
        if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
        else process.stdout.write(`sent ${r.sent} frames of ${o.size} B in ${r.seconds.toFixed(3)} s: ${Math.round(r.pps)} pps (${r.mode})\n`);
      } finally {
        opened.backend.close();
      }
    });
}
