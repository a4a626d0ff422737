/**
 * The engine: config -> memory map -> shared memory -> source -> workers.
 *
 * ```
 *   const engine = new Engine({ file: 'trace.pcap', workers: 2, handler: './count.mjs' });
 *   await engine.start();
 *   for await (const batch of engine.records()) { ... }   // optional: what handlers emit/keep
 *   const stats = await engine.done;                      // replay finished and drained
 *   // or: const stats = await engine.stop();
 * ```
 *
 * Every failure reaches the caller: start() rejects with the cause (bad config, unreadable capture,
 * a handler module that does not load); later failures are 'error' events (a worker that died and
 * could not be restarted) and make done/stop reject. Nothing waits forever: stop() gives workers
 * 10 s to drain, then terminates them and says which one hung.
 *
 * Frame accounting: every frame that enters is delivered or counted as dropped with its reason;
 * stop() checks that every frame is back in the pool (stats().pool.in_use === 0).
 *
 * This file is the life cycle (start, worker threads, death and restart, stop) and the public API;
 * each other job has its file beside it: setup.ts (config -> memory -> header, rings, pool, RSS,
 * shapers, replay sources), sources.ts (live sources and their pollSources loop), recover.ts (what
 * a dead worker held), records.ts (the records iterator), stats.ts, flow.ts (rules), config.ts.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { compileEngine } from '../wasm.js';
import { artefact } from '../paths.js';
import { RUN_STOP, SRC, WC, WS } from '../abi.js';
import type { Backend, LiveSource } from '../backends/index.js';
import type { WorkerInit } from '../workers/threads.js';
import type { EngineWorkerArgs } from '../workers/engine-worker.js';
import { PLUGIN_SCRATCH_PER_WORKER, type PluginRecord } from '../plugins/index.js';
import { resolveConfig, type EngineConfig, type ResolvedConfig } from './config.js';
import { FlowTables, type FlowRuleInput } from './flow.js';
import { clockBase, engineClock } from './clock.js';
import { DROP_REASONS, STATS_BLOCK, StatsReader, type EngineStats } from './stats.js';
import type { BurstLayout } from './burst.js';
import { isLiveBackend, liveTransmits, nicQueues, setupEngine, type EngineRuntime } from './setup.js';
import { closeLiveSource, flushTransmit, openLiveSource, SourcePoller, transmitAll } from './sources.js';
import { Recovery } from './recover.js';
import type { PublishSink, PublishStats } from '../publish/sink.js';
import { Records, type RecordBatch, type RecordsDrain, type RecordsRun } from './records.js';
import type { EngineEvents, WorkerExit } from './events.js';
export { EngineConfigError, type EngineConfig } from './config.js';
export { FlowRuleError, parseFlowRule, type FlowRule, type FlowRuleInput } from './flow.js';
export type { EngineStats } from './stats.js';
export type { RecordBatch, RecordsDrain, RecordsVisitor, RunsVisitor } from './records.js';
export { Burst } from './burst.js';
export type { EngineEvents, HandlerError, WorkerExit } from './events.js';

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export class Engine extends EventEmitter<EngineEvents> {
  readonly config: ResolvedConfig;
  private state: State = 'new';
  private rt?: EngineRuntime;
  private workers: (Worker | undefined)[] = [];
  private restarts: number[] = [];
  private ready: boolean[] = [];
  private exits: Promise<void>[] = [];
  private flow?: FlowTables;
  private startedAt = 0;
  private monitor?: NodeJS.Timeout;
  /** Tops refilled replay streams (a capture file read as it plays, host/engine/stream.ts) up. */
  private refiller?: NodeJS.Timeout;
  private failure?: Error;
  private finalStats?: EngineStats;
  private stopping?: Promise<EngineStats>;
  private resolveDone!: (s: EngineStats) => void;
  private rejectDone!: (e: Error) => void;
  /** The engine's clock (host/engine/clock.ts): ns since setup, shared by every thread. */
  private readonly clockBase = clockBase();
  private readonly nowNs = engineClock(this.clockBase);
  private affinity: (number[] | undefined)[] = [];
  private source?: LiveSource;
  private poller?: SourcePoller;
  private polling?: Promise<void>;
  private recovery?: Recovery;
  private recordsReader?: Records;
  private statsReader?: StatsReader;
  private sink?: PublishSink;
  private publishing?: Promise<PublishStats>;
  /** Resolves with the final stats when the replay has ended and drained (or stop() was called). */
  readonly done: Promise<EngineStats>;
  /** Problems reading the capture that did not stop the replay (a file cut short), and what a live source left behind at stop. */
  warnings: string[] = [];

  constructor(config: EngineConfig) {
    super();
    this.config = resolveConfig(config);
    this.done = new Promise<EngineStats>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through 'error' or stop(); never an unhandled rejection
  }

  /**
   * With config.publish: resolves with the sink's final counts once every record was published or
   * counted as dropped and the connection closed (after `done`). Undefined without publish.
   */
  get published(): Promise<PublishStats> | undefined {
    return this.publishing;
  }

  /** With config.publish: the sink (its live counters: `publisher.stats()`), once start() connected it. */
  get publisher(): PublishSink | undefined {
    return this.sink;
  }

  /** Where the frame pool lies in the shared memory (with afxdp, the UMEM) and its metadata records: set by start(). */
  get frameRegion(): { offset: number; size: number; frameSize: number; meta: number } | undefined {
    const layout = this.rt?.layout;
    return layout && { offset: layout.frames.offset, size: layout.frames.size, frameSize: this.config.frameSize, meta: layout.meta.offset };
  }

  /** The live backend while running (afpacket, afxdp, dpdk): its mode, rings and counters. */
  get backend(): Backend | undefined {
    return this.source?.backend;
  }

  /** A live interface as the source (afpacket, afxdp or a DPDK port), rather than a replay. */
  get isLive(): boolean {
    return isLiveBackend(this.config);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Builds the memory, loads the sources, starts the workers; resolves once every handler loaded. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`engine: start() called when ${this.state}; create a new Engine to run again`);
    this.state = 'starting';
    try {
      const rt = setupEngine(this.config, this.nowNs, nicQueues(this.config), (m) => this.warnings.push(m));
      this.rt = rt;
      this.recovery = new Recovery(rt);
      this.recordsReader = new Records(rt);
      // Connected before any worker runs: a server that cannot be reached fails start(), naming it.
      if (this.config.publish) this.sink = await (await import('../publish/sink.js')).PublishSink.open(this.config.publish);
      this.statsReader = new StatsReader(rt);
      const m = rt.map;
      this.flow = new FlowTables(rt.memory, { control: m.flowControl, tables: m.flowTables, maxRules: m.flowRules, limits: { workers: this.config.workers, classes: this.config.classes } }, () =>
        this.workers.map((wk, i) => {
          const state = rt.u32[(m.worker(i) + WC.STATE) >> 2];
          return wk && state !== WS.STOPPED && state !== 0 ? rt.u32[(m.worker(i) + WC.SEEN_GENERATION) >> 2] : undefined;
        }),
      );
      this.flow.installInitial(this.config.rules);
      if (rt.wasm.engineCheck(rt.ctx) !== 0) throw new Error('engine: header check failed');
      await Promise.all(Array.from({ length: this.config.workers }, (_, i) => this.spawn(i)));
      if (this.isLive) this.source = openLiveSource(rt, this.nowNs, (m) => this.warnings.push(m));
      this.startedAt = performance.now();
      if (this.failure) throw this.failure;
      this.state = 'running';
      if (this.sink) {
        const sink = this.sink;
        this.publishing = sink.run(this).finally(() => sink.close());
        this.publishing.catch(() => undefined);
      }
      if (this.source) {
        this.poller = new SourcePoller(rt, (m) => this.warnings.push(m));
        this.polling = this.poller.pollSources(this.source);
      }
      this.monitor = setInterval(() => this.watch(), 10);
      this.monitor.unref?.();
      const refills = rt.streams.flatMap((st, q) => (st.refill ? [{ refill: st.refill, src: m.source(q) }] : []));
      if (refills.length)
        this.refiller = setInterval(() => {
          try {
            for (const x of refills) x.refill.pump(rt.memory, x.src);
          } catch (e) {
            clearInterval(this.refiller);
            this.fail(e as Error);
          }
        }, 1);
    } catch (e) {
      this.state = 'failed';
      await this.sink?.close().catch(() => undefined);
      this.source?.backend.close();
      for (const st of this.rt?.streams ?? []) st.refill?.close();
      await this.teardownWorkers();
      throw e;
    }
  }

  private spawn(index: number): Promise<void> {
    const c = this.config;
    const rt = this.rt!;
    const layout = rt.layout;
    const m = rt.map;
    const block = m.worker(index);
    const burstLayout: BurstLayout = {
      metaBase: layout.meta.offset,
      framesBase: layout.frames.offset,
      frameSize: c.frameSize,
      list: block + m.w.burst,
      control: block,
      records: block + m.w.records,
      recordSlots: m.w.recordSlots,
      statsBlock: layout.statsAddress(c.queues + index),
      tx: block + m.w.tx,
      txSlots: c.burst,
      txQueues: c.queues,
    };
    const args: EngineWorkerArgs = {
      ctx: rt.ctx,
      poll: c.poll,
      paced: !!(c.replay.rate || c.replay.bitRate || c.replay.speed),
      burst: c.burst,
      layout: burstLayout,
      cache: m.cache(index),
      stopWord: rt.ctx + RUN_STOP,
      recordsRing: layout.ring('records').offset,
      recordsWakeNs: c.recordsWakeUs * 1000,
      handler: c.handler ? (c.handler.startsWith('file:') ? c.handler : pathToFileURL(c.handler).href) : undefined,
      handlerArgs: c.handlerArgs,
      cpu: c.cpus?.[index],
      clockBase: this.clockBase,
      plugins: rt.plugins && {
        ...rt.plugins.workerArgs(),
        scratch: { offset: rt.pluginScratch + index * PLUGIN_SCRATCH_PER_WORKER, size: PLUGIN_SCRATCH_PER_WORKER },
        maxBurst: c.burst,
      },
    };
    const init: WorkerInit = {
      index,
      count: c.workers,
      memory: rt.memory,
      module: compileEngine(),
      filter: rt.filter?.module,
      controlBlock: layout.controlBlock,
      task: pathToFileURL(artefact('dist/host/workers/engine-worker.js')).href,
      args,
    };
    const w = new Worker(artefact('dist/host/workers/worker.js'), { workerData: init });
    this.workers[index] = w;
    this.restarts[index] ??= 0;
    // The plugin watchdog ends this worker if a plugin holds it past the budget; onDeath restarts it.
    rt.plugins?.watch(index, w);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let finished = false;
      let error: Error | undefined;
      w.on('message', (msg: { type?: string; name?: string; message?: string; count?: number; affinity?: number[]; records?: PluginRecord[] }) => {
        if (msg?.type === 'ready') {
          ready = true;
          if (this.workers[index] === w) this.ready[index] = true;
          this.affinity[index] = msg.affinity;
          resolve();
        } else if (msg?.type === 'result') finished = true;
        else if (msg?.type === 'handler-error') this.emit('handler-error', { worker: index, name: msg.name ?? 'Error', message: msg.message ?? '', count: msg.count ?? 1 });
        else if (msg?.type === 'plugin-records') this.recordsReader!.takePlugin(msg.records ?? []);
      });
      w.on('error', (e) => {
        error = e instanceof Error ? e : new Error(String(e));
      });
      this.exits[index] = new Promise<void>((exited) => {
        w.on('exit', (code) => {
          if (this.workers[index] === w) {
            this.workers[index] = undefined;
            this.ready[index] = false;
          }
          if (!ready) {
            reject(new Error(`engine: worker ${index} failed to start: ${error?.message ?? `exited with code ${code}`}`, { cause: error }));
            exited();
            return;
          }
          if (!finished) this.onDeath(index, code, error);
          exited();
        });
      });
    });
  }

  /** A worker died without finishing: recover what it held and start another in its place. */
  private onDeath(index: number, code: number, error?: Error): void {
    // While starting (the others still load), running or stopping (the new one drains what the dead one left).
    const active = this.state === 'starting' || this.state === 'running' || this.state === 'stopping';
    const restart = this.config.restart && active;
    // Ended by the plugin watchdog: its replacement takes over the burst that was in the plugins.
    const hung = this.rt!.plugins?.takeTimeout(index) !== undefined;
    const recovered = this.recovery!.recover(index, hung && restart);
    // Records the dead worker published, or whose claim the recovery finished, may be owed a wake-up it will never send.
    this.recordsReader?.wake();
    const info: WorkerExit = { worker: index, code, error, recovered, restarted: restart };
    this.emit('worker-exit', info);
    if (restart) {
      this.restarts[index]++;
      this.spawn(index).catch((e) => this.fail(new Error(`engine: worker ${index} died and could not be restarted: ${(e as Error).message}`, { cause: e })));
      return;
    }
    // Not restarting: let the others finish without it.
    this.rt!.wasm.engineWorkerStop(this.rt!.ctx, index);
    if (active) this.fail(new Error(`engine: worker ${index} died (exit code ${code})${error ? `: ${error.message}` : ''} and restart is off`, { cause: error }));
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    if (this.listenerCount('error') > 0) this.emit('error', e);
    this.rejectDone(e);
    void this.stop().catch(() => undefined);
  }

  /** Finishes the claims dead workers left (records among them: their reader is woken, as the worker would have). */
  private settleClaims(): void {
    this.recovery!.settleClaims();
    this.recordsReader?.wake();
  }

  /** Ends the replay when every source is done. */
  private watch(): void {
    if (this.recovery!.pending) this.settleClaims();
    if (this.state !== 'running') return;
    const m = this.rt!.map;
    for (let q = 0; q < this.config.queues; q++) if (this.rt!.u32[(m.source(q) + SRC.DONE) >> 2] === 0) return;
    void this.stop().catch(() => undefined);
  }

  /**
   * Stops the sources, lets every worker drain the rings, waits for them (10 s at most each),
   * releases every frame still held and resolves with the final stats.
   */
  stop(): Promise<EngineStats> {
    if (this.stopping) return this.stopping;
    if (this.state === 'new') return Promise.reject(new Error('engine: stop() before start()'));
    this.stopping = (async () => {
      this.state = 'stopping';
      this.recordsReader?.wake();
      clearInterval(this.monitor);
      clearInterval(this.refiller);
      for (const st of this.rt?.streams ?? []) st.refill?.close();
      const rt = this.rt!;
      // A live source stops first, so nothing enters after the workers drain.
      if (this.poller) {
        this.poller.stop();
        await this.polling?.catch((e) => this.fail(e as Error));
      }
      const stopAt = (rt.ctx + RUN_STOP) >> 2;
      Atomics.store(rt.u32, stopAt, 1);
      Atomics.notify(new Int32Array(rt.memory.buffer), stopAt);
      // A live source: frames the workers forward while draining still go out, from here.
      const tx = liveTransmits(this.config) ? this.source : undefined;
      let pumping = Boolean(tx);
      const pump = (async () => {
        while (pumping) {
          transmitAll(tx!, this.config.queues);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const hung = await this.waitWorkers(10_000);
      pumping = false;
      await pump;
      if (tx) await flushTransmit(tx, this.config.queues, (m) => this.warnings.push(m));
      rt.plugins?.stop();
      if (hung.length) {
        await this.teardownWorkers();
        for (const i of hung) this.recovery!.recover(i);
      }
      this.recovery!.drainLeftovers();
      await this.recordsReader!.settle();
      this.recordsReader!.drain();
      rt.wasm.poolFlush(rt.ctx, rt.hostCache);
      if (this.source) closeLiveSource(this.source, this.config.queues, (m) => this.warnings.push(m));
      const stats = this.stats();
      this.finalStats = stats;
      this.state = 'stopped';
      this.recordsReader!.wake();
      this.emit('stopped', stats);
      if (hung.length) {
        const e = new Error(`engine: worker(s) ${hung.join(', ')} did not stop within 10 s (a handler that never returns?); terminated`);
        this.fail(e);
        throw e;
      }
      if (this.failure) throw this.failure;
      this.resolveDone(stats);
      return stats;
    })();
    return this.stopping;
  }

  private async waitWorkers(ms: number): Promise<number[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      // A worker restarting during stop gets spawned again by onDeath; wait for the current set.
      const alive = this.workers.map((w, i) => (w ? i : -1)).filter((i) => i >= 0);
      if (alive.length === 0) return [];
      const left = deadline - Date.now();
      if (this.recovery?.pending) this.settleClaims();
      if (left <= 0) return alive;
      await Promise.race([Promise.all(alive.map((i) => this.exits[i])), new Promise((r) => setTimeout(r, Math.min(left, 50)))]);
    }
  }

  private async teardownWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w?.terminate()));
    this.workers = [];
  }

  /**
   * What handlers emit() and keep(), in batches. Kept frames are Packet views valid until the loop
   * asks for the next batch; then they go back to the pool. Ends after the engine stopped.
   */
  async *records(): AsyncGenerator<RecordBatch> {
    if (this.state === 'new') throw new Error('engine: records() before start()');
    if (!this.recordsReader) return;
    yield* this.recordsReader.batches(this.run);
  }

  /**
   * The raw records drain (what the publish sink reads): `turns()` yields whenever records may be
   * there until the engine stopped, `takeBurst(visitor)` or `takeRuns(visitor)` then takes up to 256
   * of them with no object per record. One reader per engine: this or records().
   */
  recordsDrain(): RecordsDrain {
    const reader = this.recordsReader;
    if (!reader) throw new Error(`engine: recordsDrain() when ${this.state}; call it after start()`);
    return { turns: () => reader.turns(this.run), takeBurst: (v) => reader.takeBurst(v), takeRuns: (v) => reader.takeRuns(v), takePlugins: () => reader.takePlugins() };
  }

  /** Where the run stands, as the records readers look at it. */
  private get run(): RecordsRun {
    const engine = this;
    return {
      get state() {
        return engine.state;
      },
    };
  }

  /** Adds a flow-director rule while running (or before start); resolves with its id once in force. */
  addRule(rule: FlowRuleInput): Promise<number> {
    if (!this.flow) return Promise.reject(new Error('engine: add rules after start(), or pass them as config.rules'));
    return this.flow.add(rule);
  }

  /** Removes a rule; resolves once no worker can match it any more. */
  removeRule(id: number): Promise<boolean> {
    if (!this.flow) return Promise.reject(new Error('engine: no rules before start()'));
    return this.flow.remove(id);
  }

  /**
   * The thread running worker `index` now, once it reported ready (undefined while it starts or
   * restarts): for supervisors and tests that end a worker from outside (`terminate()`); the engine
   * recovers what it held and restarts it.
   */
  workerThread(index: number): Worker | undefined {
    return this.ready[index] ? this.workers[index] : undefined;
  }

  /** The CPUs each worker's thread may run on, as the kernel reports after pinning (config.cpus); undefined when not pinned. */
  workerAffinity(): (number[] | undefined)[] {
    return this.config.cpus ? [...this.affinity] : [];
  }

  rules(): { id: number; rule: FlowRuleInput }[] {
    return this.flow?.list() ?? [];
  }

  /** A snapshot of every counter (see EngineStats); rates are against the previous call. */
  stats(): EngineStats {
    if (this.finalStats) return this.finalStats;
    if (!this.statsReader) throw new Error('engine: stats() before start()');
    return this.statsReader.snapshot({
      restarts: this.restarts,
      hostRecordsDropped: this.recordsReader!.dropped,
      startedAt: this.startedAt,
      plugins: this.rt!.plugins?.stats() ?? [],
    });
  }

  /** Total frames the capture or frame list holds (× loops): the progress bar's 100%. */
  /**
   * The damage that ended the capture file's input, once met: the file, the record (1-based) and
   * its byte offset, and how many records before it were replayed. The run goes on with those.
   */
  get inputProblem(): string | undefined {
    return this.rt?.streams.find((s) => s.refill?.problem)?.refill?.problem;
  }

  get expectedPackets(): number | undefined {
    const { loops, count } = this.config.replay;
    if (loops === 0) return count;
    const all = (this.rt?.streams ?? []).reduce((s, x) => s + x.count, 0) * loops;
    // A file played through a refilled ring has no frame list: its count is not known ahead.
    return count === undefined ? all : all > 0 ? Math.min(all, count) : count;
  }

  /** The drop reasons the stats use. */
  static readonly dropReasons = DROP_REASONS;
  static readonly statsBlockBytes = STATS_BLOCK;
}
