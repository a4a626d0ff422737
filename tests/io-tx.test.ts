// Transmit: frames written in place into TX buffers of the shared memory (AF_XDP UMEM frames,
// AF_PACKET TX ring slots) arrive intact at a plain UDP socket of the peer, each exactly once. The
// peer's kernel checks the IPv4 and UDP checksums, and the peer compares every payload byte.
import { afterAll, describe, expect, it } from 'vitest';
import { kernelBytesFor, openBackend } from '../host/backends/index.js';
import { writeUdpHeaders, UDP_HEADERS } from '../host/backends/udpframe.js';
import { computeLayout, createMemory } from '../host/layout.js';
import { createTestbed, type Testbed } from '../host/testbed.js';
import { payload, PORT } from './io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));
const COUNT = 2000;
const SIZE = 200;

function peer(bed: Testbed): { ready: Promise<void>; result: Promise<{ seqs: number[]; bad: number }> } {
  const script = `
    ${payload.toString().replace(/: number/g, '').replace(/: Buffer/g, '')}
    const MAGIC = 0x7777696f;
    const s = require('dgram').createSocket('udp4');
    const seqs = []; let bad = 0, idle;
    s.on('message', (m) => {
      const seq = m.readUInt32BE(4);
      if (m.length !== ${SIZE} || !payload(seq, ${SIZE}).equals(m)) bad++; else seqs.push(seq);
      clearTimeout(idle); idle = setTimeout(done, 500);
    });
    function done() { process.stdout.write(JSON.stringify({ seqs, bad })); process.exit(0); }
    s.bind(${PORT}, '${bed.b.ip}', () => { process.stderr.write('ready\\n'); idle = setTimeout(done, 10000); });`;
  const child = bed.spawn(bed.b.ns, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const ready = new Promise<void>((r) => child.stderr!.on('data', (d) => String(d).includes('ready') && r()));
  const result = new Promise<{ seqs: number[]; bad: number }>((r) => child.on('exit', () => r(JSON.parse(out || '{"seqs":[],"bad":-1}'))));
  return { ready, result };
}

describe.skipIf(!root)('transmit (needs root)', () => {
  for (const [name, options] of [
    ['afxdp', { xdpMode: 'skb' }],
    ['afpacket', { version: 3, txFrames: 256 }],
  ] as const) {
    it(`${name}: ${COUNT} frames written in place arrive intact at the peer's UDP socket, once each`, async () => {
      const bed = createTestbed();
      beds.push(bed);
      const frameCount = 1024;
      const layout = computeLayout({ frameCount, kernelBytesPerQueue: kernelBytesFor(name, { frameCount, ...options }) });
      const memory = createMemory(layout);
      const b = openBackend(name, { iface: bed.a.iface, netns: bed.a.ns, memory, layout, ...options });
      const p = peer(bed);
      await p.ready;
      const ends = { srcMac: bed.a.mac, dstMac: bed.b.mac, srcIp: bed.a.ip, dstIp: bed.b.ip, srcPort: 40000, dstPort: PORT };
      try {
        let seq = 0;
        const end = Date.now() + 10000;
        while (seq < COUNT && Date.now() < end) {
          const k = b.txReserve(0, Math.min(32, COUNT - seq, 64 - (seq % 64)));
          const addrs = new Uint32Array(memory.buffer, b.queues[0].txAddrs, k);
          const lens = new Uint32Array(memory.buffer, b.queues[0].txLens, k);
          for (let i = 0; i < k; i++) {
            const buf = new Uint8Array(memory.buffer, addrs[i], UDP_HEADERS + SIZE);
            buf.set(payload(seq + i, SIZE), UDP_HEADERS);
            lens[i] = writeUdpHeaders(buf, ends, SIZE, seq + i);
          }
          seq += b.txSubmit(0, k);
          if (k === 0) b.flush(0, 10);
          // Pace so the peer's socket buffer (not under test) does not overflow.
          if (seq % 64 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        expect(b.flush(0, 2000)).toBe(true);
        expect(b.stats().tx).toBe(COUNT);
      } finally {
        b.close();
      }
      const r = await p.result;
      expect(r.bad).toBe(0);
      expect(new Set(r.seqs).size).toBe(COUNT);
      expect(r.seqs.length).toBe(COUNT);
      bed.destroy();
    });
  }
});
