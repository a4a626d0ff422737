// The engine on AF_XDP transmitting what its handler forwards, zero-copy: a forwarded frame is a
// UMEM frame already, so its descriptor goes on the socket's TX ring and the frame comes back to
// the pool through the completion ring. On a real veth pair in namespaces this test makes: the
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

describe.skipIf(!root)('engine backend afxdp: forward() transmits on the socket, zero-copy (needs root)', () => {
  let bed: Testbed;
  let dir: string;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwxt' });
    dir = mkdtempSync(path.join(tmpdir(), 'wwxt-'));
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
    for (const r of records) {
      const b = r.data;
      const seq = new DataView(b.buffer, b.byteOffset).getUint32(UDP_HEADERS + 4);
      if (b.length === 124 && Buffer.compare(Buffer.from(b), Buffer.from(expected(seq, b))) === 0) seqs.push(seq);
      else bad.push(Buffer.from(b).toString('hex'));
    }
    return { seqs, bad, times: records.map((r) => Number(r.timestampNs)) };
  };

  it('every frame the handler forwards arrives at the peer unchanged, once; tx counted; every frame back in the pool at stop', async () => {
    const N = 3000;
    const file = path.join(dir, 'fwd.pcap');
    const cap = await capture(file);
    const rxAt = () => JSON.parse(bed.exec(bed.a.ns, 'ip', ['-j', '-s', 'link', 'show', bed.a.iface]))[0].stats64.rx.packets as number;
    const rx0 = rxAt();
    const e = new Engine({ backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, workers: 2, handler: forward });
    await e.start();
    await new Promise((r) => setTimeout(r, 200));
    await send(N, 20000);
    await new Promise((r) => setTimeout(r, 300));
    const s = await e.stop();
    await cap.stop();
    const { seqs, bad } = captured(file);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(seqs.length).toBe(N);
    expect(new Set(seqs).size).toBe(N);
    expect(Math.max(...seqs)).toBe(N - 1);
    expect(rxAt() - rx0).toBe(N); // the peer's kernel counted them in too
    expect(s.delivered).toBeGreaterThanOrEqual(N);
    expect(s.tx_packets).toBe(s.delivered);
    expect(s.tx_dropped).toBe(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(e.warnings).toEqual([]);
  });

  it('the transmit shaper still holds the rate; what it held at stop is counted, every frame back in the pool', async () => {
    const file = path.join(dir, 'shaped.pcap');
    const cap = await capture(file);
    const e = new Engine({ backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, workers: 1, tx: { rate: 5000 }, handler: forward });
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
