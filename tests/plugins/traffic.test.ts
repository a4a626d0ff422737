// Plugins under traffic in real worker_threads over one shared memory: a plugin that loops forever
// is caught by the watchdog, its worker terminated and replaced, the plugin quarantined per its
// policy, the burst in flight recovered; the other worker and the other plugins never stop.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { loadPlugin, PluginSupervisor, type WatchdogEvent } from '../../host/plugins/index.js';
import { compileEngine } from '../../host/wasm.js';
import { WorkerSet } from '../../host/workers/threads.js';
import { itch, makeTraffic, moldudp64, pluginWat, wat, type Frame } from '../support/plugins-fixtures.js';

const task = path.join(packageRoot, 'tests', 'support', 'fixtures', 'plugin-traffic-task.mjs');

/** Counts its packets in its memory at 0 and fails on the 50th. */
const every50 = (fail: string) =>
  `(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
   (if (i32.eq (i32.load (i32.const 0)) (i32.const 50)) (then ${fail})) (i32.const 0)`;
const FAILING: Record<string, string> = {
  trap: 'unreachable',
  oob: '(drop (i32.load (i32.const 0x7ffffff0)))',
  // memory growth to its maximum: one page per packet from the 50th on, unreachable when refused
  grow: '(i32.store (i32.const 0) (i32.const 49)) (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0)) (then unreachable))',
};
const REFUSED: [string, RegExp][] = [
  [pluginWat({ imports: '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))', onPacket: '(i32.const 0)' }), /forbidden import wasi_snapshot_preview1\.fd_write/],
  [pluginWat({}), /missing export "wirewasm_on_packet"/],
  [pluginWat({ marker: false, onPacket: '(i32.const 0)' }), /missing export "wirewasm_abi_v1"/],
  [pluginWat({ memory: '(memory (export "memory") 8)', onPacket: '(i32.const 0)' }), /memory has no maximum/],
];
const ROUNDS = 400;

