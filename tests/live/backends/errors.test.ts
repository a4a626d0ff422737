// One test per configuration error: each is provoked for real, and the message must name the
// cause and the fix.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelBytesFor, openBackend, BackendError } from '../../../host/backends/index.js';
import { computeLayout, createMemory } from '../../../host/layout.js';
import { artefact } from '../../../host/paths.js';
import { createTestbed, type Testbed } from '../../../host/testbed.js';

const root = process.getuid?.() === 0;

function reasonOf(f: () => unknown): BackendError {
  try {
    const b = f() as { close?: () => void };
    b?.close?.();
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    return e as BackendError;
  }
  throw new Error('expected a BackendError, but the backend opened');
}

describe.skipIf(!root)('backend configuration errors (needs root)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = createTestbed();
  });
  afterAll(() => bed?.destroy());
  const mem = (name: string, opts: Record<string, unknown> = {}) => {
    const layout = computeLayout({ frameCount: 1024, kernelBytesPerQueue: kernelBytesFor(name, { frameCount: 1024, ...opts }) });
    return { layout, memory: createMemory(layout) };
  };

  it('no such interface: names the interface and says how to list them', () => {
    const e = reasonOf(() => openBackend('afpacket', { iface: 'wwionope0', netns: bed.b.ns, ...mem('afpacket') }));
    expect(e.reason).toBe('no-such-interface');
    expect(e.message).toMatch(/no such interface "wwionope0" in network namespace wwio-.*; check the name with `ip link`/);
  });

  it('interface down: names it and gives the command that brings it up', () => {
    bed.exec(bed.a.ns, 'ip', ['link', 'set', bed.a.iface, 'down']);
    try {
      const e = reasonOf(() => openBackend('afxdp', { iface: bed.a.iface, netns: bed.a.ns, ...mem('afxdp') }));
      expect(e.reason).toBe('interface-down');
      expect(e.message).toContain(`interface ${bed.a.iface} is down; bring it up: \`ip link set dev ${bed.a.iface} up\``);
    } finally {
      bed.exec(bed.a.ns, 'ip', ['link', 'set', bed.a.iface, 'up']);
    }
  });

  it('missing privilege: a process without capabilities is told which ones and how to grant them', () => {
    // The same uid 0, but with every capability dropped (bounding set emptied before exec).
    const script = `import { openBackend, kernelBytesFor } from ${JSON.stringify(artefact('dist/host/backends/index.js'))};
      import { computeLayout, createMemory } from ${JSON.stringify(artefact('dist/host/layout.js'))};
      const layout = computeLayout({ frameCount: 1024, kernelBytesPerQueue: kernelBytesFor('afxdp', { frameCount: 1024 }) });
      try { openBackend('afxdp', { iface: 'lo', memory: createMemory(layout), layout }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ reason: e.reason, message: e.message })); }`;
    const r = spawnSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const e = JSON.parse(r.stdout);
    expect(e.reason).toBe('missing-privilege');
    expect(e.message).toMatch(/afxdp on lo: missing privilege CAP_NET_RAW \+ CAP_NET_ADMIN \+ CAP_BPF .*run as root, or grant the capabilities: `sudo setcap/);
  });

  it('XDP program already attached by someone else: says so and how to detach it', () => {
    const first = openBackend('afxdp', { iface: bed.b.iface, netns: bed.b.ns, xdpMode: 'drv', ...mem('afxdp') });
    try {
      const e = reasonOf(() => openBackend('afxdp', { iface: bed.b.iface, netns: bed.b.ns, xdpMode: 'drv', ...mem('afxdp') }));
      expect(e.reason).toBe('xdp-busy');
      expect(e.message).toContain(`an XDP program is already attached to ${bed.b.iface} by someone else`);
      expect(e.message).toContain(`ip link set dev ${bed.b.iface} xdp off`);
    } finally {
      first.close();
    }
  });

  it('ring sizes not powers of two: names the field, the rule and the nearest valid size', () => {
    const e = reasonOf(() => openBackend('afpacket', { iface: bed.b.iface, netns: bed.b.ns, blockCount: 10, ...mem('afpacket') }));
    expect(e.reason).toBe('ring-size');
    expect(e.message).toBe('afpacket: ring size blockCount: got 10; use a power of two from 2 to 65536 (nearest: 8)');
    const x = reasonOf(() => openBackend('afxdp', { iface: bed.b.iface, netns: bed.b.ns, fillSize: 1000, ...mem('afxdp') }));
    expect(x.reason).toBe('ring-size');
    expect(x.message).toMatch(/afxdp: ring size fillSize: got 1000; use a power of two .*\(nearest: 1024\)/);
  });

  it('memory map too small: says how many bytes per queue the rings need and how to reserve them', () => {
    const layout = computeLayout({ frameCount: 1024 }); // no kernelBytesPerQueue
    const need = kernelBytesFor('afpacket', {});
    const e = reasonOf(() => openBackend('afpacket', { iface: bed.b.iface, netns: bed.b.ns, memory: createMemory(layout), layout }));
    expect(e.reason).toBe('memory-too-small');
    expect(e.message).toContain(`reserves 0 bytes per queue for kernel rings but these ring sizes need ${need}; create the layout with kernelBytesPerQueue: ${need}`);
  });
});
