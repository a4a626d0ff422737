// An engine worker: loops on enginePoll (one WASM call per burst: complete the last burst, replay,
// receive, parse, classify, dispatch, fill the next burst) and calls the user's handler once per
// burst. A handler that throws costs its burst (counted as handler_error) and nothing else.
// Stops when enginePoll reports that the engine drained (after the host set the stop word).
import { Burst, type BurstLayout } from '../engine/burst.js';
import { engineClock } from '../engine/clock.js';
import { dropSlot } from '../engine/stats.js';
import { PluginStage, type PluginStageArgs } from '../plugins/index.js';
import { ReaderWake } from '../engine/reader-wake.js';
import type { WorkerContext } from './threads.js';

export interface EngineWorkerArgs {
  ctx: number;
  poll: 'busy' | 'adaptive' | 'wait';
  /** The engine replays paced (replay.rate, bitRate or speed): an idle worker asks when the next record is due. */
  paced: boolean;
  burst: number;
  layout: BurstLayout;
  cache: number;
  stopWord: number;
  /** The records ring: this worker wakes its sleeping reader (ReaderWake), at most once per recordsWakeNs. */
  recordsRing: number;
  recordsWakeNs: number;
  handler?: string;
  handlerArgs?: unknown;
  /** The engine's clock base (host/engine/clock.ts). */
  clockBase: number;
  /** The CPU to pin this worker's thread to (sched_setaffinity), if any. */
  cpu?: number;
  /** Parser plugins: run on each burst before the handler (host/plugins/stage.ts). */
  plugins?: PluginStageArgs;
}


type Handler = (burst: Burst) => unknown;

/** A paced replay's wait shorter than this is spun: a futex sleep and wake-up cost a few µs of CPU themselves. */
const PACE_SPIN_NS = 5000;

