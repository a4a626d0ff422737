// `capture` on a real veth pair in namespaces this test makes: frames sent by the generator in one
// namespace are captured in the other with AF_PACKET and AF_XDP, written as pcapng, and read back
// by tshark frame for frame. Needs root (namespaces, raw sockets, XDP).
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capture } from '../../host/capture.js';
import { Engine } from '../../host/engine/engine.js';
import { testbedAndDirForFile } from '../support/suite.js';
import { artefact } from '../../host/paths.js';
import { lacks } from '../support/tools.js';

const root = process.getuid?.() === 0;

describe.skipIf(!root || lacks('tshark'))('capture to pcapng (needs root)', () => {
  const { bed, dir } = testbedAndDirForFile('wwen');

  const send = (count: number, flows: number) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed().a.ns, '-i', bed().a.iface, '--dst-ip', bed().b.ip, '--rate', '20000', '--size', '128', '--count', String(count), '--flows', String(flows)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
    });

  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend}: tshark reads back exactly the frames captured, bytes and nanosecond timestamps`, async () => {
      const out = path.join(dir(), `${backend}.pcapng`);
      const run = capture({ iface: bed().b.iface, netns: bed().b.ns, backend, count: 1000, durationS: 20, out, keepRecords: true });
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
    const out = path.join(dir(), 'filtered.pcapng');
    const stop = new AbortController();
    const run = capture({ iface: bed().b.iface, netns: bed().b.ns, durationS: 20, out, rules: ['proto udp sport 1024-65535 -> drop'], signal: stop.signal });
    await new Promise((r) => setTimeout(r, 300));
    await send(500, 1);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    const r = await run;
    expect(r.ruleDropped).toBe(500);
    expect(r.written).toBe(r.received - 500);
  });

  it('the engine on a live interface (afpacket): every frame sent is delivered once, spread over 2 workers', async () => {
    const e = new Engine({ backend: 'afpacket', iface: bed().b.iface, netns: bed().b.ns, workers: 2, queues: 1, handler: new URL('../support/fixtures/engine-flows.mjs', import.meta.url).pathname });
    await e.start();
    const values: number[] = [];
    const reading = (async () => {
      for await (const b of e.records()) values.push(...b.values);
    })();
    await send(5000, 8);
    await new Promise((r) => setTimeout(r, 300));
    const s = await e.stop();
    await reading;
    const udp = values.filter((v) => v % 65536 !== 0);
    // Each datagram once at most; one the socket could not take is counted by the kernel (which
    // cannot say which frames those were, so the sum may exceed 5000 by the link's own ND frames).
    expect(udp.length).toBeLessThanOrEqual(5000);
    expect(udp.length + s.dropped.kernel + s.records_dropped).toBeGreaterThanOrEqual(5000);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(s.workers.every((w) => w.delivered > 0)).toBe(true);
  });

  it('kernel drops: a stalled poll loop overflows a small TPACKET ring; every frame is delivered or counted as kernel', async () => {
    const e = new Engine({ backend: 'afpacket', iface: bed().b.iface, netns: bed().b.ns, workers: 1, backendOptions: { blockSize: 4096, blockCount: 2 } });
    await e.start();
    // Block the main thread (its pollSources loop) while 3000 frames arrive: the kernel must drop most of them.
    const sending = send(3000, 1);
    const until = Date.now() + 400;
    while (Date.now() < until);
    await sending;
    await new Promise((r) => setTimeout(r, 300));
    const s = await e.stop();
    expect(s.dropped.kernel).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    // Everything the socket saw: the 3000 sent, plus whatever else the link carried (a few ND frames).
    expect(s.delivered + s.dropped.kernel).toBeGreaterThanOrEqual(3000);
    expect(s.delivered + s.dropped.kernel).toBeLessThan(3020);
    expect(s.pool.in_use).toBe(0);
  });
});
