// The engine with a DPDK port as its source, on net_null (DPDK's null PMD: frames without end, no
// root, no interface): the poll threads put mbufs from the engine's memory on its rx rings, the
// workers deliver them, and every frame comes back to the mempool. Each scenario runs in a process
// of its own (tests/support/dpdk-engine-child.mjs): EAL starts once per process.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { Engine, EngineConfigError } from '../../host/engine/engine.js';
import { dpdkBuilt, runDpdkChild } from '../support/dpdk.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [artefact('dist/host/cli/main.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
const child = (scenario: string, options: object) => runDpdkChild(scenario, options, undefined, 'dpdk-engine-child.mjs');

describe('engine backend dpdk: configuration', () => {
  it('refuses a dpdk backend without a port, with dpdk.queues, iface, netns or a tx rate, naming the fix', () => {
    expect(() => new Engine({ backend: 'dpdk' })).toThrow(/dpdk\.port: 'net_af_xdp0,iface=eth0'/);
    expect(() => new Engine({ backend: 'dpdk', dpdk: { port: 'net_null0', queues: 2 } as never })).toThrow(/set queues, not dpdk\.queues/);
    expect(() => new Engine({ backend: 'dpdk', iface: 'eth0', dpdk: { port: 'net_null0' } })).toThrow(/net_af_packet0,iface=eth0/);
    expect(() => new Engine({ backend: 'dpdk', netns: 'x', dpdk: { port: 'net_null0' } })).toThrow(/ip netns exec/);
    expect(() => new Engine({ backend: 'dpdk', tx: { rate: 1000 }, dpdk: { port: 'net_null0' } })).toThrow(EngineConfigError);
    expect(() => new Engine({ backend: 'dpdk', dpdk: { port: 'net_null0', stride: 3000 } })).toThrow(/dpdk\.stride: got 3000; use a power of two/);
    expect(() => new Engine({ backend: 'afxdp', iface: 'eth0', dpdk: { port: 'net_null0' } })).toThrow(/set backend: 'dpdk' or drop dpdk/);
    expect(new Engine({ backend: 'dpdk', queues: 2, dpdk: { port: 'net_null0' } }).config.dpdk).toMatchObject({ frames: 16384, stride: 4096 });
  });
});

describe.runIf(dpdkBuilt)('engine backend dpdk on net_null (no root)', () => {
  it('every frame received is delivered or counted dropped with its reason; rx time stamped by the poll threads; every mbuf back in the mempool at stop', async () => {
    const c = child('run', { port: 'net_null0', frames: 8192, runMs: 1500, workers: 2, queues: 2 });
    const r = await c.waitFor('done', 60_000);
    expect((await c.exited).code).toBe(0);
    const s = r.stats;
    expect(s.rx_packets).toBeGreaterThan(10_000);
    // Counted while running (the source loop folds the poll threads' counters), not only at stop.
    expect(r.midRx).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    // net_null outruns two workers on a shared machine: what is lost is ring_full (the rx ring), nothing else.
    expect(s.dropped_total).toBe(s.dropped.ring_full);
    expect(s.workers.every((w: { delivered: number }) => w.delivered > 0)).toBe(true);
    // Latency from the poll thread's stamp (engine clock) to the handler's return: positive, below the run.
    expect(s.latency_ns.count).toBe(s.delivered);
    expect(s.latency_ns.p50).toBeGreaterThan(0);
    // Unstamped frames would read as old as the engine (p50 near the run's 0.75 s).
    expect(s.latency_ns.p50).toBeLessThan(1e8);
    expect(s.latency_ns.p99).toBeLessThan(1.5e9);
    expect(r.closeReport).toMatchObject({ notReturned: 0, inUse: 0 });
    expect(r.closeReport.returned).toBeGreaterThanOrEqual(s.delivered);
    expect(r.openPorts).toBe(0);
    expect(r.warnings).toEqual([]);
  }, 90_000);

  // The dying worker may be ended inside a release whose return-ring claim the host then publishes:
  // the frame is back in its queue (and may be received again at once), so recovery must not
  // release it a second time, or one mbuf goes back to the mempool twice (notReturned reads -1).
  it('a worker killed while frames flow: what it held comes back (recovered, counted), it restarts, the books close and every mbuf is back', async () => {
    const c = child('run', { port: 'net_null0', frames: 4096, runMs: 2000, workers: 2, killWorker: true });
    const r = await c.waitFor('done', 60_000);
    expect((await c.exited).code).toBe(0);
    expect(r.exits).toHaveLength(1);
    expect(r.exits[0]).toMatchObject({ worker: 0, restarted: true });
    const s = r.stats;
    expect(s.workers[0].delivered).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.in_flight).toBe(0);
    expect(s.pool.in_use).toBe(0);
    expect(r.closeReport).toMatchObject({ notReturned: 0, inUse: 0 });
    expect(r.warnings).toEqual([]);
  }, 90_000);

  it('100 engines started and stopped in one process on one EAL: each receives, closes its books, returns every mbuf; no port left open; RSS flat', async () => {
    const c = child('cycles', { port: 'net_null0', frames: 2048, cycles: 100 });
    const r = await c.waitFor('cycles', 300_000);
    expect((await c.exited).code).toBe(0);
    expect(r.bad).toEqual([]);
    expect(r.cycles).toBe(100);
    expect(r.openPorts).toBe(0);
    // From cycle 10 to cycle 100 (after a GC): under 64 MB. Each engine's memory is over 16 MB: 90 of
    // them kept alive (by a port, a signal listener, a callback) would be far more.
    expect(r.rss[1] - r.rss[0]).toBeLessThan(64 * 1024 * 1024);
  }, 320_000);
});

describe.runIf(dpdkBuilt)('wirewasm start --backend dpdk (net_null, no root)', () => {
  it('runs the engine on the port for --duration and prints its stats: frames received, the books closed', () => {
    const r = cli('start', '--backend', 'dpdk', '--dpdk-port', 'net_null0', '--dpdk-frames', '2048', '--workers', '1', '--duration', '1', '--json', '-q');
    expect(r.stderr).not.toMatch(/warning/);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(s.rx_packets).toBeGreaterThan(0);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    expect(s.pool.in_use).toBe(0);
  }, 90_000);

  it('Ctrl-C (SIGINT) stops the engine, which closes the port: stats printed, exit 0', async () => {
    const p = spawn(process.execPath, [artefact('dist/host/cli/main.js'), 'start', '--backend', 'dpdk', '--dpdk-port', 'net_null0', '--dpdk-frames', '2048', '--workers', '1', '--json', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    await new Promise((r) => setTimeout(r, 2500));
    p.kill('SIGINT');
    const code = await new Promise((r) => p.on('exit', (c) => r(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
    const s = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  }, 60_000);

  it('names the missing option or the bad value', () => {
    expect(cli('start', '--backend', 'dpdk', '-q').stderr).toMatch(/--backend dpdk needs --dpdk-port/);
    expect(cli('start', '--backend', 'dpdk', '--dpdk-port', 'net_null0', '--dpdk-mode', 'fast', '-q').stderr).toMatch(/--dpdk-mode: got "fast"; use busy or adaptive/);
    expect(cli('start', '--backend', 'afxdp', '-q').stderr).toMatch(/--backend: got "afxdp"/);
  });
});
