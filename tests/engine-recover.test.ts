// A worker terminated from outside at random moments (most land inside its WASM burst, some in
// its handler) is restarted, and nothing it held is lost: after stop every frame is back in the
// pool and received = delivered + counted drops, exactly.
import { describe, expect, it } from 'vitest';
import { Engine, type EngineConfig, type EngineStats } from '../host/engine.js';
import { syntheticFrames } from '../host/engine/frames.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectAccounted(s: EngineStats) {
  expect(s.in_flight).toBe(0);
  expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  expect(s.pool.in_use).toBe(0);
}

/** Waits until worker i's thread exists and has completed bursts since `after`. */
async function running(e: Engine, i: number, after: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const b = e.stats().workers[i].bursts;
    if (e.workerThread(i) && b > after) return b;
    if (Date.now() > deadline) throw new Error(`worker ${i} did not come back within 20 s`);
    await sleep(2);
  }
}

async function killMany(config: EngineConfig, kills: number, seed: number) {
  let x = seed;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const engine = new Engine(config);
  const exits: { worker: number; restarted: boolean }[] = [];
  engine.on('worker-exit', (e) => exits.push(e));
  await engine.start();
  const reading = (async () => {
    for await (const b of engine.records()) void b;
  })();
  const seen = [0, 0];
  try {
    for (let k = 0; k < kills; k++) {
      const i = k % 2;
      seen[i] = await running(engine, i, seen[i]);
      await sleep(rand() * 8);
      await engine.workerThread(i)?.terminate();
      while (exits.length <= k) await sleep(1);
    }
    for (const i of [0, 1]) await running(engine, i, seen[i]);
  } finally {
    const stats = await engine.stop();
    await reading;
    expect(exits).toHaveLength(kills);
    expect(exits.every((e) => e.restarted)).toBe(true);
    expectAccounted(stats);
    expect(stats.delivered).toBeGreaterThan(0);
    return stats;
  }
}

describe('engine: a worker terminated mid-burst loses no frame', () => {
  it('2 workers, a queue each: 40 kills at random moments', async () => {
    const s = await killMany({ frames: syntheticFrames(2000, 64), workers: 2, replay: { loops: 0 }, handler: fixture('engine-count.mjs') }, 40, 1);
    expect(s.workers.reduce((n, w) => n + w.restarts, 0)).toBe(40);
  }, 120_000);

  it('2 workers on one queue (software RSS through the in rings), 40 kills', async () => {
    await killMany({ frames: syntheticFrames(2000, 64), workers: 2, queues: 1, frameCount: 1024, poolCache: 64, replay: { loops: 0 }, handler: fixture('engine-count.mjs') }, 40, 7);
  }, 120_000);
});
