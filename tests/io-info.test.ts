// `wirewasm info --iface`: capabilities read from the kernel agree with what rtnetlink says
// (through `ip`, a tool we did not write), XDP probing leaves nothing attached; thread pinning
// and NUMA queries report what really happened.
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { kernelAddon } from '../host/backends/kernel.js';
import { addonPath } from '../host/native.js';
import { artefact } from '../host/paths.js';
import { createTestbed } from '../host/testbed.js';

const root = process.getuid?.() === 0;
const cli = artefact('dist/host/cli/main.js');

describe.skipIf(!root)('interface capabilities (needs root)', () => {
  it('info --iface reports the queues, driver and MAC the kernel has, and XDP modes by trying', () => {
    const bed = createTestbed({ queues: 3 });
    try {
      const out = execFileSync(process.execPath, [cli, 'info', '--iface', bed.a.iface, '--netns', bed.a.ns, '--probe-xdp', '--json'], { encoding: 'utf8' });
      const c = JSON.parse(out).interface;
      const link = JSON.parse(bed.exec(bed.a.ns, 'ip', ['-d', '-j', 'link', 'show', bed.a.iface]))[0];
      expect(c.queues.rx).toBe(link.num_rx_queues);
      expect(c.queues.rx).toBe(3);
      expect(c.mac).toBe(bed.a.mac);
      expect(c.driver).toBe('veth');
      // veth: generic and native XDP work; AF_XDP zero-copy needs a real NIC (DESIGN.md).
      expect(c.xdp).toMatchObject({ attached: null, generic: true, driver: true, zeroCopy: false });
      expect(c.timestamping.hardwareReceive).toBe(false);
      // Probing left no program behind.
      expect(JSON.parse(bed.exec(bed.a.ns, 'ip', ['-j', 'link', 'show', bed.a.iface]))[0].xdp).toBeUndefined();
      const text = execFileSync(process.execPath, [cli, 'info', '--iface', bed.a.iface, '--netns', bed.a.ns], { encoding: 'utf8' });
      expect(text).toMatch(/queues\s+3 rx \/ 3 tx/);
      expect(text).toMatch(/XDP driver mode\s+not-probed/);
    } finally {
      bed.destroy();
    }
  });
});

describe('threads and memory placement', () => {
  it('pins a worker thread to one CPU, and only that thread', async () => {
    const native = kernelAddon();
    const before = native.threadAffinity();
    const cpu = before[before.length - 1];
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads'); const n = require(${JSON.stringify(addonPath())});
       n.pinThread([${cpu}]); parentPort.postMessage(n.threadAffinity());`,
      { eval: true },
    );
    const pinned = await new Promise((r) => w.once('message', r));
    await w.terminate();
    expect(pinned).toEqual([cpu]);
    expect(native.threadAffinity()).toEqual(before);
  });

  it('reports the NUMA node of a page of the shared memory (or why not), and binds a region', () => {
    const native = kernelAddon();
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
    new Uint8Array(memory.buffer)[65536] = 1; // touch the page so it has a node
    const node = native.numaNodeOf(memory, 65536);
    const nodes = execFileSync('ls', ['/sys/devices/system/node'], { encoding: 'utf8' }).split(/\s+/).filter((n) => /^node\d+$/.test(n));
    if (node >= 0) expect(nodes).toContain(`node${node}`);
    else expect(-node).toBeGreaterThan(0); // -errno: reported, not guessed
    const r = native.bindToNode(memory, 65536, 65536, Math.max(0, node));
    expect(r === 0 || r < 0).toBe(true);
    if (r === 0) expect(native.numaNodeOf(memory, 65536)).toBe(Math.max(0, node));
  });
});
