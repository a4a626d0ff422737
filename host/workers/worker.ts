// The entry of every engine worker thread: instantiates the shared engine module over the shared
// memory, then runs the task module it was given and posts back the result. Runs as compiled
// JavaScript (tsx cannot start TypeScript workers on Node 20).
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateEngine, type FilterBurst } from '../wasm.js';
import type { WorkerContext, WorkerInit } from './threads.js';

const init = workerData as WorkerInit;
// The filter's instance shares the memory; the engine calls its burst export directly, wasm to wasm.
const filterBurst = init.filter && (new WebAssembly.Instance(init.filter, { env: { memory: init.memory } }).exports.filterBurst as FilterBurst);
const exports = instantiateEngine(init.module, init.memory, filterBurst);
const task = (await import(init.task)) as { default: (ctx: WorkerContext) => unknown };
if (typeof task.default !== 'function') throw new Error(`worker task ${init.task} has no default export function`);
const result = await task.default({
  index: init.index,
  count: init.count,
  memory: init.memory,
  exports,
  controlBlock: init.controlBlock,
  args: init.args,
  port: parentPort!,
});
parentPort!.postMessage({ type: 'result', result });
