// `wirewasm capture -w - | tshark -r -`: the capture goes to standard output as pcapng, like
// `tcpdump -w -`, on a veth pair in namespaces this test makes. Needs root.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { createTestbed, type Testbed } from '../../host/testbed.js';
import { lacks } from '../support/tools.js';

const cli = artefact('dist/host/cli/main.js');
const root = process.getuid?.() === 0;

describe.skipIf(!root || lacks('tshark'))('capture -w - piped into tshark (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwcc' });
  });
  afterAll(() => bed?.destroy());

  it('tshark -r - reads every frame capture wrote to standard output', async () => {
    const count = 200;
    const sh = `"${process.execPath}" "${cli}" capture --netns ${bed.b.ns} -i ${bed.b.iface} -c ${count} -d 30 -q --rule "ethertype ipv6 -> drop" --rule "ethertype arp -> drop" -w - | tshark -r - -T fields -e frame.len -e udp.dstport`;
    const pipe = spawn('sh', ['-c', sh], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    pipe.stdout.on('data', (d) => (out += d));
    pipe.stderr.on('data', (d) => (err += d));
    await new Promise((r) => setTimeout(r, 1500));
    const gen = spawn(process.execPath, [cli, 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', '20000', '--size', '128', '-c', String(count), '--port', '9000'], { stdio: 'ignore' });
    expect(await new Promise((r) => gen.on('exit', r))).toBe(0);
    expect(await new Promise((r) => pipe.on('exit', r))).toBe(0);
    const lines = out.trim().split('\n');
    expect({ n: lines.length, err: err.replace(/^Running as user.*\n/gm, '') }).toEqual({ n: count, err: '' });
    // Frames of 128 B on the wire with FCS are 124 B captured, to the generator's port.
    for (const l of lines) expect(l).toBe('124\t9000');
  }, 60_000);
});