describe('plugins under traffic in worker threads', () => {
  it('an endless loop costs one worker restart and quarantines the plugin; traps, out-of-bounds reads and memory growth quarantine theirs; plugins refused meanwhile; every frame is delivered or dropped per policy', async () => {
    // Worker 0's burst has 4 packets to port 7777, one of them carries 0xEE: the looping plugin
    // spins on it from its 1000th packet on. Worker 1 has no such packet.
    const market = (i: number): Frame => ({ payload: moldudp64(BigInt(i), [itch('A', 36, i), itch('E', 31, i)]), dstPort: 26400 });
    const burst0: Frame[] = Array.from({ length: 60 }, (_, i) => market(i));
    for (let i = 0; i < 4; i++) burst0.push({ payload: new Uint8Array([i === 2 ? 0xee : 1, 0, 0, 0]), dstPort: 7777 });
    const burst1: Frame[] = Array.from({ length: 64 }, (_, i) => market(100 + i));
    const t = makeTraffic([burst0, burst1], 2);

    const loop = pluginWat({
      onPacket: `(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (if (i32.and (i32.ge_u (i32.load (i32.const 0)) (i32.const 1000)) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xEE)))
          (then (loop $forever (br $forever))))
        (i32.const 0)`,
    });
    const plugins = [
      loadPlugin({ name: 'mold', path: path.join(packageRoot, 'dist', 'plugins', 'moldudp64.wasm'), route: { port: 26400 } }),
      loadPlugin({ name: 'loop', bytes: await wat(loop), route: { port: 7777 }, policy: 'closed' }),
      // Failing ones on every packet, fail-open: each fails on its 50th packet after a (re)start.
      ...(await Promise.all(
        Object.entries(FAILING).map(async ([name, fail]) =>
          loadPlugin({ name, bytes: await wat(pluginWat({ memory: '(memory (export "memory") 8 12)', onPacket: every50(fail) })), maxFailures: 3, backoffMs: 1 }),
        ),
      )),
    ];
    const sup = new PluginSupervisor(plugins, { workers: 2, budgetMs: 500 });
    const module = compileEngine();
    const args = { plugins: sup.workerArgs(), scratch: t.scratch, bursts: t.bursts, progress: t.progress, rounds: ROUNDS };
    const pools: WorkerSet[] = [];
    const events: WatchdogEvent[] = [];
    const replacements = new Map<number, Promise<void>>();
    // The engine's part on a timeout: start a replacement worker; it resumes at the burst in flight.
    sup.onTimeout = (ev) => {
      events.push(ev);
      replacements.set(ev.worker, launch(ev.worker));
    };
    const launch = (index: number): Promise<void> => {
      const pool = new WorkerSet({ count: 1, memory: t.memory, module, controlBlock: t.layout.controlBlock, task, args: { ...args, index } });
      pools.push(pool);
      sup.watch(index, pool.workers[0]);
      return pool.done.then(
        () => undefined,
        async (e) => {
          // Ended by the watchdog: the replacement's outcome is this worker's.
          for (let i = 0; i < 200 && !replacements.has(index); i++) await new Promise((r) => setTimeout(r, 10));
          const next = replacements.get(index);
          if (!next) throw e;
          replacements.delete(index);
          return next;
        },
      );
    };
    try {
      const running = Promise.all([launch(0), launch(1)]);
      // Plugins refused while the engine runs: refused before anything of them runs; traffic goes on.
      await new Promise((r) => setTimeout(r, 20));
      for (const [src, reason] of REFUSED) await expect(wat(src).then((bytes) => loadPlugin({ name: 'late', bytes }))).rejects.toThrow(reason);
      await running;
    } finally {
      sup.stop();
      await Promise.all(pools.map((p) => p.terminate()));
    }

    const u32 = new Uint32Array(t.memory.buffer, t.progress, 32);
    const [rounds0, pass0, drop0, records0] = u32.subarray(0, 4);
    const [rounds1, pass1, drop1, records1] = u32.subarray(16, 20);
    // The watchdog caught the loop once, in worker 0, on the burst it was given.
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ worker: 0, plugin: 'loop', metaList: t.bursts[0].metaList, count: 64 });
    expect(events[0].elapsedMs).toBeGreaterThan(500);
    // Every frame of every round was delivered or dropped: none lost, none twice.
    expect([rounds0, rounds1]).toEqual([ROUNDS, ROUNDS]);
    expect(pass0 + drop0).toBe(ROUNDS * 64);
    expect(pass1 + drop1).toBe(ROUNDS * 64);
    // Fail-closed: after the quarantine, and only then, worker 0's four port-7777 packets drop.
    const loopedAt = Math.floor(1000 / 4); // the round in which the plugin reached its 1000th packet
    expect(drop0).toBe(4 * (ROUNDS - loopedAt));
    expect(drop1).toBe(0);
    // The MoldUDP64 plugin parsed everything in both workers (2 messages a packet).
    expect(records1).toBe(ROUNDS * 64 * 2);
    expect(records0).toBe(ROUNDS * 60 * 2);
    const stats = Object.fromEntries(sup.stats().map((s) => [s.name, s]));
    expect(stats.loop).toMatchObject({ state: 'quarantined', timeouts: 1, traps: 0 });
    expect(stats.mold).toMatchObject({ state: 'running', traps: 0, timeouts: 0, errors: 0 });
    expect(stats.mold.packets).toBeGreaterThanOrEqual(ROUNDS * 124);
    // Each failing plugin: caught, counted by kind, restarted, quarantined after 3 failures.
    for (const [name, kind] of [['trap', 'unreachable'], ['oob', 'out-of-bounds'], ['grow', 'unreachable']] as const) {
      expect(stats[name].state).toBe('quarantined');
      expect(stats[name].trapKinds[kind]).toBeGreaterThanOrEqual(3);
      expect(stats[name].restarts).toBeGreaterThanOrEqual(2);
      expect(stats[name].timeouts).toBe(0);
    }
  });

  it('an idle worker is never taken for a looping one: the watchdog times busy bursts only', async () => {
    const t = makeTraffic([[{ payload: moldudp64(1n, [itch('A', 36)]) }]], 1);
    const plugin = loadPlugin({ name: 'mold', path: path.join(packageRoot, 'dist', 'plugins', 'moldudp64.wasm') });
    const sup = new PluginSupervisor([plugin], { workers: 1, budgetMs: 50 });
    const events: WatchdogEvent[] = [];
    sup.onTimeout = (ev) => events.push(ev);
    const pool = new WorkerSet({
      count: 1,
      memory: t.memory,
      module: compileEngine(),
      controlBlock: t.layout.controlBlock,
      task,
      args: { plugins: sup.workerArgs(), scratch: t.scratch, bursts: t.bursts, progress: t.progress, rounds: 20, index: 0, idleMs: 400 },
    });
    sup.watch(0, pool.workers[0]);
    try {
      await pool.done;
    } finally {
      sup.stop();
      await pool.terminate();
    }
    expect(events).toEqual([]);
    expect(new Uint32Array(t.memory.buffer, t.progress, 4)[0]).toBe(20);
    expect(sup.stats()[0]).toMatchObject({ state: 'running', packets: 20, timeouts: 0 });
  });
});
