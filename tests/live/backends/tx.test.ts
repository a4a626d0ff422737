// Transmit: frames written in place into TX buffers of the shared memory (AF_XDP UMEM frames,
// AF_PACKET TX ring slots) arrive intact at a plain UDP socket of the peer, each exactly once. The
// peer's kernel checks the IPv4 and UDP checksums, and the peer compares every payload byte.
import { afterAll, describe, expect, it } from 'vitest';
import { kernelBytesFor, openBackend } from '../../../host/backends/index.js';
import { writeUdpHeaders, UDP_HEADERS } from '../../../host/backends/udpframe.js';
import { computeLayout, createMemory } from '../../../host/layout.js';
import { createTestbed, type Testbed } from '../../../host/testbed.js';
import { payload, PORT } from '../../support/io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));
const COUNT = 2000;
const SIZE = 200;

/** A plain UDP socket in the peer namespace; `received()` is how many datagrams it has taken so far. */
function peer(bed: Testbed): { ready: Promise<void>; received: () => number; result: Promise<{ seqs: number[]; bad: number }> } {
  const script = `
    ${payload.toString().replace(/: number/g, '').replace(/: Buffer/g, '')}
    const MAGIC = 0x7777696f;
    const s = require('dgram').createSocket('udp4');
    const seqs = []; let bad = 0, idle;
    s.on('message', (m) => {
      const seq = m.readUInt32BE(4);
      if (m.length !== ${SIZE} || !payload(seq, ${SIZE}).equals(m)) bad++; else seqs.push(seq);
      process.stderr.write('n' + (seqs.length + bad) + '\\n');
      clearTimeout(idle); idle = setTimeout(done, 500);
    });
    function done() { process.stdout.write(JSON.stringify({ seqs, bad })); process.exit(0); }
    s.bind(${PORT}, '${bed.b.ip}', () => { process.stderr.write('ready\\n'); idle = setTimeout(done, 10000); });`;
  const child = bed.spawn(bed.b.ns, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  let received = 0;
  const ready = new Promise<void>((r) =>
    child.stderr!.on('data', (d) => {
      const text = String(d);
      if (text.includes('ready')) r();
      const m = text.match(/n(\d+)\n(?!.*n\d)/s);
      if (m) received = Number(m[1]);
    }),
  );
  const result = new Promise<{ seqs: number[]; bad: number }>((r) => child.on('exit', () => r(JSON.parse(out || '{"seqs":[],"bad":-1}'))));
  return { ready, received: () => received, result };
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
          // Windows of 64, sent when the peer has taken the previous ones: the peer's socket buffer
          // (not under test) must not overflow on a busy machine.
          if (seq % 64 === 0) while (p.received() < seq - 64 && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
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

describe.skipIf(!root)('wirewasm gen (needs root)', () => {
  for (const backend of ['afpacket', 'afxdp'] as const) {
    it(`${backend}: --count 2000 at 20 kpps delivers seq 0..1999 once each, with CLOCK_MONOTONIC send times`, async () => {
      const { spawn } = await import('node:child_process');
      const { openAfPacket, afpacketKernelBytes } = await import('../../../host/backends/afpacket.js');
      const { artefact } = await import('../../../host/paths.js');
      const bed = createTestbed();
      beds.push(bed);
      const opts = { version: 3 as const, blockSize: 1 << 16, blockCount: 64, retireMs: 10, txFrames: 0 };
      const layout = computeLayout({ frameCount: 16, kernelBytesPerQueue: afpacketKernelBytes(opts) });
      const memory = createMemory(layout);
      const rx = openAfPacket({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, ...opts });
      try {
        const before = process.hrtime.bigint();
        // The CLI as a user runs it, in the sender's namespace; we receive meanwhile.
        const gen = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'gen', '--netns', bed.a.ns, '--iface', bed.a.iface, '--backend', backend,
          '--rate', '20000', '--size', '64', '--count', '2000', '--dst-ip', bed.b.ip, '--port', '9000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        gen.stdout.on('data', (d) => (out += d));
        gen.stderr.on('data', (d) => (err += d));
        const exited = new Promise((r) => gen.on('exit', r));
        const seen = new Map<number, number>();
        let lastTs = 0n;
        let ordered = true;
        const end = Date.now() + 10000;
        const dv = new DataView(memory.buffer);
        while (seen.size < 2000 && Date.now() < end) {
          if (!rx.wait(0, 5)) {
            await new Promise((r) => setImmediate(r)); // let the generator's pipes drain
            continue;
          }
          const n = rx.receive(0);
          for (let i = 0; i < n; i++) {
            const m = rx.rxMeta(0, i);
            const d = dv.getUint32(m, true);
            if (dv.getUint16(d + 12) !== 0x0800 || dv.getUint16(d + 36) !== 9000) continue;
            expect(dv.getUint32(m + 4, true)).toBe(60);
            const p = d + 42;
            expect(dv.getUint16(p + 16)).toBe(0x5757);
            const seq = Number(dv.getBigUint64(p));
            const ts = dv.getBigUint64(p + 8);
            expect(ts > before && ts < process.hrtime.bigint()).toBe(true);
            if (ts < lastTs) ordered = false;
            lastTs = ts;
            seen.set(seq, (seen.get(seq) ?? 0) + 1);
          }
          rx.release(0);
        }
        expect(await exited).toBe(0);
        expect(err).toBe('');
        expect(JSON.parse(out).sent).toBe(2000);
        expect(seen.size, JSON.stringify(rx.stats().drops)).toBe(2000);
        expect([...seen.keys()].every((s) => s >= 0 && s < 2000)).toBe(true);
        expect([...seen.values()].every((c) => c === 1)).toBe(true);
        expect(ordered).toBe(true);
      } finally {
        rx.close();
        bed.destroy();
      }
    });
  }
});
