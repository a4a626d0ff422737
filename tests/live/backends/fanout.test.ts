// PACKET_FANOUT: two sockets of one group, each walked by its own worker thread over the one
// shared memory; every datagram is delivered to exactly one of them, and both get a share.
// And teardown: a worker that opened rings and is terminated leaves no mapping behind; a process
// that dies midway leaves no namespace, veth or program behind.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { afpacketKernelBytes, openAfPacket } from '../../../host/backends/afpacket.js';
import { kernelAddon } from '../../../host/backends/kernel.js';
import { computeLayout, createMemory } from '../../../host/layout.js';
import { artefact } from '../../../host/paths.js';
import { createTestbed, leftovers, type Testbed } from '../../../host/testbed.js';
import { compileEngine } from '../../../host/wasm.js';
import { WorkerSet } from '../../../host/workers/threads.js';
import { PORT, sendUdp } from '../../support/io-helpers.js';

const root = process.getuid?.() === 0;
const beds: Testbed[] = [];
afterAll(() => beds.forEach((b) => b.destroy()));
const fixture = (f: string) => new URL(`../../support/fixtures/${f}`, import.meta.url);

describe.skipIf(!root)('fanout and teardown (needs root)', () => {
  for (const [fanout, flows] of [['hash', 16], ['rr', 1]] as const)
  it(`fanout ${fanout} over 2 workers: each of 4000 datagrams (${flows} flow${flows > 1 ? 's' : ''}) is delivered exactly once`, async () => {
    const bed = createTestbed();
    beds.push(bed);
    const opts = { version: 3 as const, blockSize: 1 << 16, blockCount: 64, retireMs: 10, txFrames: 0, fanout };
    const layout = computeLayout({ queues: 2, workers: 2, frameCount: 16, scratchBytes: 4096, kernelBytesPerQueue: afpacketKernelBytes(opts) });
    const memory = createMemory(layout);
    const b = openAfPacket({ iface: bed.b.iface, netns: bed.b.ns, memory, layout, queues: 2, ...opts });
    const stopAddr = layout.scratch.offset;
    const countAddr = stopAddr + 64;
    const i32 = new Int32Array(memory.buffer);
    try {
      expect(b.mode).toContain(`fanout ${fanout} x2`);
      const pool = new WorkerSet<number[]>({
        count: 2, memory, module: compileEngine(), controlBlock: layout.controlBlock, task: fixture('io-fanout-task.mjs'),
        args: (i: number) => ({ state: b.queues[i].state, rxAddrs: b.queues[i].rxAddrs, fd: b.queues[i].fd, stopAddr, countAddr, port: PORT }),
      });
      const sent = await sendUdp(bed, bed.a.ns, bed.b.ip, 4000, 64, PORT, flows);
      expect(sent).toBe(0);
      const end = Date.now() + 10000;
      while (Atomics.load(i32, countAddr >> 2) + Atomics.load(i32, (countAddr >> 2) + 1) < 4000 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50)); // a duplicate, if any, would arrive now
      Atomics.store(i32, stopAddr >> 2, 1);
      const [w0, w1] = await pool.done;
      const all = [...w0, ...w1];
      expect(new Set(all).size, JSON.stringify(b.stats().drops)).toBe(4000);
      expect(all.length).toBe(4000);
      expect(w0.length).toBeGreaterThan(0);
      expect(w1.length).toBeGreaterThan(0);
    } finally {
      Atomics.store(i32, stopAddr >> 2, 1);
      b.close();
      bed.destroy();
    }
  });

  it('a worker that opened rings and is terminated leaves no mapping, and the memory stays usable', async () => {
    const bed = createTestbed();
    beds.push(bed);
    const options = { version: 2 as const, frameCount: 256, txFrames: 64 };
    const layoutConfig = { frameCount: 16, kernelBytesPerQueue: afpacketKernelBytes(options) };
    const layout = computeLayout(layoutConfig);
    const memory = createMemory(layout);
    let opened = '';
    const pool = new WorkerSet({
      count: 1, memory, module: compileEngine(), controlBlock: layout.controlBlock, task: fixture('io-open-task.mjs'),
      args: { layoutConfig, iface: bed.b.iface, netns: bed.b.ns, options },
      onMessage: (_i, m) => (opened = (m as { opened: string }).opened),
    });
    pool.done.catch(() => {});
    const end = Date.now() + 10000;
    while (!opened && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(opened).toContain('tpacket_v2');
    expect(kernelAddon().kernelMappings().mappings).toBe(2);
    await pool.terminate();
    expect(kernelAddon().kernelMappings()).toEqual({ handles: 0, mappings: 0, fds: 0 });
    // Anonymous pages are back where the ring was: readable and writable, no hole.
    const ring = new Uint8Array(memory.buffer, layout.kernel[0].offset, 4096);
    ring[0] = 42;
    expect(ring[0]).toBe(42);
    expect(Atomics.add(new Int32Array(memory.buffer, layout.kernel[0].offset, 4), 1, 1)).toBe(0);
    bed.destroy();
  });

  it('a process that fails midway (uncaught error with AF_XDP open) leaves nothing behind', () => {
    const script = `import { createTestbed } from ${JSON.stringify(artefact('dist/host/testbed.js'))};
      import { openAfXdp, afxdpKernelBytes } from ${JSON.stringify(artefact('dist/host/backends/afxdp.js'))};
      import { computeLayout, createMemory } from ${JSON.stringify(artefact('dist/host/layout.js'))};
      const bed = createTestbed();
      const layout = computeLayout({ frameCount: 1024, kernelBytesPerQueue: afxdpKernelBytes({ frameCount: 1024 }) });
      const b = openAfXdp({ iface: bed.b.iface, netns: bed.b.ns, memory: createMemory(layout), layout, xdpMode: 'drv' });
      console.log(bed.b.ns + ' ' + b.mode);
      throw new Error('simulated failure midway');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('simulated failure midway');
    const [ns, ...mode] = r.stdout.trim().split(' ');
    expect(mode.join(' ')).toContain('afxdp drv');
    expect(leftovers('wwio', 'any').namespaces).not.toContain(ns);
    expect(leftovers('wwio', 'any').veths.filter((v) => v.startsWith(ns.replaceAll('-', '').slice(0, -1)))).toEqual([]);
  });
});
