// Every handler in examples/ runs through the engine on a real capture and does what its comment
// says, checked against tshark's reading of the same capture (a reference that shares no code).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import { artefact, packageRoot } from '../../host/paths.js';
import { lacks } from '../support/tools.js';

const capture = path.join(packageRoot, '..', 'shared', 'corpus', 'tcpdump', 'afs.pcap');
const tshark = (...args: string[]) => execFileSync('tshark', ['-r', capture, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean);

async function run(handler: string, loops: number) {
  const engine = new Engine({ file: capture, workers: 1, handler: artefact(`examples/${handler}`), replay: { loops } });
  await engine.start();
  const values: number[] = [];
  let kept = 0;
  const reading = (async () => {
    for await (const b of engine.records()) {
      values.push(...b.values);
      kept += b.packets.length;
    }
  })();
  const stats = await engine.done;
  await reading;
  return { stats, values, kept };
}

describe.skipIf(lacks('tshark') || !existsSync(capture))('examples/ handlers (a real capture, tshark as the reference)', () => {
  it('every handler in examples/ is covered here', () => {
    expect(readdirSync(artefact('examples')).filter((f) => f.endsWith('.mjs')).sort()).toEqual(['count-ports.mjs', 'keep-udp.mjs']);
  });

  it('count-ports.mjs: every 65536 frames it emits the busiest destination port', async () => {
    const frames = tshark('-T', 'fields', '-e', 'frame.number').length;
    const loops = Math.ceil(65536 / frames) + 1;
    const counts = new Map<string, number>();
    for (const l of tshark('-T', 'fields', '-e', 'udp.dstport', '-e', 'tcp.dstport')) {
      const port = l.split('\t').find((x) => x !== '');
      if (port) counts.set(port, (counts.get(port) ?? 0) + 1);
    }
    const busiest = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const { stats, values } = await run('count-ports.mjs', loops);
    expect(stats.delivered).toBe(frames * loops);
    expect(values).toEqual([Number(busiest)]);
  }, 120_000);

  it('keep-udp.mjs: keeps exactly the UDP frames', async () => {
    const udp = tshark('-Y', 'udp && !icmp && !icmpv6', '-T', 'fields', '-e', 'frame.number').length;
    const { stats, kept } = await run('keep-udp.mjs', 1);
    expect(kept).toBe(udp);
    expect(stats.records_dropped).toBe(0);
  }, 60_000);
});
