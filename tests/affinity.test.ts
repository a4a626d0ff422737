// Thread pinning and NUMA queries report what really happened (read back from the kernel).
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { kernelAddon } from '../host/backends/kernel.js';
import { artefact } from '../host/paths.js';

describe('threads and memory placement', () => {
  it('pins a worker thread to one CPU, and only that thread', async () => {
    const native = kernelAddon();
    const before = native.threadAffinity();
    const cpu = before[before.length - 1];
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads'); const n = require(${JSON.stringify(artefact('build/Release/wirewasm.node'))});
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
