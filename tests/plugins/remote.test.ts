// Plugins for a single-threaded pipeline (live capture): run in a worker of their own, one
// handshake per burst; an endless loop is cut at the budget, the plugin quarantined, the burst rerun.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { loadPlugin, RemotePluginHost } from '../../host/plugins/index.js';
import { compileEngine } from '../../host/wasm.js';
import { itch, makeTraffic, moldudp64, pluginWat, wat, type Frame } from '../support/plugins-fixtures.js';

describe('RemotePluginHost', () => {
  it('parses bursts in its worker; an endless loop costs the worker, not the caller; the burst is rerun with the plugin quarantined', async () => {
    const frames: Frame[] = Array.from({ length: 20 }, (_, i) => ({ payload: moldudp64(BigInt(i), [itch('A', 36, i)]), dstPort: 26400 }));
    frames.push({ payload: new Uint8Array([0xee]), dstPort: 7777 });
    const t = makeTraffic([frames], 1);
    // Loops on 0xEE from its 3rd packet on: the first two bursts pass.
    const loop = pluginWat({
      onPacket: `(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (if (i32.and (i32.ge_u (i32.load (i32.const 0)) (i32.const 3)) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xEE)))
          (then (loop $l (br $l))))
        (i32.const 0)`,
    });
    const host = new RemotePluginHost({
      memory: t.memory,
      module: compileEngine(),
      plugins: [
        loadPlugin({ name: 'mold', path: path.join(packageRoot, 'dist', 'plugins', 'moldudp64.wasm'), route: { port: 26400 } }),
        loadPlugin({ name: 'loop', bytes: await wat(loop), route: { port: 7777 }, policy: 'closed' }),
      ],
      scratch: t.scratch[0],
      budgetMs: 200,
    });
    const { metaList, verdicts, count } = t.bursts[0];
    try {
      const drops: number[] = [];
      for (let i = 0; i < 5; i++) drops.push(await host.processBurst(metaList, count, verdicts));
      // Bursts 1-2 pass; burst 3 loops: cut, rerun with the plugin quarantined fail-closed.
      expect(drops).toEqual([0, 0, 1, 1, 1]);
      expect(host.timeouts).toHaveLength(1);
      expect(host.timeouts[0]).toMatchObject({ plugin: 'loop', count });
      expect(host.timeouts[0].elapsedMs).toBeGreaterThanOrEqual(200);
      const recs = host.takeRecords();
      // 5 bursts × 20 messages, once each: burst 3's records from the killed worker died with it.
      expect(recs).toHaveLength(100);
      expect(recs.every((r) => r.plugin === 'mold' && r.kind === 65)).toBe(true);
      const stats = Object.fromEntries(host.stats().map((s) => [s.name, s]));
      expect(stats.loop).toMatchObject({ state: 'quarantined', timeouts: 1, bypassed: 3 });
      expect(stats.mold).toMatchObject({ state: 'running', traps: 0 });
    } finally {
      await host.close();
    }
  });

  it('a plugin whose start function never returns is cut at the budget while the worker starts', async () => {
    const t = makeTraffic([[{ payload: moldudp64(1n, [itch('A', 36)]), dstPort: 26400 }]], 1);
    const stuck = await wat(pluginWat({ onPacket: '(i32.const 0)', extra: '(func $spin (loop $l (br $l))) (start $spin)' }));
    const host = new RemotePluginHost({
      memory: t.memory,
      module: compileEngine(),
      plugins: [
        loadPlugin({ name: 'stuck', bytes: stuck }),
        loadPlugin({ name: 'mold', path: path.join(packageRoot, 'dist', 'plugins', 'moldudp64.wasm') }),
      ],
      scratch: t.scratch[0],
      budgetMs: 100,
    });
    try {
      await host.start();
      expect(await host.processBurst(t.bursts[0].metaList, 1, t.bursts[0].verdicts)).toBe(0);
      expect(host.timeouts.map((e) => e.plugin)).toEqual(['stuck']);
      expect(host.takeRecords()).toHaveLength(1);
      expect(Object.fromEntries(host.stats().map((s) => [s.name, s.state]))).toEqual({ stuck: 'quarantined', mold: 'running' });
    } finally {
      await host.close();
    }
  });
});
