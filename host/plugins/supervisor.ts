// PluginSupervisor: the main thread's half of the plugin host. It owns the shared plugin state,
// hands workers what they need to build their PluginHost, watches every worker's per-burst
// heartbeat, and sums the stats. A plugin that holds a worker past the budget (an endless loop
// cannot be interrupted from inside the thread) costs that worker: the supervisor terminates it,
// quarantines the plugin, and asks the engine to recover the burst's frames and start a new one.
import type { Worker } from 'node:worker_threads';
import type { LoadedPlugin } from './load.js';
import { COUNTER, now, PluginState, TRAP_KINDS, TRAP_SLOT, USER_COUNTERS, type PluginError, type TrapKind } from './state.js';

export interface PluginStats {
  name: string;
  state: 'running' | 'restarting' | 'quarantined';
  trusted: boolean;
  policy: 'open' | 'closed';
  packets: number;
  records: number;
  traps: number;
  timeouts: number;
  restarts: number;
  /** Negative (or reserved) verdicts the plugin returned. */
  errors: number;
  /** Packets it dropped, by verdict or by fail-closed policy. */
  drops: number;
  /** Packets routed to it that got its policy instead of a parse (restarting, quarantined, trapped). */
  bypassed: number;
  recordsLost: number;
  trapKinds: Record<TrapKind, number>;
  /** Its latest failure in any worker (a trap, wirewasm_init or wirewasm_input refusing), or null. */
  lastError: PluginError | null;
  /** Totals of wirewasm.counter_add by id (ids 0..15; the ones it used). */
  counters: Record<string, number>;
}

/** What the engine learns when the watchdog ends a worker. */
export interface WatchdogEvent {
  worker: number;
  plugin: string;
  /** How long the burst had been seen running (ms; at least the budget). */
  elapsedMs: number;
  /** The burst in flight: its metaList address and packet count, so the engine can recover the frames. */
  metaList: number;
  count: number;
  burst: number;
}

/** The part of PluginHostOptions that comes from the supervisor (plain data: postable to a worker). */
export interface PluginWorkerArgs {
  plugins: LoadedPlugin[];
  state: SharedArrayBuffer;
  workers: number;
}

export interface SupervisorOptions {
  workers: number;
  /** A burst that holds a worker longer than this is an endless loop (default 250 ms). */
  budgetMs?: number;
  /** How often the watchdog looks (default budget/5, at least 5 ms). */
  pollMs?: number;
  /** Called after the watchdog terminated a worker: recover the burst's frames, start a new worker, call watch() again. */
  onTimeout?: (event: WatchdogEvent) => void;
}

export class PluginSupervisor {
  readonly state: PluginState;
  readonly budgetMs: number;
  readonly events: WatchdogEvent[] = [];
  /** Called after the watchdog terminated a worker (settable after construction). */
  onTimeout: ((event: WatchdogEvent) => void) | undefined;
  private readonly watched = new Map<number, Worker>();
  /** Per worker: the busy burst sequence number last seen and since when (ms). */
  private readonly seen = new Map<number, { seq: number; since: number }>();
  private timer: NodeJS.Timeout | null = null;
  /** Per worker: the watchdog's last event, until the engine takes it on the worker's exit. */
  private readonly unclaimed = new Map<number, WatchdogEvent>();

  constructor(
    readonly plugins: LoadedPlugin[],
    private readonly opts: SupervisorOptions,
  ) {
    this.state = PluginState.create(plugins.length, opts.workers);
    this.budgetMs = opts.budgetMs ?? 250;
    this.onTimeout = opts.onTimeout;
  }

  /** What each worker passes (with its memory, engine, index and scratch) to new PluginHost(). */
  workerArgs(): PluginWorkerArgs {
    return { plugins: this.plugins, state: this.state.buffer, workers: this.opts.workers };
  }

