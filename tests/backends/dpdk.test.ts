// The DPDK backend without privileges or interfaces: EAL and a net_null port (which "receives" at
// full speed into buffers from our mempool). Each scenario runs in its own process (EAL starts once
// per process): see tests/support/dpdk-child.mjs.
import { describe, expect, it } from 'vitest';
import { computeLayout, RegionKind } from '../../host/layout.js';
import { checkPort, DPDK_UNAVAILABLE, dpdkInfo } from '../../host/backends/dpdk.js';
import { dpdkBuilt, runDpdkChild } from '../support/dpdk.js';
import { execFileSync } from 'node:child_process';
import { artefact } from '../../host/paths.js';

describe('dpdk layout', () => {
  it('places the DPDK frames after the pool, 4 KiB aligned, with a metadata record and a return-ring slot for each', () => {
    const l = computeLayout({ frameCount: 1024, queues: 2, dpdk: { frames: 3000 } });
    const d = l.dpdk!;
    expect(d.region.kind).toBe(RegionKind.Dpdk);
    expect(d.region.offset % 4096).toBe(0);
    expect(d.region.size).toBe(3000 * 4096);
    expect(d.frameBase).toBe(1024);
    expect(l.meta.size).toBe((1024 + 3000) * 64);
    expect(d.returnRings.map((r) => [r.name, r.slots, r.flags])).toEqual([['dpdk-return0', 4096, 1], ['dpdk-return1', 4096, 1]]);
    // No region overlaps another.
    const spans = l.regions.map((r) => [r.offset, r.offset + r.size]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(l.totalBytes).toBeGreaterThanOrEqual(d.region.offset + d.region.size);
  });

  it('a layout without dpdk is unchanged', () => {
    const a = computeLayout({ frameCount: 1024 });
    expect(a.dpdk).toBeUndefined();
    expect(a.rings.map((r) => r.name)).toEqual(['rx0', 'free']);
    expect(a.meta.size).toBe(1024 * 64);
  });

  it('rejects a stride that is not a power of two, naming the fix', () => {
    expect(() => computeLayout({ dpdk: { frames: 1024, stride: 3000 } })).toThrow(/dpdk\.stride: got 3000; use a power of two from 2048 to 65536/);
  });
});

describe('dpdk port strings', () => {
  it('adds the queue count to af_packet and af_xdp devices', () => {
    expect(checkPort('net_af_packet0,iface=veth1', 2)).toBe('net_af_packet0,iface=veth1,qpairs=2');
    expect(checkPort('net_af_xdp0,iface=veth1', 1)).toBe('net_af_xdp0,iface=veth1,queue_count=1');
    expect(checkPort('0000:01:00.0', 4)).toBe('0000:01:00.0');
  });
  it('refuses an af_packet block size the PMD would stall on, and a device without its interface', () => {
    expect(() => checkPort('net_af_packet0,iface=x,blocksz=4096,framesz=3000', 1)).toThrow(/not a multiple of framesz 3000/);
    expect(() => checkPort('net_af_xdp0', 1)).toThrow(/needs the interface: "net_af_xdp0,iface=eth0"/);
    expect(() => checkPort('eth0', 1)).toThrow(/neither a PCI address nor a virtual device/);
  });
});

describe('dpdk availability', () => {
  it('reports the DPDK version when the addon is built, else the install hint', () => {
    const info = dpdkInfo();
    if (dpdkBuilt) {
      expect(info.available).toBe(true);
      expect(info.version).toMatch(/^DPDK 2\d\.\d+/);
    } else {
      expect(info.available).toBe(false);
      expect(info.reason).toContain(DPDK_UNAVAILABLE);
    }
  });
});

describe('wirewasm info', () => {
  it('reports whether DPDK is available and its version; with --probe-dpdk, the ports EAL sees', () => {
    const run = (...a: string[]) => JSON.parse(execFileSync(process.execPath, [artefact('dist/host/cli/main.js'), 'info', '--json', ...a], { encoding: 'utf8' })).dpdk;
    const info = run();
    expect(info.available).toBe(dpdkBuilt);
    if (!dpdkBuilt) return expect(info.reason).toContain(DPDK_UNAVAILABLE);
    expect(info.version).toMatch(/^DPDK 22\.11|^DPDK 2[3-9]\./);
    expect(info.ports).toEqual([]); // EAL not started: no ports known yet
    const probed = run('--probe-dpdk');
    // EAL started (no reason given) and probed only the NICs bound to a DPDK driver: with none
    // (virtual devices are added per port, later), it sees no port at all.
    expect(probed.reason).toBeUndefined();
    expect(Array.isArray(probed.ports)).toBe(true);
    if (probed.pciDevices.length === 0) expect(probed.ports).toEqual([]);
  });
});

describe.runIf(dpdkBuilt)('dpdk on net_null (real EAL and PMD, no privileges needed)', () => {
  it('receives into the rx ring from mbufs inside the WASM memory, takes released frames back, and opens/closes 100 times in one process', async () => {
    const child = runDpdkChild('null', { cycles: 100 });
    const r = await child.waitFor('null', 90_000);
    // rte_eal_init pinned the thread to one CPU; the process's affinity is back.
    expect(r.after).toBe(r.before);
    // Every frame checked in the child (index in the DPDK range, data inside its own frame, never
    // delivered twice while held, refcnt 1, 64-byte null packets, timestamped).
    expect(r.got).toBeGreaterThanOrEqual(20000);
    // Mempool object i is frame i: the packet data of frame f is at region + i * stride + mbuf
    // header + headroom, inside the shared memory.
    expect(r.firstData).toBe(r.region.offset + (r.firstFrame - r.frameBase) * r.stride + r.dataOffset);
    expect(r.stats1.badReturns).toBe(0);
    // Frames given back went into the mempool (a return ring drained by the poll thread).
    expect(r.stats1.returned).toBeGreaterThan(r.got - 600);
    expect(r.stats1.packets).toBeGreaterThanOrEqual(r.got);
    // Holding every frame starves the PMD: the mempool has less than a burst left and nothing
    // more arrives...
    expect(r.held).toBeGreaterThan(1500);
    expect(r.held).toBeLessThanOrEqual(2048);
    expect(r.stillDry.mempoolAvailable).toBeLessThan(32);
    expect(r.stillDry.packets).toBe(r.dry.packets);
    // ...until they come back.
    expect(r.resumed).toBeGreaterThanOrEqual(1000);
    const c = await child.waitFor('cycles', 120_000);
    expect(c.cycles).toBe(100);
    expect(c.openPorts).toBe(0);
    expect(c.eal.already).toBe(true);
    const end = await child.exited;
    expect(end.code).toBe(0);
  }, 240_000);

  it('adaptive polling sleeps when idle and still receives', async () => {
    const child = runDpdkChild('null', { cycles: 1, mode: 'adaptive' });
    const r = await child.waitFor('null', 90_000);
    expect(r.mode).toContain('adaptive');
    expect(r.got).toBeGreaterThanOrEqual(20000);
    // While every frame was held the poll thread found nothing and slept.
    expect(r.stillDry.sleeps).toBeGreaterThan(0);
    expect((await child.exited).code).toBe(0);
  }, 120_000);

  it('works behind the frame-backend interface (openBackend): bursts of metadata addresses, released back, twice in one process', async () => {
    const child = runDpdkChild('backend', {});
    const r = await child.waitFor('backend', 90_000);
    for (const run of r.runs) {
      expect(run.waited).toBe(true);
      expect(run.got).toBeGreaterThanOrEqual(10000);
      expect(run.bad).toBe(0);
      expect(run.rx).toBeGreaterThanOrEqual(run.got);
      expect(run.mode).toContain('net_null');
      expect(run.txError).toMatch(/use DpdkSource\.transmit/);
    }
    // EAL started for virtual devices (--no-pci) cannot take a NIC later in the same process.
    expect(r.pciError).toMatch(/EAL already runs in this process with --no-pci .* open the PCI port 0000:00:00\.0 first, or in a process of its own/);
    expect((await child.exited).code).toBe(0);
  }, 120_000);
});
