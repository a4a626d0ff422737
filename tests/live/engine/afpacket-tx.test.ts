// The engine on AF_PACKET transmitting what its handler forwards: the feeder copies each forwarded
// frame into the socket's TPACKET TX ring (releasing the pool frame, and with zero-copy receive its
// RX block, right after) and kicks send(). On a real veth pair in namespaces this test makes: the
// generator sends from the peer, the engine forwards every frame back out, and dumpcap (Wireshark's
// capture tool, not ours) records what arrives at the peer. Needs root.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { UDP_HEADERS } from '../../../host/backends/udpframe.js';
import { readCaptureFile } from '../../../host/pcap/index.js';
import { createTestbed, type Testbed } from '../../../host/testbed.js';
import { captureAtPeer, genFrame, sendFromPeer } from '../../support/peer-traffic.js';

const root = process.getuid?.() === 0;
const forward = new URL('../../support/fixtures/engine-forward.mjs', import.meta.url).pathname;

describe.skipIf(!root)('engine backend afpacket: forward() transmits on the TX ring (needs root)', () => {
  let bed: Testbed;
  let dir: string;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwpt' });
    dir = mkdtempSync(path.join(tmpdir(), 'wwpt-'));
  });
  afterAll(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (count: number, rate: number) => sendFromPeer(bed, count, rate);
  const capture = (file: string, filter?: string) => captureAtPeer(bed, file, filter);
  const expected = (seq: number, got: Uint8Array) => genFrame(bed, seq, got);

  const captured = (file: string) => {
    const { records } = readCaptureFile(file);
    const seqs: number[] = [];
    const bad: string[] = [];
    let other = 0;
    let bytes = 0;
    for (const r of records) {
      const b = r.data;
      bytes += b.length;
      // Not UDP over IPv4 (e.g. the peer's IPv6 neighbour discovery, forwarded back): counted apart.
      if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 17) {
        other++;
        continue;
      }
      const seq = new DataView(b.buffer, b.byteOffset).getUint32(UDP_HEADERS + 4);
      if (b.length === 124 && Buffer.compare(Buffer.from(b), Buffer.from(expected(seq, b))) === 0) seqs.push(seq);
      else bad.push(Buffer.from(b).toString('hex'));
    }
    return { seqs, bad, other, bytes, times: records.map((r) => Number(r.timestampNs)) };
  };

  it.each([
    ['zero-copy receive', {}],
    ['copy receive', { zeroCopy: false }],
    ['a TX ring of 8 slots (full ring holds, never drops)', { txFrames: 8 }],
  ])('%s: every frame the handler forwards arrives at the peer unchanged, once; tx counted; every frame back in the pool at stop', async (name, backendOptions) => {
    const N = 3000;
    const file = path.join(dir, `fwd-${name.split(' ')[0]}.pcap`);
    // Every frame from the peer's MAC coming back: exactly what the engine sent (the peer's
    // kernel also gets frames from the engine side's own kernel, from its MAC: not captured).
    const cap = await capture(file, `ether src ${bed.a.mac}`);
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, workers: 2, backendOptions, handler: forward });
    await e.start();
    await new Promise((r) => setTimeout(r, 200));
    await send(N, 20000);
    await new Promise((r) => setTimeout(r, 300));
    const s = await e.stop();
    await cap.stop();
    const { seqs, bad, other, bytes } = captured(file);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(seqs.length).toBe(N);
    expect(new Set(seqs).size).toBe(N);
    expect(Math.max(...seqs)).toBe(N - 1);
    expect(s.delivered).toBeGreaterThanOrEqual(N);
    expect(s.tx_packets).toBe(s.delivered);
    expect(s.tx_packets).toBe(N + other); // counted = what arrived
    expect(s.tx_bytes).toBe(bytes);
    expect(s.tx_dropped).toBe(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(e.warnings).toEqual([]);
  });

  it('the transmit shaper still holds the rate; what it held at stop is counted, every frame back in the pool', async () => {
    const file = path.join(dir, 'shaped.pcap');
    const cap = await capture(file);
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, workers: 1, tx: { rate: 5000 }, handler: forward });
    await e.start();
    await new Promise((r) => setTimeout(r, 200));
    await send(4000, 20000); // 0.2 s of frames, 0.8 s to send at 5000/s
    await new Promise((r) => setTimeout(r, 400));
    const s = await e.stop();
    await cap.stop();
    const { seqs, bad, times } = captured(file);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(seqs.length).toBe(s.tx_packets);
    expect(new Set(seqs).size).toBe(seqs.length);
    // The rate on the wire at the peer, from dumpcap's timestamps: 5000/s (+ the bucket's first 100).
    const pps = (seqs.length - 100) / ((times[times.length - 1] - times[0]) / 1e9);
    expect(Math.abs(pps - 5000) / 5000).toBeLessThan(0.1);
    expect(s.tx_packets + s.tx_dropped).toBe(s.delivered);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.pool.in_use).toBe(0);
  });
});
