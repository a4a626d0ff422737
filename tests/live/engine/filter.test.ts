// The engine's `filter` expression on live sources, on a real veth pair in namespaces this test
// makes: datagrams from the kernel's own UDP stack in the peer namespace, the expression accepting
// those with an even sequence number. AF_PACKET runs it in the kernel (rejected packets never
// reach the ring: the engine receives nothing else); AF_XDP runs it in the workers (rejected
// frames counted as filtered). Needs root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../../../host/capture.js';
import { Engine } from '../../../host/engine/engine.js';
import { createTestbed, leftovers, type Testbed } from '../../../host/testbed.js';
import { expectAccounted, sendThenStop } from '../../support/delivery.js';
import { MAGIC, PORT, payload, sendUdp } from '../../support/io-helpers.js';

const root = process.getuid?.() === 0;
const seqFixture = new URL('../../support/fixtures/engine-seq.mjs', import.meta.url).pathname;
const N = 2000;
const EVEN = `udp dst port ${PORT} and udp[8:4] = ${MAGIC} and udp[12:4] & 1 = 0`;

describe.skipIf(!root)('engine filter on live sources (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed({ prefix: 'wwfe' });
  });
  afterAll(() => {
    bed?.destroy();
    expect(leftovers('wwfe').veths).toEqual([]);
  });

  async function run(backend: 'afpacket' | 'afxdp') {
    const seen = new SharedArrayBuffer(4 * N);
    const e = new Engine({ backend, iface: bed.b.iface, netns: bed.b.ns, workers: 2, filter: EVEN, handler: seqFixture, handlerArgs: { seen } });
    await e.start();
    const s = await sendThenStop(e, async () => expect(await sendUdp(bed, bed.a.ns, bed.b.ip, N, 64)).toBe(0));
    const counts = new Uint32Array(seen);
    // Each even datagram delivered once, no odd one ever.
    expect([...counts.keys()].filter((i) => counts[i] !== (i % 2 ? 0 : 1))).toEqual([]);
    expectAccounted(s);
    return s;
  }

  it('afpacket: the kernel runs the filter, so the ring receives only the accepted datagrams', async () => {
    const s = await run('afpacket');
    expect(s.rx_packets).toBe(N / 2);
    expect(s.delivered).toBe(N / 2);
    expect(s.dropped.filtered).toBe(0);
  });

  it.each(['afpacket', 'afxdp'] as const)('capture --backend %s EXPRESSION: the file holds exactly the accepted datagrams', async (backend) => {
    const stop = new AbortController();
    const run = capture({ iface: bed.b.iface, netns: bed.b.ns, backend, durationS: 30, filter: EVEN, signal: stop.signal, keepRecords: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await sendUdp(bed, bed.a.ns, bed.b.ip, N, 64)).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    const r = await run;
    const seqs = r.records.map((x) => Buffer.from(x.data.subarray(42)).readUInt32BE(4));
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: N / 2 }, (_, i) => 2 * i));
    // Each one whole, as sent.
    for (const x of r.records) expect(Buffer.from(x.data.subarray(42)).equals(payload(Buffer.from(x.data.subarray(42)).readUInt32BE(4), 64))).toBe(true);
    if (backend === 'afpacket') expect(r.received).toBe(N / 2); // the kernel kept the rest off the ring
    else expect(r.filtered).toBe(r.received - N / 2);
  });

  it('afxdp: the workers run the filter and count every rejected frame as filtered', async () => {
    const s = await run('afxdp');
    expect(s.delivered).toBe(N / 2);
    expect(s.dropped.filtered).toBeGreaterThanOrEqual(N / 2);
    expect(s.dropped.filtered).toBe(s.rx_packets - N / 2);
  });
});
