// AF_XDP on a real veth pair between two namespaces made here, in generic (skb) and native (drv)
// mode: every datagram arrives exactly once, with its bytes intact, in UMEM frames of the shared
// memory, and teardown leaves no program, socket or mapping behind.
import { afterAll, describe, expect, it } from 'vitest';
import { afxdpKernelBytes, openAfXdp } from '../../../host/backends/afxdp.js';
import { kernelAddon } from '../../../host/backends/kernel.js';
import { computeLayout, createMemory } from '../../../host/layout.js';
import { createTestbed, leftovers, type Testbed } from '../../../host/testbed.js';
import { expectEachDatagramOnce, expectEachOnce, receiveAll, sendUdp } from '../../support/io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));

function xdpProgramOn(bed: Testbed): unknown {
  const link = JSON.parse(bed.exec(bed.b.ns, 'ip', ['-j', 'link', 'show', bed.b.iface]))[0] as { xdp?: unknown };
  return link.xdp;
}

describe.skipIf(!root)('afxdp backend (needs root)', () => {
  for (const xdpMode of ['skb', 'drv'] as const) {
    it(`${xdpMode} mode: each of 3000 datagrams arrives exactly once with the right bytes`, async () => {
      const bed = createTestbed();
      beds.push(bed);
      const frameCount = 4096;
      const layout = computeLayout({ frameCount, kernelBytesPerQueue: afxdpKernelBytes({ frameCount }) });
      const memory = createMemory(layout);
      const b = openAfXdp({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, xdpMode });
      try {
        expect(b.mode).toContain(`afxdp ${xdpMode} copy`);
        expect(xdpProgramOn(bed)).toBeDefined();
        await expectEachDatagramOnce(bed, b, memory, 3000, 100);
        const st = b.stats();
        expect(st.drops.fillRingEmpty).toBe(0);
        expect(st.drops.ringFull).toBe(0);
      } finally {
        b.close();
      }
      // Teardown: the program is detached, and nothing is left mapped into the memory.
      expect(xdpProgramOn(bed)).toBeUndefined();
      expect(kernelAddon().kernelMappings()).toEqual({ handles: 0, mappings: 0, fds: 0 });
      bed.destroy();
    });
  }
  it('two queues, two sockets sharing one UMEM (XDP_SHARED_UMEM): 4000 datagrams of 16 flows arrive once each', async () => {
    const bed = createTestbed({ queues: 2 });
    beds.push(bed);
    const frameCount = 4096;
    const layout = computeLayout({ queues: 2, frameCount, kernelBytesPerQueue: afxdpKernelBytes({ frameCount, queues: 2 }) });
    const memory = createMemory(layout);
    const b = openAfXdp({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, xdpMode: 'drv' });
    try {
      expect(b.mode).toContain('x2');
      const sent = sendUdp(bed, bed.a.ns, bed.b.ip, 4000, 100, undefined, 16);
      const got = { seqs: new Map<number, number>(), bad: [] as string[] };
      const perQueue = [0, 0];
      const end = Date.now() + 15000;
      while (got.seqs.size < 4000 && Date.now() < end) {
        for (const q of [0, 1]) {
          const before = got.seqs.size;
          receiveAll(b, memory, q, bed.b.ip, 100, got.seqs.size + 1, 2, got);
          perQueue[q] += got.seqs.size - before;
        }
        await new Promise((r) => setImmediate(r));
      }
      expect(await sent).toBe(0);
      expectEachOnce(got, 4000, b);
      expect(perQueue[0]).toBeGreaterThan(0);
      expect(perQueue[1]).toBeGreaterThan(0);
    } finally {
      b.close();
      bed.destroy();
    }
    expect(kernelAddon().kernelMappings()).toEqual({ handles: 0, mappings: 0, fds: 0 });
  });

  afterAll(() => {
    expect(leftovers('wwio')).toEqual({ namespaces: [], veths: [] });
  });
});
