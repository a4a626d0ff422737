// What the live receive and transmit tests (tests/live/engine/) check once the engine stopped: a
// burst sent from the peer, the records or the forwarded frames seen, the engine's books closed.
import { expect } from 'vitest';
import { Engine, type EngineConfig, type EngineStats, type WorkerExit } from '../../host/engine/engine.js';

/** Lets the socket settle, sends, lets the last frames land, stops the engine and waits for the reader (if any). */
export async function sendThenStop(e: Engine, send: () => Promise<unknown>, reading: Promise<void> = Promise.resolve()): Promise<EngineStats> {
  await new Promise((r) => setTimeout(r, 200));
  await send();
  await new Promise((r) => setTimeout(r, 300));
  const s = await e.stop();
  await reading;
  return s;
}

/** The engine's books closed at stop: every packet received was delivered or counted dropped, none in flight, every frame back in the pool. */
export function expectAccounted(s: EngineStats): void {
  expect(s.in_flight).toBe(0);
  expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  expect(s.pool.in_use).toBe(0);
}

/** Datagrams 0..n-1 each seen once; nothing dropped, nothing in flight, every frame back in the pool, every worker used. */
export function expectEachOnce(seqs: number[], n: number, s: EngineStats): void {
  expect(seqs.length).toBe(n);
  expect(new Set(seqs).size).toBe(n);
  expect(Math.min(...seqs)).toBe(0);
  expect(Math.max(...seqs)).toBe(n - 1);
  expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  expect(s.dropped_total).toBe(0);
  expect(s.in_flight).toBe(0);
  expect(s.pool.in_use).toBe(0);
  expect(s.workers.every((w) => w.delivered > 0)).toBe(true);
}

/** The transmit tests: each of n forwarded frames arrived at the peer once and unchanged; every one sent, none dropped; the books closed. */
export function expectForwardedOnce(got: { seqs: number[]; bad: string[] }, n: number, s: EngineStats, warnings: string[]): void {
  expect(got.bad.slice(0, 3)).toEqual([]);
  expect(got.seqs.length).toBe(n);
  expect(new Set(got.seqs).size).toBe(n);
  expect(Math.max(...got.seqs)).toBe(n - 1);
  expect(s.delivered).toBeGreaterThanOrEqual(n);
  expect(s.tx_packets).toBe(s.delivered);
  expect(s.tx_dropped).toBe(0);
  expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
  expect(s.in_flight).toBe(0);
  expect(s.pool.in_use).toBe(0);
  expect(warnings).toEqual([]);
}

/**
 * Runs the memory engine over `frames` on 2 workers with the handler that kills its worker once
 * (fixtures/engine-die.mjs, armed by the flow whose frame has UDP source port 6666), reading every
 * record; returns the worker exits, the emitted lengths and the final stats.
 */
export async function runWithOneWorkerDeath(frames: Uint8Array[], config: Omit<EngineConfig, 'frames'> = {}): Promise<{ exits: WorkerExit[]; lengths: number[]; stats: EngineStats }> {
  const flag = new SharedArrayBuffer(4);
  const exits: WorkerExit[] = [];
  const engine = new Engine({ ...config, frames, workers: 2, handler: new URL('./fixtures/engine-die.mjs', import.meta.url).pathname, handlerArgs: { flag } });
  engine.on('worker-exit', (e) => exits.push(e));
  await engine.start();
  const lengths: number[] = [];
  for await (const b of engine.records()) lengths.push(...b.values);
  return { exits, lengths, stats: await engine.done };
}
