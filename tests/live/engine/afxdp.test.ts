// The engine on a live interface through AF_XDP, zero-copy: the frame pool is the UMEM, the kernel
// receives straight into pool frames, and handlers see them where the kernel put them. On a real
// veth pair in namespaces this test makes, with frames from the generator in the peer namespace.
// Needs root (namespaces, XDP, AF_XDP).
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { META } from '../../../host/meta.js';
import { createTestbed, type Testbed } from '../../../host/testbed.js';
import { artefact } from '../../../host/paths.js';
import type { Packet } from '../../../host/packet.js';

const root = process.getuid?.() === 0;
const keepUdp = new URL('../../support/fixtures/engine-keep-udp.mjs', import.meta.url).pathname;
const GEN_MARK = 0x5757; // the generator's payload marker (host/gen.ts)

describe.skipIf(!root)('engine backend afxdp: zero-copy live source (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwxz' });
  });
  afterAll(() => bed?.destroy());

  const send = (count: number, flows: number, rate = 20000) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', String(rate), '--size', '128', '--count', String(count), '--flows', String(flows)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
    });

  const FRAME = 124; // gen --size 128 counts the 4-byte FCS the veth does not carry

  /** The generator's sequence number in a kept frame, or a description of what is wrong with its bytes. */
  const seqOf = (p: Packet): number | string => {
    const b = p.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const udp = 34;
    const pay = udp + 8;
    if (p.caplen !== FRAME || p.wireLength !== FRAME || p.linktype !== 1) return `caplen ${p.caplen} wirelen ${p.wireLength} linktype ${p.linktype}`;
    if (dv.getUint16(12) !== 0x0800 || b[23] !== 17 || dv.getUint16(udp + 4) !== FRAME - udp) return `not the generator's IPv4/UDP: ${Buffer.from(b.subarray(0, 42)).toString('hex')}`;
    if (dv.getUint16(pay + 16) !== GEN_MARK) return `payload marker ${dv.getUint16(pay + 16).toString(16)}`;
    return dv.getUint32(pay) * 2 ** 32 + dv.getUint32(pay + 4);
  };

  it('every datagram sent is delivered exactly once with its bytes, read in place in the UMEM (no copy), all frames back at stop', async () => {
    const N = 4000;
    const e = new Engine({ backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, workers: 2, handler: keepUdp });
    await e.start();
    const region = e.frameRegion!;
    const seqs: number[] = [];
    let outside = 0;
    let misplaced = 0;
    const bad: string[] = [];
    const reading = (async () => {
      for await (const batch of e.records())
        for (const p of batch.packets) {
          // No copy: the data lies in the UMEM, inside the pool frame whose metadata record this is.
          if (p.data < region.offset || p.data + p.caplen > region.offset + region.size) outside++;
          const frame = (p.meta - region.meta) / META.BYTES;
          if (Math.floor((p.data - region.offset) / region.frameSize) !== frame) misplaced++;
          const seq = seqOf(p);
          if (typeof seq === 'number') seqs.push(seq);
          else bad.push(seq);
        }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await send(N, 4);
    await new Promise((r) => setTimeout(r, 300));
    const s = await e.stop();
    await reading;
    expect(bad).toEqual([]);
    expect(outside).toBe(0);
    expect(misplaced).toBe(0);
    expect(seqs.length).toBe(N);
    expect(new Set(seqs).size).toBe(N);
    expect(Math.min(...seqs)).toBe(0);
    expect(Math.max(...seqs)).toBe(N - 1);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.dropped_total).toBe(0);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(s.workers.every((w) => w.delivered > 0)).toBe(true);
    expect(e.warnings).toEqual([]);
  });

  it('keep(): held frames stay out of the fill ring, unchanged until released; the kernel drops at the empty fill ring are counted, not lost', async () => {
    const N = 1000;
    // 256 frames: the kernel holds half, the handler keeps every one it sees, nobody reads records() yet.
    const e = new Engine({ backend: 'afxdp', iface: bed.b.iface, netns: bed.b.ns, workers: 1, frameCount: 256, poolCache: 4, handler: keepUdp });
    await e.start();
    await new Promise((r) => setTimeout(r, 200));
    await send(N, 1);
    await new Promise((r) => setTimeout(r, 300));
    const held = e.stats();
    // Every frame is out of the pool: kept by the handler, or on the fill ring waiting for traffic.
    expect(held.pool.free).toBe(0);
    const seqs: number[] = [];
    const bad: string[] = [];
    for await (const batch of e.records()) {
      for (const p of batch.packets) {
        const seq = seqOf(p);
        if (typeof seq === 'number') seqs.push(seq);
        else bad.push(seq);
      }
      break; // releases the batch: its frames go back to the pool, then to the fill ring
    }
    const s = await e.stop();
    expect(bad).toEqual([]);
    // Held frames were never received into again: the first frames sent, each once, in order
    // (one flow, one queue). A frame reused while held would show a later sequence number twice.
    expect(seqs.length).toBeGreaterThan(64);
    expect(seqs.length).toBeLessThanOrEqual(256);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    // The rest were dropped by the kernel at the empty fill ring, and counted.
    expect(s.dropped.kernel).toBeGreaterThanOrEqual(N - seqs.length);
    expect(s.dropped.kernel).toBeLessThan(N - seqs.length + 20); // + whatever else the link carried (IPv6 ND)
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
  });

  it('npm start --testbed runs the whole engine on AF_XDP: every generated frame delivered, pool whole, test bed removed', async () => {
    const { out, err } = await new Promise<{ out: string; err: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'start', '--testbed', '--duration', '1', '--gen-rate', '20000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let err = '';
      p.stdout.on('data', (d) => (o += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve({ out: o, err }) : reject(new Error(`start --testbed exited ${code}: ${err}`))));
    });
    const s = JSON.parse(out);
    // The generator's own count (its line on stderr); the engine starts before it and stops after.
    const sent = Number(/sent (\d+) frames/.exec(err)?.[1]);
    expect(sent).toBeGreaterThan(10000);
    expect(s.delivered).toBeGreaterThanOrEqual(sent);
    expect(s.delivered).toBeLessThan(sent + 20); // + whatever else the fresh link carried (IPv6 ND)
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/^wwst-/m);
  });

  it('two queues, two sockets sharing the one UMEM that is the pool: every datagram of 16 flows delivered once, both queues used', async () => {
    const bed2 = createTestbed({ prefix: 'wwxz', queues: 2 });
    try {
      const N = 4000;
      const e = new Engine({ backend: 'afxdp', iface: bed2.b.iface, netns: bed2.b.ns, queues: 2, workers: 2, handler: keepUdp });
      await e.start();
      const region = e.frameRegion!;
      const seqs: number[] = [];
      const bad: string[] = [];
      let outside = 0;
      const reading = (async () => {
        for await (const batch of e.records())
          for (const p of batch.packets) {
            if (p.data < region.offset || p.data + p.caplen > region.offset + region.size) outside++;
            const seq = seqOf(p);
            if (typeof seq === 'number') seqs.push(seq);
            else bad.push(seq);
          }
      })();
      await new Promise((r) => setTimeout(r, 200));
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed2.a.ns, '-i', bed2.a.iface, '--dst-ip', bed2.b.ip, '--rate', '20000', '--size', '128', '--count', String(N), '--flows', '16'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
      });
      await new Promise((r) => setTimeout(r, 300));
      const s = await e.stop();
      await reading;
      expect(bad).toEqual([]);
      expect(outside).toBe(0);
      expect(seqs.length).toBe(N);
      expect(new Set(seqs).size).toBe(N);
      expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
      expect(s.in_flight).toBe(0);
      expect(s.pool.in_use).toBe(0);
      expect(s.queues[0].rx_packets).toBeGreaterThan(0);
      expect(s.queues[1].rx_packets).toBeGreaterThan(0);
    } finally {
      bed2.destroy();
    }
  });
});
