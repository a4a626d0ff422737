// Parser plugins inside the engine: real workers, the WASM pipeline, the engine's worker restart.
// Every test checks the frame invariant (received = delivered + counted drops, pool whole).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../host/engine/engine.js';
import { buildFrame } from '../../host/gen/frames.js';
import { packageRoot } from '../../host/paths.js';
import type { PluginRecord } from '../../host/plugins/index.js';
import { itch, moldudp64, pluginWat, wat } from '../support/plugins-fixtures.js';
import { expectAccounted } from '../support/delivery.js';

const mold = path.join(packageRoot, 'dist', 'plugins', 'moldudp64.wasm');
const handler = new URL('../support/fixtures/engine-flows.mjs', import.meta.url).pathname;

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const f = buildFrame({ src: '10.0.0.1', dst: '10.1.0.1', sport, dport, length: 42 + payload.length });
  f.set(payload, 42);
  return f;
}

async function run(engine: Engine) {
  await engine.start();
  const values: number[] = [];
  const records: PluginRecord[] = [];
  for await (const b of engine.records()) {
    values.push(...b.values);
    records.push(...b.plugins);
  }
  return { stats: await engine.done, values, records };
}

describe('engine with parser plugins', () => {
  it('routes by port, drops what a plugin drops (counted as "plugin"), and hands records to records()', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++)
      frames.push(i % 20 === 7 ? udp(9000 + (i % 50), 7777, new Uint8Array([1, 2, 3, 4])) : udp(4000 + (i % 50), 26400, moldudp64(BigInt(i), [itch('A', 36, i), itch('E', 31, i)])));
    const dropper = await wat(pluginWat({ onPacket: '(i32.const 1)' }));
    const engine = new Engine({
      frames,
      workers: 2,
      handler,
      plugins: [
        { path: mold, route: { port: 26400 } },
        { name: 'dropper', bytes: dropper, route: { port: 7777 } },
      ],
    });
    const { stats, values, records } = await run(engine);
    expectAccounted(stats);
    expect(stats.dropped.plugin).toBe(100);
    expect(stats.delivered).toBe(1900);
    expect(records).toHaveLength(3800);
    // The handler never saw a dropped frame (source ports 9000+). Its values travel the engine's
    // records ring, which can lose the last bursts' values at stop (an engine issue, reported).
    expect(values.length).toBeGreaterThan(0);
    expect(values.length).toBeLessThanOrEqual(1900);
    expect(values.every((v) => v % 65536 >= 4000 && v % 65536 < 9000)).toBe(true);
    expect(records.filter((r) => r.kind === 'A'.charCodeAt(0))).toHaveLength(1900);
    expect(records.every((r) => r.plugin === 'moldudp64' && r.metadata !== null)).toBe(true);
    const byName = Object.fromEntries(stats.plugins.map((p) => [p.name, p]));
    expect(byName.moldudp64).toMatchObject({ state: 'running', packets: 1900, records: 3800, traps: 0, timeouts: 0 });
    expect(byName.dropper).toMatchObject({ state: 'running', packets: 100, drops: 100 });
    expect(JSON.parse(JSON.stringify(stats)).plugins[0]).toMatchObject({ name: 'moldudp64', state: 'running' });
  });

  for (const [paced, policy] of [[true, 'closed'], [false, 'closed'], [true, 'open']] as const) {
    it(`an endless loop ${paced ? 'while replaying' : 'while the engine drains at stop'}: the watchdog ends the worker, the engine restarts it, the plugin is quarantined fail-${policy} and the hung burst is ${policy === 'open' ? 'delivered' : 'counted as plugin drops'}`, async () => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 4000; i++) frames.push(i % 10 === 3 ? udp(5000 + (i % 40), 7777, new Uint8Array([i === 1503 ? 0xee : 1, 0])) : udp(5000 + (i % 40), 26400, moldudp64(BigInt(i), [itch('D', 19, i)])));
      const loop = await wat(pluginWat({ onPacket: '(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xEE)) (then (loop $l (br $l)))) (i32.const 0)' }));
      const engine = new Engine({
        frames,
        workers: 2,
        handler,
        pluginBudgetMs: 300,
        // Paced: the replay still runs when the watchdog fires; unpaced: the engine is already draining.
        replay: paced ? { rate: 4000 } : {},
        plugins: [
          { path: mold, route: { port: 26400 } },
          { name: 'loop', bytes: loop, route: { port: 7777 }, policy },
        ],
      });
      const exits: { worker: number; restarted: boolean; recovered: number }[] = [];
      engine.on('worker-exit', (e) => exits.push(e));
      const { stats, values } = await run(engine);
      expectAccounted(stats);
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ restarted: true });
      expect(exits[0].recovered).toBeGreaterThan(0);
      const byName = Object.fromEntries(stats.plugins.map((p) => [p.name, p]));
      expect(byName.loop).toMatchObject({ state: 'quarantined', timeouts: 1 });
      expect(byName.moldudp64).toMatchObject({ state: 'running', traps: 0, timeouts: 0 });
      // The burst in the hung plugin is the replacement worker's first: no frame fails with the
      // dead worker. Fail-open passes every frame; fail-closed drops the loop plugin's from then on.
      expect(stats.dropped.handler_error).toBe(0);
      if (policy === 'open') expect({ delivered: stats.delivered, plugin: stats.dropped.plugin }).toEqual({ delivered: 4000, plugin: 0 });
      else {
        expect(stats.dropped.plugin).toBeGreaterThan(0);
        expect(stats.delivered + stats.dropped.plugin).toBe(4000);
      }
      // The handler's values of the burst before the one in flight can be lost with the dead worker
      // (the engine's own restart test shows the same); the frames themselves are all accounted.
      expect(values.length).toBeLessThanOrEqual(stats.delivered);
      expect(values.length).toBeGreaterThan(stats.delivered - 256);
    });

  }

  it('user counters survive a worker restart: they never go backwards and end at what the plugin counted', async () => {
    // counter_add(0, 1) per packet and counter_add(1, payload byte) per packet; a second plugin hangs
    // on one packet, so the watchdog ends that worker and the engine starts a replacement.
    const counter = await wat(
      pluginWat({
        imports: '(import "wirewasm" "counter_add" (func $add (param i32 i64)))',
        onPacket: '(call $add (i32.const 0) (i64.const 1)) (call $add (i32.const 1) (i64.extend_i32_u (i32.load8_u (local.get $ptr)))) (i32.const 0)',
      }),
    );
    const loop = await wat(pluginWat({ onPacket: '(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xEE)) (then (loop $l (br $l)))) (i32.const 0)' }));
    const frames = Array.from({ length: 4000 }, (_, i) => udp(5000 + (i % 40), 7777, new Uint8Array([i === 1503 ? 0xee : 1 + (i % 7), 0])));
    const engine = new Engine({
      frames,
      workers: 2,
      pluginBudgetMs: 300,
      replay: { rate: 4000 },
      plugins: [
        { name: 'counter', bytes: counter },
        { name: 'loop', bytes: loop, policy: 'open' },
      ],
    });
    const seen: number[] = [];
    const sample = () => seen.push(engine.stats().plugins[0].counters['0'] ?? 0);
    const exits: number[] = [];
    engine.on('worker-exit', (e) => {
      exits.push(e.worker);
      sample();
    });
    await engine.start();
    const timer = setInterval(sample, 20);
    for await (const _ of engine.records());
    clearInterval(timer);
    const stats = await engine.done;
    sample();
    expectAccounted(stats);
    expect(exits).toHaveLength(1);
    expect(seen.length).toBeGreaterThan(10);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    // Every packet the counting plugin took was counted once per time it took it (the hung burst
    // is taken again by the replacement worker): the totals equal its packet count.
    const c = stats.plugins[0];
    expect(c.packets).toBeGreaterThanOrEqual(4000);
    expect(c.counters['0']).toBe(c.packets);
    // The byte sum: every frame's first payload byte at least once.
    const bytes = frames.reduce((n, f) => n + f[42], 0);
    expect(c.counters['1']).toBeGreaterThanOrEqual(bytes);
    expect(c.counters['1'] - bytes).toBeLessThanOrEqual(0xee * (c.packets - 4000));
  });

  it('calls wirewasm_on_tick about every 100 ms in each worker', async () => {
    const ticker = await wat(
      pluginWat({
        onPacket: '(i32.const 0)',
        extra: '(func (export "wirewasm_on_tick") (param $now i64) (i64.store (i32.const 0) (local.get $now)) (call $emit (i32.const 0) (i32.const 8) (i32.const 9)))',
      }),
    );
    const frames = Array.from({ length: 300 }, (_, i) => udp(6000 + (i % 8), 1234, new Uint8Array(16)));
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const { stats, records } = await run(new Engine({ frames, workers: 2, replay: { rate: 500 }, plugins: [{ name: 'ticker', bytes: ticker }] }));
    expectAccounted(stats);
    const ticks = records.filter((r) => r.kind === 9);
    // 300 frames at 500/s: about 600 ms, so 4..7 ticks per worker.
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    expect(ticks.length).toBeLessThanOrEqual(16);
    const when = ticks.map((r) => new DataView(r.bytes.buffer).getBigInt64(0, true));
    expect(when.every((ns) => ns >= t0 && ns < t0 + 10_000_000_000n)).toBe(true);
  });

  it('a start function that never returns costs a worker restart, not the engine', async () => {
    const stuck = await wat(pluginWat({ onPacket: '(i32.const 0)', extra: '(func $spin (loop $l (br $l))) (start $spin)' }));
    const frames = Array.from({ length: 2000 }, (_, i) => udp(7000 + (i % 16), 1234, new Uint8Array(16)));
    const engine = new Engine({ frames, workers: 2, pluginBudgetMs: 200, replay: { rate: 4000 }, plugins: [{ name: 'stuck', bytes: stuck, policy: 'open' }] });
    const { stats } = await run(engine);
    expectAccounted(stats);
    expect(stats.delivered).toBe(2000);
    // Each worker instantiates it, so each may hang once before the quarantine is seen.
    expect(stats.plugins[0]).toMatchObject({ name: 'stuck', state: 'quarantined', packets: 0 });
    expect([1, 2]).toContain(stats.plugins[0].timeouts);
    expect(stats.workers.reduce((n, w) => n + w.restarts, 0)).toBe(stats.plugins[0].timeouts);
  });

  it('a refused plugin fails start() with its reason, before any worker runs', async () => {
    const bad = await wat(pluginWat({ imports: '(import "env" "seed" (func (result i32)))', onPacket: '(i32.const 0)' }));
    const engine = new Engine({ frames: [udp(1, 2, new Uint8Array(8))], plugins: [{ name: 'bad', bytes: bad }] });
    await expect(engine.start()).rejects.toThrow('plugin bad refused: forbidden import env.seed (function)');
  });
});
