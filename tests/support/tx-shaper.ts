// The transmit shaper test both zero-copy TX backends run (tests/live/engine/afpacket-tx.test.ts,
// afxdp-tx.test.ts): the peer sends 4000 frames in 0.2 s, the handler forwards each, the queue's
// shaper lets 5000/s out. Shaping limits the rate: on the wire it is never above 5000/s (+ the
// bucket's first 100), which a starved sender cannot break (it can only be slower; the precise
// figure is a benchmark's). What the shaper still held at stop is counted, every frame is back.
import path from 'node:path';
import { expect } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import type { Testbed } from '../../host/testbed.js';
import { captureAtPeer, capturedGen, sendFromPeer } from './peer-traffic.js';

export async function expectShapedTransmit(bed: Testbed, backend: 'afpacket' | 'afxdp', dir: string, handler: string): Promise<void> {
  const file = path.join(dir, 'shaped.pcap');
  const cap = await captureAtPeer(bed, file);
  const e = new Engine({ backend, iface: bed.b.iface, netns: bed.b.ns, workers: 1, tx: { rate: 5000 }, handler });
  await e.start();
  await new Promise((r) => setTimeout(r, 200));
  await sendFromPeer(bed, 4000, 20000); // 0.2 s of frames, 0.8 s to send at 5000/s
  await new Promise((r) => setTimeout(r, 400));
  const s = await e.stop();
  await cap.stop();
  const { seqs, bad, times } = capturedGen(bed, file);
  expect(bad.slice(0, 3)).toEqual([]);
  expect(seqs.length).toBe(s.tx_packets);
  expect(new Set(seqs).size).toBe(seqs.length);
  // From the kernel's receive timestamps at the peer.
  const pps = (seqs.length - 100) / ((times[times.length - 1] - times[0]) / 1e9);
  expect(pps).toBeLessThan(5000 * 1.1);
  expect(pps).toBeGreaterThan(5000 * 0.1);
  expect(s.tx_packets + s.tx_dropped).toBe(s.delivered);
  expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  expect(s.pool.in_use).toBe(0);
}
