// AF_PACKET on a real veth pair between two namespaces made here: every datagram the peer's
// kernel sends arrives exactly once, with its bytes intact, in TPACKET_V3 and V2 rings mapped
// into the shared memory.
import { afterAll, describe, expect, it } from 'vitest';
import { openAfPacket, afpacketKernelBytes } from '../../../host/backends/afpacket.js';
import { computeLayout, createMemory } from '../../../host/layout.js';
import { createTestbed, leftovers, type Testbed } from '../../../host/testbed.js';
import { kernelAddon } from '../../../host/backends/kernel.js';
import { expectEachDatagramOnce } from '../../support/io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));

describe.skipIf(!root)('afpacket backend (needs root)', () => {
  for (const version of [3, 2] as const) {
    it(`TPACKET_V${version}: each of 3000 datagrams arrives exactly once with the right bytes`, async () => {
      const bed = createTestbed();
      beds.push(bed);
      // Room for stalls of a busy machine: V3 hands blocks over every retireMs even when nearly empty,
      // so the ring holds blockCount × retireMs of traffic at least (here 640 ms).
      const opts = { version, blockSize: 1 << 16, blockCount: 64, frameCount: 4096, retireMs: 10, txFrames: 0 };
      const layout = computeLayout({ frameCount: 16, kernelBytesPerQueue: afpacketKernelBytes(opts) });
      const memory = createMemory(layout);
      const b = openAfPacket({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, ...opts });
      try {
        expect(b.mode).toContain(`tpacket_v${version}`);
        await expectEachDatagramOnce(bed, b, memory, 3000, 100);
        const st = b.stats();
        expect(st.rx).toBeGreaterThanOrEqual(3000);
        expect(st.drops.ringFull).toBe(0);
      } finally {
        b.close();
        bed.destroy();
      }
      expect(kernelAddon().kernelMappings().mappings).toBe(0);
    });
  }
  afterAll(() => {
    expect(leftovers('wwio').veths).toEqual([]);
  });
});
