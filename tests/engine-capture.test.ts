// `capture` on a real veth pair in namespaces this test makes: frames sent by the generator in one
// namespace are captured in the other with AF_PACKET and AF_XDP, written as pcapng, and read back
// by tshark frame for frame. Needs root (namespaces, raw sockets, XDP).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../host/engine/capture.js';
import { createTestbed, type Testbed } from '../host/testbed.js';
import { artefact } from '../host/paths.js';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('capture to pcapng (needs root)', () => {
  let bed: Testbed;
  let dir: string;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwen' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'wwen-'));
  });
  afterAll(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (count: number, flows: number) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', '20000', '--size', '128', '--count', String(count), '--flows', String(flows)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
    });

  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend}: tshark reads back exactly the frames captured, bytes and nanosecond timestamps`, async () => {
      const out = path.join(dir, `${backend}.pcapng`);
      const run = capture({ iface: bed.b.iface, netns: bed.b.ns, backend, count: 1000, durationS: 20, out });
      await new Promise((r) => setTimeout(r, 300));
      await send(1000, 4);
      const r = await run;
      expect(r.written).toBe(1000);
      const lines = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'udp.srcport', '-e', 'udp.payload'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n');
      expect(lines).toHaveLength(1000);
      let udpFrames = 0;
      lines.forEach((l, i) => {
        const [t, len, sport, data] = l.split('\t');
        const rec = r.records[i];
        expect(Number(len)).toBe(rec.wireLength);
        // Nanosecond resolution survives: tshark prints the epoch with 9 decimals.
        const ns = BigInt(t.replace('.', ''));
        expect(ns).toBe(rec.timestampNs);
        // The generator's UDP frames, and whatever else the fresh link carries (IPv6 ND/MLD).
        const isUdp4 = rec.data[12] === 0x08 && rec.data[13] === 0 && rec.data[23] === 17;
        if (!isUdp4) {
          expect(sport).toBe('');
          return;
        }
        udpFrames++;
        const udp = 14 + 20;
        expect(Number(sport)).toBe((rec.data[udp] << 8) | rec.data[udp + 1]);
        expect(data).toBe(Buffer.from(rec.data.subarray(udp + 8)).toString('hex'));
      });
      expect(udpFrames).toBeGreaterThan(900);
    });
  }

  it('a drop rule filters frames out and counts them', async () => {
    const out = path.join(dir, 'filtered.pcapng');
    const stop = new AbortController();
    const run = capture({ iface: bed.b.iface, netns: bed.b.ns, durationS: 20, out, rules: ['proto udp sport 1024-65535 -> drop'], signal: stop.signal });
    await new Promise((r) => setTimeout(r, 300));
    await send(500, 1);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    const r = await run;
    expect(r.filtered).toBe(500);
    expect(r.written).toBe(r.received - 500);
  });
});
