// A filter expression attached in the kernel to an AF_PACKET socket (SO_ATTACH_FILTER) on a real
// veth pair: the frames it rejects never reach the ring (the ring's own count shows only the
// accepted ones), and Linux ancillary loads the WASM translation refuses run there.
import { afterAll, describe, expect, it } from 'vitest';
import { afpacketKernelBytes, openAfPacket } from '../../host/backends/afpacket.js';
import { attachSocketFilter, compileExpression, encodeBpf } from '../../host/filter/index.js';
import { computeLayout, createMemory } from '../../host/layout.js';
import { createTestbed, leftovers, type Testbed } from '../../host/testbed.js';
import { MAGIC, PORT, receiveAll, sendUdp } from '../support/io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));

function open(bed: Testbed, filter?: Uint8Array) {
  const opts = { version: 3 as const, blockSize: 1 << 16, blockCount: 32, frameCount: 2048, retireMs: 10, txFrames: 0 };
  const layout = computeLayout({ frameCount: 16, kernelBytesPerQueue: afpacketKernelBytes(opts) });
  const memory = createMemory(layout);
  return { memory, b: openAfPacket({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, filter, ...opts }) };
}

describe.skipIf(!root)('filters attached to AF_PACKET sockets (root, veth)', () => {
  it('only the datagrams the expression accepts reach the ring', async () => {
    const bed = createTestbed({ prefix: 'wwflt' });
    beds.push(bed);
    // Accept the test datagrams with an even sequence number (payload: magic, then seq); attached
    // when the socket opens, before bind(), so nothing else ever reaches the ring.
    const insns = compileExpression(`udp dst port ${PORT} and udp[8:4] = ${MAGIC} and udp[12:4] & 1 = 0`, { linktype: 1 });
    const { memory, b } = open(bed, encodeBpf(insns));
    try {
      const count = 400;
      const sent = sendUdp(bed, bed.a.ns, bed.b.ip, count, 64);
      const got = receiveAll(b, memory, 0, bed.b.ip, 64, count / 2, 15000);
      expect(await sent).toBe(0);
      receiveAll(b, memory, 0, bed.b.ip, 64, count, 300, got); // anything late
      expect(got.bad).toEqual([]);
      expect([...got.seqs.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: count / 2 }, (_, i) => i * 2));
      // The ring saw nothing else: no odd datagram, no ARP, no IPv6 neighbour discovery.
      expect(b.stats().rx).toBe(count / 2);
    } finally {
      b.close();
      bed.destroy();
    }
  });

  it('runs the ancillary loads the engine refuses (`inbound`) in the kernel', async () => {
    const bed = createTestbed({ prefix: 'wwflt' });
    beds.push(bed);
    const { memory, b } = open(bed);
    try {
      attachSocketFilter(b.queues[0].fd, compileExpression(`inbound and udp dst port ${PORT}`, { linktype: 1 }));
      const sent = sendUdp(bed, bed.a.ns, bed.b.ip, 100, 64);
      const got = receiveAll(b, memory, 0, bed.b.ip, 64, 100, 15000);
      expect(await sent).toBe(0);
      expect(got.seqs.size).toBe(100);
      expect(b.stats().rx).toBe(100);
    } finally {
      b.close();
      bed.destroy();
    }
  });

  it('the kernel refuses what it cannot run, with its errno', () => {
    const bed = createTestbed({ prefix: 'wwflt' });
    beds.push(bed);
    expect(() => open(bed, encodeBpf(compileExpression('ip6 protochain 6', { linktype: 1 })))).toThrow(/SO_ATTACH_FILTER \(the kernel refuses this BPF program\).*Invalid argument/);
    const { b } = open(bed);
    try {
      expect(() => attachSocketFilter(b.queues[0].fd, compileExpression('ip6 protochain 6', { linktype: 1 }))).toThrow(/SO_ATTACH_FILTER: Invalid argument/);
    } finally {
      b.close();
      bed.destroy();
    }
  });

  afterAll(() => {
    expect(leftovers('wwflt').veths).toEqual([]);
  });
});