  /** Watches a worker's heartbeat; call again with the replacement after a timeout. */
  watch(index: number, worker: Worker): void {
    const hb = this.state.heartbeat(index);
    this.state.f64.fill(0, hb, hb + 8);
    this.seen.delete(index);
    this.watched.set(index, worker);
    worker.once('exit', () => {
      if (this.watched.get(index) === worker) this.watched.delete(index);
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.opts.pollMs ?? Math.max(5, this.budgetMs / 5));
      this.timer.unref();
    }
  }

  unwatch(index: number): void {
    this.watched.delete(index);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watched.clear();
  }

  private check(): void {
    const f = this.state.f64;
    const t = now();
    for (const [index, worker] of this.watched) {
      const hb = this.state.heartbeat(index);
      const p = f[hb + 1] - 1;
      const seq = f[hb + 2];
      const last = this.seen.get(index);
      if (f[hb] === 0 || p < 0 || !last || last.seq !== seq) {
        this.seen.set(index, { seq, since: t });
        continue;
      }
      if (t - last.since <= this.budgetMs) continue;
      this.watched.delete(index);
      this.seen.delete(index);
      const event = this.timedOut(index, t - last.since)!;
      void worker.terminate().then(() => this.onTimeout?.(event));
    }
  }

  /**
   * Records that worker `index` overran its budget in the plugin its heartbeat names: quarantines
   * that plugin and counts the timeout. For callers that time bursts themselves (RemotePluginHost);
   * the caller ends the worker. Undefined when the worker was not inside a plugin.
   */
  timedOut(index: number, elapsedMs: number): WatchdogEvent | undefined {
    const f = this.state.f64;
    const hb = this.state.heartbeat(index);
    const p = f[hb + 1] - 1;
    if (p < 0) return undefined;
    const event: WatchdogEvent = { worker: index, plugin: this.plugins[p].name, elapsedMs, metaList: f[hb + 3], count: f[hb + 4], burst: f[hb + 2] };
    this.state.quarantine(p);
    f[this.state.plugin(p) + 2]++;
    f.fill(0, hb, hb + 8);
    this.events.push(event);
    this.unclaimed.set(index, event);
    return event;
  }

  /** The watchdog event that ended worker `index`, once (undefined when it died of something else). */
  takeTimeout(index: number): WatchdogEvent | undefined {
    const event = this.unclaimed.get(index);
    this.unclaimed.delete(index);
    return event;
  }

  stats(): PluginStats[] {
    const f = this.state.f64;
    return this.plugins.map((spec, p) => {
      const sum = (slot: number) => {
        let n = 0;
        for (let w = 0; w < this.opts.workers; w++) n += f[this.state.counters(p, w) + slot];
        return n;
      };
      let restarting = false;
      for (let w = 0; w < this.opts.workers; w++) if (f[this.state.counters(p, w) + COUNTER.state] === 1) restarting = true;
      const trapKinds = Object.fromEntries(TRAP_KINDS.map((k) => [k, sum(TRAP_SLOT[k])])) as Record<TrapKind, number>;
      const errorAt = (w: number) => f[this.state.counters(p, w) + COUNTER.lastErrorAt];
      let latest = -1;
      for (let w = 0; w < this.opts.workers; w++) if (errorAt(w) > 0 && (latest < 0 || errorAt(w) > errorAt(latest))) latest = w;
      return {
        name: spec.name,
        state: this.state.quarantined(p) ? 'quarantined' : restarting ? 'restarting' : 'running',
        trusted: spec.trusted,
        policy: spec.policy,
        packets: sum(COUNTER.packets),
        records: sum(COUNTER.records),
        traps: sum(COUNTER.traps),
        timeouts: f[this.state.plugin(p) + 2],
        restarts: sum(COUNTER.restarts),
        errors: sum(COUNTER.errors),
        drops: sum(COUNTER.drops),
        bypassed: sum(COUNTER.bypassed),
        recordsLost: sum(COUNTER.recordsLost),
        trapKinds,
        lastError: latest < 0 ? null : (this.state.readError(p, latest) ?? null),
        counters: Object.fromEntries(
          Array.from({ length: USER_COUNTERS }, (_, id) => [String(id), sum(COUNTER.user + id)]).filter(([, v]) => v !== 0),
        ),
      };
    });
  }
}