export default async function engineWorker(c: WorkerContext): Promise<{ bursts: number; handlerErrors: number }> {
  const a = c.args as EngineWorkerArgs;
  const nowNs = engineClock(a.clockBase);
  const e = c.exports;
  let handler: Handler = () => undefined;
  let finish: ((info: { worker: number; workers: number }) => unknown) | undefined;
  if (a.handler) {
    const mod = (await import(a.handler)) as { default?: unknown; init?: (args: unknown, info: { worker: number; workers: number }) => unknown; finish?: unknown };
    if (typeof mod.default !== 'function') throw new Error(`handler ${a.handler} has no default export function; write: export default (burst) => { ... }`);
    if (typeof mod.init === 'function') await mod.init(a.handlerArgs, { worker: c.index, workers: c.count });
    handler = mod.default as Handler;
    if (typeof mod.finish === 'function') finish = mod.finish as typeof finish;
  }
  const burst = new Burst(c.memory, c.index, a.layout, a.burst);
  const sleeper = new Int32Array(c.memory.buffer);
  const stopAt = a.stopWord >> 2;
  const reader = new ReaderWake(sleeper, a.recordsRing, a.recordsWakeNs);
  let affinity: number[] | undefined;
  if (a.cpu !== undefined) {
    const { kernelAddon } = await import('../backends/kernel.js');
    kernelAddon().pinThread([a.cpu]);
    affinity = kernelAddon().threadAffinity();
  }
  e.engineWorkerStart(a.ctx, c.index);
  c.port.postMessage({ type: 'ready', affinity });
  // Plugins are instantiated after 'ready', under the watchdog: a start function that never
  // returns costs this worker (restarted, the plugin quarantined), not the engine's start.
  const stage = a.plugins
    ? new PluginStage({
        memory: c.memory,
        engine: c.exports,
        worker: c.index,
        args: a.plugins,
        release: (f) => e.frameRelease(a.ctx, a.cache, f),
        dropCounter: a.layout.statsBlock + dropSlot('plugin'),
        metaBase: a.layout.metaBase,
        port: c.port,
      })
    : undefined;
  const words = new Uint32Array(c.memory.buffer);
  const TICK_NS = 100e6;
  let lastTick = nowNs();

  let ok = 1;
  // A burst left by the worker this one replaces (its plugin hung; host/engine/recover.ts): run it
  // first, through the plugins and the handler, before the next poll completes it.
  let resumed = words[a.layout.control >> 2];
  let idle = 0;
  let bursts = 0;
  let handlerErrors = 0;
  let lastReport = 0;
  for (;;) {
    const t = nowNs();
    let n = resumed || e.enginePoll(a.ctx, c.index, t, ok) >>> 0;
    resumed = 0;
    if (n === 0xffffffff) break;
    reader.check(t);
    if (stage && t - lastTick >= TICK_NS) {
      lastTick = t;
      stage.tick(); // wirewasm_on_tick, every 100 ms
    }
    if (n > 0 && stage) {
      // Plugins first: the frames they drop leave the burst (released, counted as "plugin").
      const kept = stage.run(a.layout.list, n);
      if (kept !== n) words[a.layout.control >> 2] = kept; // WC_BURST_COUNT: what the next poll completes
      burst.pluginRecords = stage.records;
      n = kept;
      ok = 1;
      if (n === 0) continue;
    }
    if (n > 0) {
      idle = 0;
      bursts++;
      burst.length = n;
      try {
        const r = handler(burst);
        if (r !== undefined && typeof (r as Promise<unknown>)?.then === 'function') await r;
        ok = 1;
      } catch (err) {
        ok = 0;
        handlerErrors++;
        const now = Date.now();
        // Report the first error, then at most one a second: a handler failing on every burst must not flood the main thread.
        if (now - lastReport >= 1000) {
          lastReport = now;
          const x = err as Error;
          c.port.postMessage({ type: 'handler-error', name: x?.name ?? 'Error', message: x?.message ?? String(err), stack: x?.stack, count: handlerErrors });
        }
      }
      continue;
    }
    // An empty burst is not idleness when this worker's rx rings still hold frames (it ingests
    // for other workers: software RSS, one flow): sleeping here would cap the queue at a burst per ms.
    if (words[(a.layout.control + 28) >> 2] !== 0) {
      idle = 0;
      continue;
    }
    idle++;
    if (a.poll === 'busy') continue;
    if (a.poll === 'adaptive' && a.paced) {
      // A paced replay says when its next record is due: the worker sleeps until then instead of
      // spinning through the gap (at 100 k records/s a spinning worker takes a whole core for
      // nothing). The kernel wakes a timed sleep some 50 µs late at best, so a record may come out
      // that much after its due time; the shaper's bucket keeps the rate. A wait of over 1 ms is
      // slept 1 ms at a time, so a stop or a new stream is seen within 1 ms. A known wait is not
      // idleness: the back-off below starts again after it, so a wait too short to sleep is spun.
      const due = e.replayWaitNs(a.ctx, c.index, nowNs());
      if (due > 0) {
        idle = 0;
        if (due >= PACE_SPIN_NS) {
          const ms = Math.min(1, due / 1e6);
          reader.check(t, t + ms * 1e6);
          Atomics.wait(sleeper, stopAt, 0, ms);
        }
        continue;
      }
    }
    if (a.poll === 'adaptive' && idle < 64) continue;
    // Sleep on the stop word: stop() notifies it, so stopping never waits for a timeout.
    const ms = a.poll === 'wait' ? 1 : Math.min(1, 0.05 * 2 ** Math.min(5, (idle - 64) >> 4));
    reader.check(t, t + ms * 1e6);
    Atomics.wait(sleeper, stopAt, 0, ms);
  }
  e.poolFlush(a.ctx, a.cache);
  e.engineWorkerStop(a.ctx, c.index);
  reader.check(nowNs(), Infinity);
  // Once, after this worker's last burst: where a handler flushes what it gathered.
  if (finish) {
    try {
      await finish({ worker: c.index, workers: c.count });
    } catch (err) {
      const x = err as Error | undefined;
      c.port.postMessage({ type: 'handler-error', name: x?.name ?? 'Error', message: `finish(): ${x?.message ?? String(err)}`, stack: x?.stack, count: handlerErrors });
    }
  }
  return { bursts, handlerErrors };
}
