// The engine on a live interface through AF_PACKET TPACKET_V3, zero-copy: each packet becomes a
// pool frame whose data points into the kernel's block, and a block goes back to the kernel when
// the last frame describing one of its packets is released. On a real veth pair in namespaces this
// test makes, with frames from the generator in the peer namespace. Needs root.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../host/engine/engine.js';
import { META } from '../../../host/meta.js';
import type { AfPacketBackend } from '../../../host/backends/afpacket.js';
import { UDP_HEADERS, writeUdpHeaders } from '../../../host/backends/udpframe.js';
import { createTestbed, type Testbed } from '../../../host/testbed.js';
import { artefact } from '../../../host/paths.js';
import { expectEachOnce, sendThenStop } from '../../support/delivery.js';
import type { Packet } from '../../../host/packet.js';

const root = process.getuid?.() === 0;
const keepUdp = new URL('../../support/fixtures/engine-keep-udp.mjs', import.meta.url).pathname;

describe.skipIf(!root)('engine backend afpacket: zero-copy TPACKET_V3 live source (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwpz' });
  });
  afterAll(() => bed?.destroy());

  const send = (count: number, flows: number, size = 128, rate = 20000) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '-i', bed.a.iface, '--dst-ip', bed.b.ip, '--rate', String(rate), '--size', String(size), '--count', String(count), '--flows', String(flows)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen exited ${code}: ${err}`))));
    });

  /**
   * The frame the generator sent with this sequence number (host/gen.ts): its headers, the
   * sequence, the marker; the 8 send-time bytes are copied from `got`, the one thing not known here.
   */
  const expected = (seq: number, flows: number, size: number, got: Uint8Array): Uint8Array => {
    const frame = new Uint8Array(size - 4); // --size counts the FCS the veth does not carry
    writeUdpHeaders(frame, { srcMac: bed.a.mac, dstMac: bed.b.mac, srcIp: bed.a.ip, dstIp: bed.b.ip, srcPort: 40000 + (seq % flows), dstPort: 9000 }, frame.length - UDP_HEADERS);
    frame[40] = 0;
    frame[41] = 0;
    const dv = new DataView(frame.buffer);
    dv.setUint32(UDP_HEADERS, Math.floor(seq / 2 ** 32));
    dv.setUint32(UDP_HEADERS + 4, seq >>> 0);
    frame.set(got.subarray(UDP_HEADERS + 8, UDP_HEADERS + 16), UDP_HEADERS + 8);
    dv.setUint16(UDP_HEADERS + 16, 0x5757);
    return frame;
  };

  /** Sequence number of a kept frame if its bytes are exactly what was sent, else what is wrong. */
  const check = (p: Packet, flows: number, size: number): number | string => {
    const b = p.bytes;
    if (b.length !== size - 4 || p.wireLength !== size - 4) return `caplen ${b.length} wirelen ${p.wireLength}, sent ${size - 4}`;
    const seq = new DataView(b.buffer, b.byteOffset).getUint32(UDP_HEADERS + 4);
    const want = expected(seq, flows, size, b);
    return Buffer.compare(Buffer.from(b), Buffer.from(want)) === 0 ? seq : `seq ${seq}: got ${Buffer.from(b).toString('hex')} want ${Buffer.from(want).toString('hex')}`;
  };

  const inside = (addr: number, len: number, regions: { offset: number; size: number }[]) => regions.some((r) => addr >= r.offset && addr + len <= r.offset + r.size);

  it('every datagram delivered once with the bytes sent, read in place in the kernel blocks (no copy), 2 workers, every block and frame back at stop', async () => {
    const N = 4000;
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, workers: 2, handler: keepUdp });
    await e.start();
    const b = e.backend as AfPacketBackend;
    expect(b.mode).toMatch(/tpacket_v3 zero-copy/);
    const rings = b.rxRegions;
    const pool = e.frameRegion!;
    const seqs: number[] = [];
    const bad: string[] = [];
    let outside = 0;
    let inPool = 0;
    const reading = (async () => {
      for await (const batch of e.records())
        for (const p of batch.packets) {
          if (!inside(p.data, p.caplen, rings)) outside++;
          if (inside(p.data, 1, [pool])) inPool++;
          const r = check(p, 4, 128);
          if (typeof r === 'number') seqs.push(r);
          else bad.push(r);
        }
    })();
    const s = await sendThenStop(e, () => send(N, 4), reading);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(outside).toBe(0);
    expect(inPool).toBe(0);
    expectEachOnce(seqs, N, s);
    expect(b.heldBlocks(0)).toBe(0);
    expect(e.warnings).toEqual([]);
  });

  it('keep(): held frames hold their blocks (unchanged while more traffic arrives; a ring of held blocks drops, counted as kernel); releasing them returns the blocks', async () => {
    // 4 blocks of 4 KiB (about 20 packets each); the handler keeps every frame and nobody reads records() yet.
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, workers: 1, backendOptions: { blockSize: 4096, blockCount: 4 }, handler: keepUdp });
    await e.start();
    const b = e.backend as AfPacketBackend;
    await new Promise((r) => setTimeout(r, 200));
    await send(30, 1, 128, 20000); // 30 frames in 1.5 ms: two blocks (the retire timer is 4 ms)
    await new Promise((r) => setTimeout(r, 200));
    const first = b.heldBlocks(0);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThan(4);
    // More traffic than the free blocks hold, in frames of another size: the kernel must not
    // write into the held blocks; it fills the rest (kept too) and then drops.
    await send(1000, 1, 200, 20000);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.heldBlocks(0)).toBe(4);
    const small: number[] = [];
    const large: number[] = [];
    const bad: string[] = [];
    for await (const batch of e.records()) {
      for (const p of batch.packets) {
        const r = p.caplen === 124 ? check(p, 1, 128) : check(p, 1, 200);
        if (typeof r === 'string') bad.push(r);
        else (p.caplen === 124 ? small : large).push(r);
      }
      break; // releases the batch: every kept frame, so every block goes back
    }
    expect(bad.slice(0, 3)).toEqual([]);
    expect(small).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(large.length).toBeGreaterThan(0);
    expect(large).toEqual(Array.from({ length: large.length }, (_, i) => i)); // the first ones, in order: none overwritten
    expect(b.heldBlocks(0)).toBe(0);
    // The ring runs again: the next frames arrive.
    await send(20, 1, 128, 2000);
    await new Promise((r) => setTimeout(r, 200));
    const s = await e.stop();
    expect(s.dropped.kernel).toBeGreaterThanOrEqual(1000 - large.length);
    expect(s.delivered).toBeGreaterThanOrEqual(30 + large.length + 20);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(b.heldBlocks(0)).toBe(0);
  });

  it('two queues (PACKET_FANOUT), two rings: every datagram of 16 flows delivered once from its own ring, both used, every block back', async () => {
    const N = 2000;
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, queues: 2, workers: 2, handler: keepUdp });
    await e.start();
    const b = e.backend as AfPacketBackend;
    const rings = b.rxRegions;
    const seqs: number[] = [];
    let misplaced = 0;
    const reading = (async () => {
      for await (const batch of e.records())
        for (const p of batch.packets) {
          // Queue q's frames point into ring q.
          const q = new DataView(p.bytes.buffer).getUint16(p.meta + META.QUEUE, true);
          if (!inside(p.data, p.caplen, [rings[q]])) misplaced++;
          const r = check(p, 16, 128);
          if (typeof r === 'number') seqs.push(r);
        }
    })();
    const s = await sendThenStop(e, () => send(N, 16), reading);
    expect(misplaced).toBe(0);
    expect(seqs.length).toBe(N);
    expect(new Set(seqs).size).toBe(N);
    expect(s.queues[0].rx_packets).toBeGreaterThan(0);
    expect(s.queues[1].rx_packets).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.pool.in_use).toBe(0);
    expect(b.heldBlocks(0) + b.heldBlocks(1)).toBe(0);
  });

  it('zeroCopy: false copies each packet into its pool frame and returns the block at once', async () => {
    const N = 1000;
    const e = new Engine({ backend: 'afpacket', iface: bed.b.iface, netns: bed.b.ns, workers: 1, backendOptions: { zeroCopy: false }, handler: keepUdp });
    await e.start();
    const b = e.backend as AfPacketBackend;
    expect(b.mode).not.toMatch(/zero-copy/);
    const pool = e.frameRegion!;
    const seqs: number[] = [];
    let inPool = 0;
    const reading = (async () => {
      for await (const batch of e.records())
        for (const p of batch.packets) {
          if (inside(p.data, p.caplen, [pool])) inPool++;
          const r = check(p, 1, 128);
          if (typeof r === 'number') seqs.push(r);
        }
    })();
    const s = await sendThenStop(e, () => send(N, 1), reading);
    expect(seqs.length).toBe(N);
    expect(inPool).toBe(N);
    expect(s.pool.in_use).toBe(0);
  });
});
