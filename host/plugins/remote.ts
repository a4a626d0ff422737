// RemotePluginHost: the plugins of a single-threaded pipeline (live capture) run in a worker of
// their own, so that the watchdog can stop one that never returns. Each burst is one handshake
// over a SharedArrayBuffer (Atomics.notify / Atomics.wait with the budget as timeout); records come
// back on a MessageChannel drained synchronously. On a timeout the worker is terminated, the
// plugin quarantined, a new worker started, and the burst run again there (the quarantined plugin
// now gets its policy; records are posted per burst, so the killed run's records die with it and
// the rerun's arrive once; counters of plugins before it in the list count that burst twice).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { artefact } from '../paths.js';
import type { PluginRecord } from './host.js';
import type { LoadedPlugin } from './load.js';
import { PluginSupervisor, type PluginStats, type WatchdogEvent } from './supervisor.js';

/** Handshake words (Int32, in `ctl`): the main thread writes the request and bumps SEQ; the worker answers in DONE. */
export const CTL = { SEQ: 0, DONE: 1, LIST: 2, COUNT: 3, VERDICTS: 4, META_BASE: 5, DROPS: 6, STOP: 7, BYTES: 32 } as const;

export interface RemoteWorkerData {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  plugins: LoadedPlugin[];
  state: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  scratch: { offset: number; size: number };
  maxBurst: number;
  port: MessagePort;
}

export interface RemotePluginHostOptions {
  memory: WebAssembly.Memory;
  /** The compiled engine module (the worker instantiates it for pluginGather). */
  module: WebAssembly.Module;
  plugins: LoadedPlugin[];
  scratch: { offset: number; size: number };
  maxBurst?: number;
  budgetMs?: number;
}

export class RemotePluginHost {
  readonly supervisor: PluginSupervisor;
  private worker?: Worker;
  private port?: MessagePort;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL.BYTES));
  private seq = 0;
  private readonly records: PluginRecord[] = [];
  readonly timeouts: WatchdogEvent[] = [];

  constructor(private readonly o: RemotePluginHostOptions) {
    this.supervisor = new PluginSupervisor(o.plugins, { workers: 1, budgetMs: o.budgetMs });
  }

  /** Starts (or restarts) the worker; resolves once its PluginHost is built. */
  async start(): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.seq = 0;
    this.ctl.fill(0);
    const data: RemoteWorkerData = {
      memory: this.o.memory,
      module: this.o.module,
      plugins: this.o.plugins,
      state: this.supervisor.state.buffer,
      ctl: this.ctl.buffer as SharedArrayBuffer,
      scratch: this.o.scratch,
      maxBurst: this.o.maxBurst ?? 256,
      port: port2,
    };
    const w = new Worker(artefact('dist/host/plugins/remote-worker.js'), { workerData: data, transferList: [port2] });
    this.worker = w;
    // Instantiation runs plugin code too (start functions, wirewasm_init): the budget holds there.
    const f = this.supervisor.state.f64;
    const hb = this.supervisor.state.heartbeat(0);
    let stuck: WatchdogEvent | undefined;
    let seen = { seq: -1, since: 0 };
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`plugin worker exited with code ${code} before it was ready`)));
        timer = setInterval(() => {
          const t = performance.now();
          if (f[hb] === 0 || f[hb + 2] !== seen.seq) seen = { seq: f[hb + 2], since: t };
          else if (t - seen.since > this.supervisor.budgetMs) {
            stuck = this.supervisor.timedOut(0, t - seen.since);
            resolve();
          }
        }, Math.max(5, this.supervisor.budgetMs / 5));
      });
    } finally {
      clearInterval(timer);
    }
    if (stuck) {
      this.timeouts.push(stuck);
      this.worker = undefined;
      await w.terminate();
      return this.start();
    }
  }

  /**
   * Runs the plugins over `count` entries at `list` (metadata addresses, or frame indexes with
   * `metaBase`); writes a verdict byte per packet at `verdicts`; returns the number dropped.
   */
  async processBurst(list: number, count: number, verdicts: number, metaBase = 0): Promise<number> {
    if (!this.worker) await this.start();
    const c = this.ctl;
    c[CTL.LIST] = list;
    c[CTL.COUNT] = count;
    c[CTL.VERDICTS] = verdicts;
    c[CTL.META_BASE] = metaBase;
    const seq = ++this.seq;
    Atomics.store(c, CTL.SEQ, seq);
    Atomics.notify(c, CTL.SEQ);
    const budget = this.supervisor.budgetMs;
    const t0 = performance.now();
    for (;;) {
      const done = Atomics.load(c, CTL.DONE);
      if (done === seq) break;
      const left = budget - (performance.now() - t0);
      if (left <= 0) {
        // The worker is stuck in a plugin: end it, quarantine the plugin, run the burst again.
        const ev = this.supervisor.timedOut(0, performance.now() - t0);
        if (ev) this.timeouts.push(ev);
        const w = this.worker!;
        this.worker = undefined;
        this.drain();
        await w.terminate();
        if (!ev) throw new Error('plugin worker stopped answering outside any plugin');
        await this.start();
        return this.processBurst(list, count, verdicts, metaBase);
      }
      Atomics.wait(c, CTL.DONE, done, left);
    }
    this.drain();
    return c[CTL.DROPS];
  }

  private drain(): void {
    for (let m = this.port && receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port!)) this.records.push(...(m.message as PluginRecord[]));
  }

  takeRecords(): PluginRecord[] {
    return this.records.splice(0);
  }

  stats(): PluginStats[] {
    return this.supervisor.stats();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    Atomics.store(this.ctl, CTL.STOP, 1);
    Atomics.store(this.ctl, CTL.SEQ, ++this.seq);
    Atomics.notify(this.ctl, CTL.SEQ);
    await w.terminate();
    this.port?.close();
  }
}
