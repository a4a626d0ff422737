// Starts N worker_threads over one shared memory and one compiled engine module. A worker that
// throws, or exits before reporting, rejects the set's promise with its index and cause: a
// failure is an error the caller sees, never a hang.
import { Worker, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { artefact } from '../paths.js';
import type { EngineExports } from '../abi.js';

export interface WorkerInit {
  index: number;
  count: number;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** The engine's filter expression as a WASM module (host/filter), linked into the engine instance. */
  filter?: WebAssembly.Module;
  controlBlock: number;
  /** URL of an ES module whose default export runs in the worker: (ctx) => result. */
  task: string;
  args: unknown;
}

export interface WorkerContext {
  index: number;
  count: number;
  memory: WebAssembly.Memory;
  exports: EngineExports;
  controlBlock: number;
  args: unknown;
  port: MessagePort;
}

export class WorkerError extends Error {
  constructor(
    readonly index: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`worker ${index}: ${message}`, options);
    this.name = 'WorkerError';
  }
}

export interface WorkerSetOptions {
  count: number;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  controlBlock: number;
  task: string | URL;
  /** Per-worker arguments: one value for all, or a function of the worker index. */
  args?: unknown | ((index: number) => unknown);
  /** Messages a task posts with `port.postMessage` that are not its result. */
  onMessage?: (index: number, message: unknown) => void;
}

const workerScript = () => artefact('dist/host/workers/worker.js');

export class WorkerSet<T = unknown> {
  readonly workers: Worker[] = [];
  readonly done: Promise<T[]>;

  constructor(opts: WorkerSetOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError(`workers: got ${opts.count}; use a whole number >= 1`);
    const task = opts.task instanceof URL ? opts.task.href : opts.task.startsWith('file:') ? opts.task : pathToFileURL(opts.task).href;
    const runs: Promise<T>[] = [];
    for (let index = 0; index < opts.count; index++) {
      const args = typeof opts.args === 'function' ? (opts.args as (i: number) => unknown)(index) : opts.args;
      const init: WorkerInit = { index, count: opts.count, memory: opts.memory, module: opts.module, controlBlock: opts.controlBlock, task, args };
      const w = new Worker(workerScript(), { workerData: init });
      this.workers.push(w);
      runs.push(
        new Promise<T>((resolve, reject) => {
          let settled = false;
          w.on('message', (m: { type?: string; result?: T }) => {
            if (m && m.type === 'result') {
              settled = true;
              resolve(m.result as T);
            } else opts.onMessage?.(index, m);
          });
          w.on('error', (e) => {
            settled = true;
            reject(new WorkerError(index, `threw ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`, { cause: e }));
          });
          w.on('exit', (code) => {
            if (!settled) reject(new WorkerError(index, `exited with code ${code} before reporting a result`));
          });
        }),
      );
    }
    this.done = Promise.all(runs).catch(async (e) => {
      await this.terminate();
      throw e;
    });
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Runs `task` in `count` workers and resolves with their results in worker order. */
export function runWorkers<T>(opts: WorkerSetOptions): Promise<T[]> {
  return new WorkerSet<T>(opts).done;
}
